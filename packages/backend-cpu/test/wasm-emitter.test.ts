import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, compileKernels, FunctionBuilder, ModuleBuilder, printWat } from '@kiln/backend-cpu';
import { loop } from '@kiln/lower';

const { add, contiguous, load, mul, unary } = loop;

const W = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Memory: new (d: { initial: number }) => unknown } }).WebAssembly;

const Emitter = suite('wasm emitter');

Emitter('signed and unsigned LEB128 immediates round-trip through real wasm', () => {
  const m = new ModuleBuilder();
  const values = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, -8192, 2 ** 31 - 1, -(2 ** 31)];
  values.forEach((v, i) => {
    const f = new FunctionBuilder(`c${i}`, [], ['i32']);
    f.i32(v);
    m.addFunction(f, true);
  });
  const inst = new W.Instance(new W.Module(m.encode()), { env: { memory: new W.Memory({ initial: 1 }) } });
  values.forEach((v, i) => assert.is((inst.exports[`c${i}`] as () => number)(), v));
});

Emitter('unsigned LEB128 offsets and float constants round-trip through real wasm (one-byte fast path and its edges)', () => {
  const m = new ModuleBuilder();
  const offsets = [0, 1, 127, 128, 129, 16383, 16384, 65535 - 4];
  offsets.forEach((o, i) => {
    const f = new FunctionBuilder(`o${i}`, [], ['i32']);
    f.i32(0).mem('i32_load', o);
    m.addFunction(f, true);
  });
  const floats = [0, -0, 1.5, -2.75, 3.4028234663852886e38, 1e-45, Infinity, -Infinity, NaN];
  floats.forEach((v, i) => {
    const f = new FunctionBuilder(`f${i}`, [], ['f32']);
    f.f32(v);
    m.addFunction(f, true);
  });
  const memory = new W.Memory({ initial: 1 }) as { buffer: ArrayBuffer };
  const words = new DataView(memory.buffer);
  offsets.forEach((o, i) => words.setInt32(o, 1000 + i, true));
  const inst = new W.Instance(new W.Module(m.encode()), { env: { memory } });
  // each offset's word was written after the smaller offsets', so a wrongly encoded offset reads another
  offsets.forEach((o, i) => assert.is((inst.exports[`o${i}`] as () => number)(), words.getInt32(o, true), `offset ${o}`));
  floats.forEach((v, i) => assert.ok(Object.is((inst.exports[`f${i}`] as () => number)(), Math.fround(v)), `f32.const ${v}`));
  const bad = new FunctionBuilder('bad', [], []);
  for (const o of [-1, 1.5, 2 ** 32]) assert.throws(() => bad.mem('i32_load', o), /u32 out of range/);
});

Emitter('structured loops, locals and SIMD lanes compute what they say', () => {
  const m = new ModuleBuilder();
  // sum of i*i for i < n, with a v128 detour: splat, add lanes, extract lane 2
  const f = new FunctionBuilder('sumsq', ['i32'], ['i32']);
  const [n] = f.params as [{ index: number; type: 'i32' }];
  const i = f.local('i32'), s = f.local('i32');
  f.forRange(i, () => f.i32(0), n, 1, () => f.get(s).get(i).get(i).op('i32_mul', 'i32_add').set(s));
  f.get(s).simd('i32x4_splat').i32x4(1).simd('i32x4_add').lane('i32x4_extract_lane', 2);
  m.addFunction(f, true);
  const inst = new W.Instance(new W.Module(m.encode()), { env: { memory: new W.Memory({ initial: 1 }) } });
  assert.is((inst.exports.sumsq as (n: number) => number)(10), 286);
});

Emitter('names must be identifiers: generated code never embeds user strings', () => {
  const m = new ModuleBuilder();
  m.addFunction(new FunctionBuilder('bad name"', [], []), true);
  assert.throws(() => m.encode(), /not an identifier/);
});

Emitter('generated kernels are printable: hypot has a v128 loop and a scalar tail', () => {
  const a = load('a', contiguous([10])), b = load('b', contiguous([10]));
  const mod = compileKernels([{
    kind: 'pointwise', name: 'hypot', params: [], inputs: [{ name: 'a', dtype: 'float32' }, { name: 'b', dtype: 'float32' }],
    outputs: [{ name: 'out', dtype: 'float32' }], sizes: [10],
    stores: [{ buffer: 'out', access: contiguous([10]), value: unary('sqrt', add(mul(a, a), mul(b, b))) }],
  }], new Arena());
  const text = printWat(mod.wasm);
  assert.match(text, /^\(module\n  \(import "env" "memory" \(memory /);
  assert.match(text, /\n  \(func \$k0 \(export "k0"\) \(param /);
  assert.is(text.match(/v128\.load align=4/g)?.length, 2, 'two contiguous vector loads');
  assert.is(text.match(/v128\.load32_splat/g)?.length, 2, 'two scalar-tail loads');
  assert.is(text.match(/f32x4\.sqrt/g)?.length, 2, 'vector step and tail share one expression compiler');
  assert.not.match(text, /\?\?/, 'every emitted opcode decodes');
});

const Memory = suite('arena');

Memory('allocations are aligned, reused after release, and survive growth', () => {
  const arena = new Arena(65536);
  const a = arena.alloc(10);
  assert.is(a % 64, 0);
  (arena.view('float32', a, 2) as Float32Array).set([1.5, 2.5]);
  const big = arena.alloc(1 << 22); // forces memory.grow, which detaches old views
  assert.equal([...(arena.view('float32', a, 2) as Float32Array)], [1.5, 2.5]);
  const b = arena.alloc(100);
  arena.release(b);
  assert.is(arena.alloc(64), b, 'freed block reused');
  arena.release(big);
  assert.throws(() => arena.release(12345), /unknown pointer/);
});

Memory('released neighbours merge, so a repeated allocation pattern keeps a fixed footprint', () => {
  const arena = new Arena(65536);
  const round = () => {
    const blocks = [1000, 5000, 300, 70000, 64].map((n) => arena.alloc(n));
    for (const i of [1, 3, 0, 4, 2]) arena.release(blocks[i]!);
  };
  round();
  const bytes = arena.memory.buffer.byteLength;
  for (let i = 0; i < 50; i++) round();
  assert.is(arena.memory.buffer.byteLength, bytes);
  assert.is(arena.bytesInUse, 0);
  const a = arena.alloc(200000); // everything merged back into one region at the bottom
  assert.is(a, 64);
});

Emitter.run();
Memory.run();

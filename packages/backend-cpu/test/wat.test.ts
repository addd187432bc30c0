// The WAT printer (KILN_LOGS=output_code, the compile report): what it prints is real WebAssembly text. wabt
// assembles it, the assembled module validates and prints back to the same text (the same instructions), and
// its kernel computes what the original computes. Covered: pointwise, reductions with their math helpers
// (calls between functions), matmul, shared memory for threads, and f32 constants such as -0, inf and NaN.
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { lowerGraph } from '@kiln/lower';
import type { Kernel } from '@kiln/lower';
import { Arena, compileKernels, FunctionBuilder, ModuleBuilder, printWat } from '@kiln/backend-cpu';

type WabtModule = { toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
type Wabt = { parseWat(name: string, text: string, features: object): WabtModule };
const wabt = await (createRequire(import.meta.url)('wabt') as () => Promise<Wabt>)();
const W = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Memory: new (d: object) => unknown } }).WebAssembly;

function assemble(text: string): Uint8Array {
  const parsed = wabt.parseWat('kernel.wat', text, { simd: true, threads: true });
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

const kernelsOf = (fn: (...t: k.Tensor[]) => k.Tensor, inputs: k.Tensor[]): Kernel[] =>
  lowerGraph(traceOps(fn, inputs).coreGraph).steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));

const Wat = suite('WAT printer');

const cases: Record<string, () => Kernel[]> = {
  'pointwise with exp and erf': () => kernelsOf((x) => x.mul(2).exp().add(x.erf()), [k.randn([37])]),
  softmax: () => kernelsOf((x) => x.softmax(-1), [k.randn([8, 37])]),
  'matmul with a relu epilogue': () => kernelsOf((a, b) => a.matmul(b).relu(), [k.randn([9, 17]), k.randn([17, 5])]),
  'sum over rows and a strided view': () => kernelsOf((x) => x.transpose(0, 1).sum(1).sqrt(), [k.randn([6, 11])]),
};

for (const [name, make] of Object.entries(cases)) {
  for (const inlineMath of [true, false]) {
    Wat(`${name} (math ${inlineMath ? 'inline' : 'as functions'}): assembles, validates, prints back the same`, () => {
      const { wasm } = compileKernels(make(), new Arena(), { inlineMath });
      const text = printWat(wasm);
      assert.not.match(text, /\?\?/, 'every emitted opcode decodes');
      const again = assemble(text);
      assert.ok(W.validate(again), 'the assembled module validates');
      assert.is(printWat(again), text);
    });
  }
}

Wat('a shared memory (threads) prints its maximum and `shared`', () => {
  const m = new ModuleBuilder({ shared: { maximumPages: 1024 } });
  m.addFunction(new FunctionBuilder('noop', [], []), true);
  const text = printWat(m.encode());
  assert.match(text, /\(import "env" "memory" \(memory 1 1024 shared\)\)/);
  assert.is(printWat(assemble(text)), text);
});

Wat('f32 constants keep their exact bits through the text (the assembled module returns them): -0, inf, NaN payloads, subnormals', () => {
  const values = [-0, Infinity, -Infinity, 0.1, 3.4028234663852886e38, 1e-45];
  const m = new ModuleBuilder();
  values.forEach((v, i) => {
    const f = new FunctionBuilder(`c${i}`, [], ['i32']);
    f.f32(v).op('i32_reinterpret_f32');
    m.addFunction(f, true);
  });
  const nan = new FunctionBuilder('nan', [], ['i32']);
  nan.i32(0x7fc00123).op('f32_reinterpret_i32').op('i32_reinterpret_f32');
  m.addFunction(nan, true);
  const text = printWat(m.encode());
  assert.match(text, /f32\.const -0\n/);
  assert.match(text, /f32\.const -inf\n/);
  const inst = new W.Instance(new W.Module(assemble(text)), { env: { memory: new W.Memory({ initial: 1 }) } });
  const bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0]! | 0;
  values.forEach((v, i) => assert.is((inst.exports[`c${i}`] as () => number)(), bits(v), `constant ${v}`));
});

Wat('export names are escaped in the text; the notes (kernel names) never break a line', () => {
  const m = new ModuleBuilder();
  m.addFunction(new FunctionBuilder('k0', [], []), true);
  const text = printWat(m.encode(), { notes: new Map([['k0', 'kernel pointwise0\n(evil']]) });
  assert.match(text, /\(func \$k0 \(export "k0"\)  ;; kernel pointwise0 \(evil\n/);
  assert.is(printWat(assemble(text)), printWat(m.encode()));
});

Wat.run();

// Matmul kernels pack their operands into scratch memory. An arena keeps one scratch block per thread for
// every kernel of every module (Arena.scratch): a process that compiles many matmuls keeps a flat arena (a
// block per kernel was never given back: 640 KB per compiled matmul), and the kernels still compute what
// they computed alone, whatever order they run in and whichever needs the larger block.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile } from '@kiln/core';
import type { MatmulKernel } from '@kiln/lower';
import type { MatmulBlocking } from '@kiln/backend-cpu';
import { Arena, compileKernels, cpuArena, runOnArrays } from '@kiln/backend-cpu';
import { runReference } from './reference.js';
import { assertClose, randomArray } from './helpers.js';

const Scratch = suite('matmul scratch: one block per thread, shared by every kernel');
const f32 = 'float32' as const;
const SMALL: MatmulBlocking = { MR: 4, NR: 8, KC: 64, MC: 32, NC: 64 };
const LARGE: MatmulBlocking = { MR: 4, NR: 8, KC: 256, MC: 128, NC: 512 };

/** C = A @ B, all row-major. */
const matmulKernel = (m: number, n: number, depth: number): MatmulKernel => ({
  kind: 'extern', op: 'matmul', name: 'mm', params: [], inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }],
  outputs: [{ name: 'c', dtype: f32 }], batch: [], m, n, k: depth,
  a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: depth, colStride: 1 },
  b: { buffer: 'b', offset: 0, batchStrides: [], rowStride: n, colStride: 1 },
  out: 'c',
});
const scratchBytesOf = (b: MatmulBlocking) => 4 * (Math.ceil(b.MC / b.MR) * b.MR * b.KC + b.KC * Math.ceil(b.NC / b.NR) * b.NR + b.MR * b.NR);

/** Runs `kernel` (compiled on `arena`) on fresh inputs and checks it against the reference. */
function check(arena: Arena, m: number, n: number, depth: number, blocking: MatmulBlocking, what: string): void {
  const kernel = matmulKernel(m, n, depth);
  const compiled = compileKernels([kernel], arena, { matmulBlocking: blocking }).kernels.get('mm')!;
  const a = randomArray(f32, m * depth), b = randomArray(f32, depth * n);
  const got = new Float32Array(m * n), want = new Float32Array(m * n);
  runOnArrays(compiled, arena, { inputs: { a, b }, outputs: { c: got }, params: {} });
  runReference(kernel, { buffers: { a, b, c: want }, params: {} });
  assertClose(got, want, 1e-4, 1e-4 * Math.sqrt(depth), what);
}

Scratch('twelve matmul kernels on one arena hold one scratch block between them', () => {
  const arena = new Arena();
  for (let i = 0; i < 12; i++) check(arena, 40 + i, 24 + 2 * i, 33 + i, LARGE, `kernel ${i}`);
  // Between calls the arena holds nothing but the scratch block (run-on-arrays frees its buffers).
  assert.is(arena.bytesInUse, Math.ceil(scratchBytesOf(LARGE) / 64) * 64);
});

Scratch('a kernel that needs a larger block replaces the smaller one, and both kernels stay right in any order', () => {
  const arena = new Arena();
  check(arena, 70, 90, 130, SMALL, 'small blocking first');
  assert.is(arena.bytesInUse, Math.ceil(scratchBytesOf(SMALL) / 64) * 64);
  check(arena, 70, 90, 130, LARGE, 'then large');
  assert.is(arena.bytesInUse, Math.ceil(scratchBytesOf(LARGE) / 64) * 64, 'the smaller block was not given back');
  check(arena, 70, 90, 130, SMALL, 'small again, in the large block');
  assert.is(arena.bytesInUse, Math.ceil(scratchBytesOf(LARGE) / 64) * 64);
});

Scratch('split matmuls: each thread packs into its own block, and the result matches one thread', async () => {
  const arena = new Arena(1 << 20, { threads: 2 });
  const pool = arena.threads!;
  pool.adaptive = false; // split every call large enough
  // 256 × 256 × 128 = 8M multiply-adds: past THREADING_MIN_MACS, so the call is split between two threads
  const kernel = matmulKernel(256, 256, 128);
  const compiled = compileKernels([kernel], arena).kernels.get('mm')!;
  const a = randomArray(f32, 256 * 128), b = randomArray(f32, 128 * 256);
  const want = new Float32Array(256 * 256);
  runReference(kernel, { buffers: { a, b, c: want }, params: {} });
  const run = () => {
    const got = new Float32Array(256 * 256);
    runOnArrays(compiled, arena, { inputs: { a, b }, outputs: { c: got }, params: {} });
    assertClose(got, want, 1e-4, 1e-3, 'split 256×256×128');
  };
  try {
    run(); // starts the worker, which boots in the background
    for (let i = 0; i < 500 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(pool.ready, 1, 'the worker started');
    run();
    const one = Math.ceil(compiled.signature.scratchBytes / 64) * 64;
    assert.is(arena.bytesInUse, 2 * one, 'two threads, one block each');
  } finally {
    await pool.close();
  }
});

Scratch('compiling ten matmul functions in a process leaves the CPU arena as it was after the first', () => {
  const a = k.randn([32, 32]), b = k.randn([32, 32]);
  const run = (i: number) => {
    const f = new Function('a', 'b', `return a.matmul(b).add(${i});`) as (a: Tensor, b: Tensor) => Tensor;
    const out = compile(f)(a, b);
    assertClose(out.toTypedArray() as Float32Array, f(a, b).toTypedArray() as Float32Array, 1e-5, 1e-5, `function ${i}`);
  };
  run(0);
  const arena = cpuArena();
  const before = arena.bytesInUse;
  for (let i = 1; i <= 10; i++) run(i);
  // A block per kernel: 10 × 640 KB more.
  assert.ok(arena.bytesInUse - before < 256 * 1024, `the arena holds ${((arena.bytesInUse - before) / 2 ** 20).toFixed(2)} MB more after ten more compiled matmuls`);
});

Scratch.run();

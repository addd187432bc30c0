// Matmuls split across worker threads on a shared arena give the same results as one thread.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type MatmulKernel, loop } from '@kiln/lower';
import { Arena, compileKernels, runOnArrays } from '@kiln/backend-cpu';
import { runReference } from './reference.js';
import { assertClose, randomArray } from './helpers.js';

const { acc, add, load, unary } = loop;

const f32 = 'float32' as const;

function kernel(batch: number[], m: number, n: number, k: number, withEpilogue: boolean): MatmulKernel {
  const bs = (s: number) => (batch.length ? [s] : []);
  return {
    kind: 'extern', op: 'matmul', name: 'tmm', params: [],
    inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }, ...(withEpilogue ? [{ name: 'bias', dtype: f32 } as const] : [])],
    outputs: [{ name: 'c', dtype: f32 }], batch, m, n, k,
    a: { buffer: 'a', offset: 0, batchStrides: bs(m * k), rowStride: k, colStride: 1 },
    b: { buffer: 'b', offset: 0, batchStrides: bs(0), rowStride: 1, colStride: k }, // b stored transposed
    out: 'c',
    ...(withEpilogue ? { epilogue: unary('relu', add(acc(0), load('bias', { offset: 0, strides: [...bs(0), 0, 1] }))) } : {}),
  };
}

const Threads = suite('threads');

Threads('column-split matmuls match the reference; small ones stay on the calling thread', async () => {
  const arena = new Arena(1 << 20, { threads: 2 });
  const pool = arena.threads!;
  for (let i = 0; i < 200 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(pool.ready, 1, 'the worker started');
  const cases: [number[], number, number, number, boolean][] = [
    [[], 256, 256, 256, false], [[], 200, 264, 300, true], [[2], 130, 136, 260, true], [[], 256, 256, 0, true], [[], 8, 8, 8, false],
  ];
  for (const [batch, m, n, k, epi] of cases) {
    const before = pool.stats.sentToWorkers;
    const kern = kernel(batch, m, n, k, epi);
    const B = batch.reduce((x, y) => x * y, 1);
    const inputs = { a: randomArray(f32, B * m * k), b: randomArray(f32, k * n), ...(epi ? { bias: randomArray(f32, n) } : {}) };
    const got = new Float32Array(B * m * n), want = new Float32Array(B * m * n);
    runOnArrays(compileKernels([kern], arena).kernels.get('tmm')!, arena, { inputs, outputs: { c: got } });
    runReference(kern, { buffers: { ...inputs, c: want }, params: {} });
    assertClose(got, want, 1e-4, 1e-4, `${batch} ${m}x${n}x${k}`);
    const threaded = B * m * n * k >= 1 << 22;
    assert.is(pool.stats.sentToWorkers - before, threaded ? 1 : 0, `${m}x${n}x${k} threaded: ${threaded}`);
  }
  await pool.close();
});

Threads.run();

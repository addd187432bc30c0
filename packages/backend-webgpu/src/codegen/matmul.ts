// Matmul with shared-memory tiles and register blocking: a 16×16 workgroup computes a 64×64 output tile,
// each invocation a 4×4 block held in registers. Per step of 16 along k, the workgroup stages a 64×16 tile
// of A and a 16×64 tile of B in workgroup memory (4 loads per invocation each), then every invocation does
// 16 rank-1 updates of its block. Out-of-range rows/columns load zeros, so edges need no special kernel.
// The epilogue (bias, activation) is applied to each element as it is stored.
import type { MatmulKernel, MatrixOperand } from '@kiln/lower';
import { sizeMul, sizeProduct } from '@kiln/lower';
import { ShaderFrame, storeLine, type WgslKernel, type ShaderOptions } from './shader.js';
import { ValueWriter, wgslType } from './values.js';
import { addressText } from './address.js';

const TILE = 64;
const BLOCK = 4;
const KSTEP = 16;
/** The direct kernel's workgroup side: 8×8 invocations, a 32×32 output tile. */
const DIRECT_SIDE = 8;

export function matmulShader(kernel: MatmulKernel, options: ShaderOptions = {}): WgslKernel {
  const frame = new ShaderFrame(kernel, options);
  const t = frame.decls.get(kernel.a.buffer)!.dtype;
  const type = wgslType(t, kernel.name);
  const zero = type === 'f32' ? '0.0' : '0';
  const batch = kernel.batch.map((_, k) => `bt${k}`);
  const [m, n, kk] = [frame.size(kernel.m), frame.size(kernel.n), frame.size(kernel.k)];
  const operand = (op: MatrixOperand, row: string, col: string) => {
    const base = addressText(frame, { offset: op.offset, strides: op.batchStrides }, batch);
    return `${frame.buffer(op.buffer).id}[${base} + ${frame.size(op.rowStride)} * ${row} + ${frame.size(op.colStride)} * ${col}]`;
  };
  const indices = [...batch, 'row', 'col'];
  const w = new ValueWriter({ kernel: kernel.name, buffers: frame.decls, accs: [t] }, frame, frame.prelude, {
    address: (a) => addressText(frame, a, indices),
    index: (k) => indices[k]!,
    acc: () => 'c[bi][bj]',
  });
  const value = kernel.epilogue ? w.value(kernel.epilogue) : 'c[bi][bj]';
  const outIndex = `((bflat * ${m} + row) * ${n} + col)`;
  const direct = options.software === true;
  // Invocation (lr, lc)'s block: rows tr + lr + S*bi, columns tc + lc + S*bj, S the workgroup's side.
  const side = direct ? DIRECT_SIDE : 16;
  const tile = side * BLOCK;
  const head = [
    `let bflat = i32(wg.z);`,
    ...frame.decompose('bflat', kernel.batch, batch, 'b'),
    `let tr = i32(wg.y) * ${tile};`,
    `let tc = i32(wg.x) * ${tile};`,
    `let lr = i32(lid.y);`,
    `let lc = i32(lid.x);`,
    `var c: array<array<${type}, ${BLOCK}>, ${BLOCK}>;`,
  ];
  const update = (a: (q: string) => string, b: (q: string) => string) => [
    `var ra: array<${type}, ${BLOCK}>;`,
    `var rb: array<${type}, ${BLOCK}>;`,
    `for (var q = 0; q < ${BLOCK}; q = q + 1) {`,
    `  ra[q] = ${a('q')};`,
    `  rb[q] = ${b('q')};`,
    `}`,
    `for (var bi = 0; bi < ${BLOCK}; bi = bi + 1) {`,
    `  for (var bj = 0; bj < ${BLOCK}; bj = bj + 1) { c[bi][bj] = c[bi][bj] + ra[bi] * rb[bj]; }`,
    `}`,
  ];
  const inner = direct
    ? [
        // No workgroup memory and no barriers: each invocation reads its rows of A and columns of B where
        // they are. Rows and columns past the edge read the last one (never stored), so loads need no branch.
        `let mlast = max(${m} - 1, 0);`,
        `let nlast = max(${n} - 1, 0);`,
        `for (var p = 0; p < ${kk}; p = p + 1) {`,
        ...update((q) => operand(kernel.a, `min(tr + lr + ${side} * ${q}, mlast)`, 'p'), (q) => operand(kernel.b, 'p', `min(tc + lc + ${side} * ${q}, nlast)`)).map((l) => `  ${l}`),
        `}`,
      ]
    : [
        `for (var k0 = 0; k0 < ${kk}; k0 = k0 + ${KSTEP}) {`,
        // A tile 64×16: invocation (lr, lc) loads rows lr + 16q, column lc; B tile 16×64: row lr, columns lc + 16q.
        `  for (var q = 0; q < ${BLOCK}; q = q + 1) {`,
        `    let ar = tr + lr + 16 * q;`,
        `    let ak = k0 + lc;`,
        `    var av: ${type} = ${zero};`,
        `    if (ar < ${m} && ak < ${kk}) { av = ${operand(kernel.a, 'ar', 'ak')}; }`,
        `    ta[(lr + 16 * q) * ${KSTEP} + lc] = av;`,
        `    let bk = k0 + lr;`,
        `    let bc = tc + lc + 16 * q;`,
        `    var bv: ${type} = ${zero};`,
        `    if (bk < ${kk} && bc < ${n}) { bv = ${operand(kernel.b, 'bk', 'bc')}; }`,
        `    tb[lr * ${TILE} + lc + 16 * q] = bv;`,
        `  }`,
        `  workgroupBarrier();`,
        `  for (var p = 0; p < ${KSTEP}; p = p + 1) {`,
        ...update((q) => `ta[(lr + 16 * ${q}) * ${KSTEP} + p]`, (q) => `tb[p * ${TILE} + lc + 16 * ${q}]`).map((l) => `    ${l}`),
        `  }`,
        `  workgroupBarrier();`,
        `}`,
      ];
  const body = [
    ...head,
    ...inner,
    `for (var bi = 0; bi < ${BLOCK}; bi = bi + 1) {`,
    `  for (var bj = 0; bj < ${BLOCK}; bj = bj + 1) {`,
    `    let row = tr + lr + ${side} * bi;`,
    `    let col = tc + lc + ${side} * bj;`,
    `    if (row < ${m} && col < ${n}) {`,
    ...[...w.lines, storeLine(frame, kernel.out, outIndex, value)].map((l) => `      ${l}`),
    `    }`,
    `  }`,
    `}`,
  ];
  const shared = direct ? [] : [`var<workgroup> ta: array<${type}, ${TILE * KSTEP}>;`, `var<workgroup> tb: array<${type}, ${KSTEP * TILE}>;`];
  const tiles = (e: typeof kernel.m) => (typeof e === 'number' ? Math.ceil(e / tile) : ({ op: 'floordiv', a: { op: 'add', a: e, b: tile - 1 }, b: tile } as const));
  // Workgroups are laid out (column tiles, row tiles, batches); `workgroups` is their product for the runner.
  const code = frame.finish(body, `${side}, ${side}`, shared);
  return { ...frame.result(code, sizeMul(tiles(kernel.m), tiles(kernel.n)), sizeProduct(kernel.batch)), grid: [tiles(kernel.n), tiles(kernel.m)] };
}

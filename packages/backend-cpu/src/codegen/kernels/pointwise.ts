// Pointwise kernels: a loop nest over the output space, the innermost axis stepped four elements at a time
// in f32x4/i32x4 with a scalar tail. Accesses with unit or zero inner stride load directly; others gather.
import type { PointwiseKernel } from '@kiln/lower';
import { sizeProduct, someNode } from '@kiln/lower';
import type { MathLibrary } from '../math/library.js';
import type { FunctionBuilder } from '../wasm/function.js';
import { RowAddressing } from './addressing.js';
import { ExprEmitter, type LaneMode } from './expr.js';
import { kernelFrame, type KernelSignature } from './frame.js';
import { collectAccesses, emitNest, emitVectorLoop, mapAccesses, simplifyAxes, usesIndex } from './loops.js';

export function emitPointwise(
  k: PointwiseKernel,
  exportName: string,
  math: MathLibrary,
  { splittable = true } = {},
): { f: FunctionBuilder; signature: KernelSignature } {
  // A kernel that loads its own output (cumsum's step) depends on its axis order: never merge or drop axes,
  // nor split its outermost (the scan) axis between threads.
  const recurrence = k.stores.some((s) => someNode(s.value, (e) => e.kind === 'load' && k.outputs.some((o) => o.name === e.buffer)));
  const split = splittable && !recurrence && k.sizes.length > 0;
  const { frame, env, signature, extra } = kernelFrame(k, exportName, false, split ? 2 : 0);
  const range = split ? { begin: extra[0]!, end: extra[1]! } : undefined;
  const { f, params } = frame;
  let sizes = [...k.sizes];
  let stores = k.stores;
  if (!recurrence && !stores.some((s) => usesIndex(s.value))) {
    const accesses = stores.flatMap((s) => [s.access, ...collectAccesses(s.value)]);
    const simple = simplifyAxes(sizes, accesses);
    const memo = new Map();
    sizes = simple.sizes;
    stores = stores.map((s) => ({
      buffer: s.buffer,
      access: simple.rewrite(s.access),
      value: mapAccesses(s.value, simple.rewrite, memo),
    }));
  }
  const exprs = new ExprEmitter(f, math, env, stores.map((s) => s.value));
  const outerSizes = sizes.slice(0, -1);
  emitNest(f, outerSizes, params, (indices) => {
    const j = sizes.length > 0 ? f.local('i32') : null;
    const row = new RowAddressing(frame, indices, j);
    row.prepare(stores.map((s) => s.value), stores);
    const body = (mode: LaneMode) => () => {
      exprs.resetMemo();
      for (const s of stores) {
        exprs.emit(s.value, row, mode);
        row.store(s.buffer, s.access, mode);
      }
    };
    if (!j) return body('scalar')();
    emitVectorLoop(f, sizes[sizes.length - 1]!, params, j, body('vector'), body('scalar'), outerSizes.length ? undefined : range);
  }, range);
  if (!range) return { f, signature: { ...signature, scratchBytes: 0 } };
  // a one-axis kernel splits its elements in whole cache lines (16 floats), a nest its outermost rows
  const splitInfo = { extent: sizes[0]!, align: sizes.length === 1 ? 16 : 1, work: sizeProduct(sizes), unit: 'elements' as const };
  return { f, signature: { ...signature, scratchBytes: 0, split: splitInfo } };
}

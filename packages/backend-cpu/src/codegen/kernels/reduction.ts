// Reduction kernels. For each outer point the stages run in order, each a pass over the reduction axes:
// a four-lane accumulator over the vectorised innermost axis, a splat accumulator for the tail, a
// shuffle-tree horizontal combine. The combined value stays splatted in a local that later stages and the
// stores read as `acc`. `full` stores make one more pass over the row while it is still in cache, which is
// how softmax runs as three passes over one row rather than three kernels over the whole tensor.
import type { Access, LoopDType, ReductionKernel, ReductionType, ValueExpr } from '@kiln/core';
import type { MathLibrary } from '../math/library.js';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import type { SimdOp } from '../wasm/opcodes.js';
import { RowAddressing, type KernelFrame } from './addressing.js';
import { CpuCodegenError } from './errors.js';
import { ExprEmitter, type LaneMode } from './expr.js';
import { kernelFrame, type KernelSignature } from './frame.js';
import { collectAccesses, emitNest, emitVectorLoop, mapAccesses, simplifyAxes, usesIndex } from './loops.js';

type Store = ReductionKernel['stores'][number];

const COMBINE: Record<'float32' | 'int32', Record<Exclude<ReductionType, 'argmax' | 'argmin'>, [SimdOp, number]>> = {
  float32: { sum: ['f32x4_add', 0], prod: ['f32x4_mul', 1], max: ['f32x4_max', -Infinity], min: ['f32x4_min', Infinity] },
  int32: { sum: ['i32x4_add', 0], prod: ['i32x4_mul', 1], max: ['i32x4_max_s', -0x80000000], min: ['i32x4_min_s', 0x7fffffff] },
};

/** Drops size-1 axes and merges contiguous ones, separately among outer and among reduction axes. */
function simplify(k: ReductionKernel): { outer: ReductionKernel['outer']; reduce: ReductionKernel['reduce']; stages: ReductionKernel['stages']; stores: Store[] } {
  const values = [...k.stages.map((s) => s.prologue), ...k.stores.map((s) => s.value)];
  if (values.some(usesIndex)) return { outer: k.outer, reduce: k.reduce, stages: k.stages, stores: [...k.stores] };
  const nOuter = k.outer.length;
  const pad = (a: Access): Access => ({ offset: a.offset, strides: [...a.strides, ...k.reduce.map(() => 0)] });
  const full = [
    ...k.stages.flatMap((s) => collectAccesses(s.prologue)),
    ...k.stores.filter((s) => s.scope === 'full').flatMap((s) => [s.access, ...collectAccesses(s.value)]),
    ...k.stores.filter((s) => s.scope === 'outer').flatMap((s) => [s.access, ...collectAccesses(s.value)].map(pad)),
  ];
  const sizes = [...k.outer, ...k.reduce];
  const first = simplifyAxes(sizes, full, 0, nOuter);
  const newOuter = first.sizes.length - k.reduce.length;
  const second = simplifyAxes(first.sizes, full.map(first.rewrite), newOuter, first.sizes.length);
  const fullRewrite = (a: Access) => second.rewrite(first.rewrite(a));
  const outerRewrite = (a: Access) => {
    const r = fullRewrite(pad(a));
    return { offset: r.offset, strides: r.strides.slice(0, newOuter) };
  };
  const memo = new Map<ValueExpr, ValueExpr>();
  const outerMemo = new Map<ValueExpr, ValueExpr>();
  return {
    outer: second.sizes.slice(0, newOuter),
    reduce: second.sizes.slice(newOuter),
    stages: k.stages.map((s) => ({ type: s.type, prologue: mapAccesses(s.prologue, fullRewrite, memo) })),
    stores: k.stores.map((s) =>
      s.scope === 'full'
        ? { ...s, access: fullRewrite(s.access), value: mapAccesses(s.value, fullRewrite, memo) }
        : { ...s, access: outerRewrite(s.access), value: mapAccesses(s.value, outerRewrite, outerMemo) },
    ),
  };
}

export function emitReduction(k: ReductionKernel, exportName: string, math: MathLibrary): { f: FunctionBuilder; signature: KernelSignature } {
  const { frame, env: baseEnv, signature } = kernelFrame(k, exportName);
  const { f, params } = frame;
  const { outer, reduce, stages, stores } = simplify(k);
  const accTypes: LoopDType[] = [];
  const probe = new ExprEmitter(f, math, { ...baseEnv, accs: accTypes }, []);
  for (const s of stages) accTypes.push(s.type === 'argmax' || s.type === 'argmin' ? 'int32' : probe.dtype(s.prologue));
  const env = { ...baseEnv, accs: accTypes };
  const exprs = new ExprEmitter(f, math, env, [...stages.map((s) => s.prologue), ...stores.map((s) => s.value)]);
  const rowSizes = reduce.slice(0, -1);
  const inner = reduce[reduce.length - 1]!;

  emitNest(f, outer, params, (outerIdx) => {
    const accs: Local<'v128'>[] = [];
    stages.forEach((stage, si) => {
      const acc = f.local('v128');
      if (stage.type === 'argmax' || stage.type === 'argmin') {
        emitArgReduction(frame, exprs, stage.prologue, stage.type, outerIdx, accs, rowSizes, inner, acc, accTypes[si]!, k.name);
      } else {
        emitFold(frame, exprs, stage.prologue, stage.type, outerIdx, accs, rowSizes, inner, acc, accTypes[si]!, k.name);
      }
      accs.push(acc);
    });
    for (const s of stores.filter((s) => s.scope === 'outer')) {
      const row = new RowAddressing(frame, outerIdx, null, accs);
      row.prepare([s.value], [s]);
      exprs.resetMemo();
      exprs.emit(s.value, row, 'scalar');
      row.store(s.buffer, s.access, 'scalar');
    }
    const fullStores = stores.filter((s) => s.scope === 'full');
    if (fullStores.length === 0) return;
    emitNest(f, rowSizes, params, (rowIdx) => {
      const j = f.local('i32');
      const row = new RowAddressing(frame, [...outerIdx, ...rowIdx], j, accs);
      row.prepare(fullStores.map((s) => s.value), fullStores);
      const body = (mode: LaneMode) => () => {
        exprs.resetMemo();
        for (const s of fullStores) {
          exprs.emit(s.value, row, mode);
          row.store(s.buffer, s.access, mode);
        }
      };
      emitVectorLoop(f, inner, params, j, body('vector'), body('scalar'));
    });
  });
  return { f, signature: { ...signature, scratchBytes: 0 } };
}

function emitFold(
  frame: KernelFrame, exprs: ExprEmitter, prologue: ValueExpr, type: Exclude<ReductionType, 'argmax' | 'argmin'>,
  outerIdx: Local<'i32'>[], accs: Local<'v128'>[], rowSizes: ReductionKernel['reduce'], inner: ReductionKernel['reduce'][number],
  result: Local<'v128'>, dtype: LoopDType, kernel: string,
): void {
  const { f, params } = frame;
  if (dtype !== 'float32' && dtype !== 'int32') throw new CpuCodegenError(kernel, `${type} over ${dtype}`, 'cast to float32 or int32 first');
  const [op, identity] = COMBINE[dtype][type];
  const splat = () => (dtype === 'float32' ? f.f32x4(identity) : f.i32x4(identity));
  const vec = f.local('v128');
  const tail = f.local('v128');
  splat();
  f.set(vec);
  splat();
  f.set(tail);
  emitNest(f, rowSizes, params, (rowIdx) => {
    const j = f.local('i32');
    const row = new RowAddressing(frame, [...outerIdx, ...rowIdx], j, accs);
    row.prepare([prologue]);
    const step = (mode: LaneMode, into: Local<'v128'>) => () => {
      exprs.resetMemo();
      f.get(into);
      exprs.emit(prologue, row, mode);
      f.simd(op).set(into);
    };
    emitVectorLoop(f, inner, params, j, step('vector', vec), step('scalar', tail));
  });
  // horizontal: swap halves, then swap neighbours; every lane ends up holding the whole combination
  const halves = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const pairs = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];
  for (const lanes of [halves, pairs]) f.get(vec).get(vec).get(vec).shuffle(lanes).simd(op).set(vec);
  f.get(vec).get(tail).simd(op).set(result);
}

function emitArgReduction(
  frame: KernelFrame, exprs: ExprEmitter, prologue: ValueExpr, type: 'argmax' | 'argmin',
  outerIdx: Local<'i32'>[], accs: Local<'v128'>[], rowSizes: ReductionKernel['reduce'], inner: ReductionKernel['reduce'][number],
  result: Local<'v128'>, _dtype: LoopDType, kernel: string,
): void {
  const { f, params } = frame;
  const vt = exprs.dtype(prologue);
  if (vt !== 'float32') throw new CpuCodegenError(kernel, `${type} over ${vt}`, 'cast to float32 first');
  // First occurrence wins; NaN counts as the extreme (PyTorch).
  const best = f.local('f32');
  const bestIdx = f.local('i32');
  const flat = f.local('i32');
  const x = f.local('f32');
  f.f32(type === 'argmax' ? -Infinity : Infinity).set(best as Local).i32(0).set(bestIdx).i32(0).set(flat);
  emitNest(f, rowSizes, params, (rowIdx) => {
    const j = f.local('i32');
    const row = new RowAddressing(frame, [...outerIdx, ...rowIdx], j, accs);
    row.prepare([prologue]);
    emitVectorLoop(f, inner, params, j, null, () => {
      exprs.resetMemo();
      exprs.emit(prologue, row, 'scalar');
      f.lane('f32x4_extract_lane', 0).set(x);
      f.get(x).get(best).op(type === 'argmax' ? 'f32_gt' : 'f32_lt');
      f.get(x).get(x).op('f32_ne').get(best).get(best).op('f32_eq', 'i32_and', 'i32_or');
      f.if(() => {
        f.get(x).set(best).get(flat).set(bestIdx);
      });
      f.get(flat).i32(1).op('i32_add').set(flat);
    });
  });
  f.get(bestIdx).simd('i32x4_splat').set(result);
}

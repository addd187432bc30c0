// Reduction kernels. For each outer point the stages run in order, each a pass over the reduction axes:
// a four-lane accumulator over the vectorised innermost axis, a splat accumulator for the tail, a
// shuffle-tree horizontal combine. The combined value stays splatted in a local that later stages and the
// stores read as `acc`. `full` stores make one more pass over the row while it is still in cache, which is
// how softmax runs as three passes over one row rather than three kernels over the whole tensor.
// When a full store reuses the last stage's prologue (softmax's exp(x - max)), that pass stashes the
// prologue in the output row and the store pass reads it back instead of recomputing it: one exp per
// element instead of two. This relies on the IR rule that a reduction's outputs do not alias its inputs.
import type { Access, LoopDType, ReductionKernel, ReductionType, ValueExpr } from '@kiln/lower';
import { mapValue, sizeProduct } from '@kiln/lower';
import type { MathLibrary } from '../math/library.js';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { RowAddressing, type KernelFrame } from './addressing.js';
import { CpuCodegenError } from './errors.js';
import { callsMathFunction, ExprEmitter, type LaneMode } from './expr.js';
import { kernelFrame, type KernelSignature } from './frame.js';
import { collectAccesses, emitGroupedVectorLoop, emitNest, emitUnrolledVectorLoop, emitVectorLoop, mapAccesses, simplifyAxes, usesIndex } from './loops.js';
import { emitReductionAcrossOuter, prefersAcrossOuter } from './reduction-across.js';
import { COMBINE, emitFoldStep } from './reduction-ops.js';
import { emitFlagIfInfinite } from '../imprecise.js';
import { findStash, sameValue, scaledStash } from './stash.js';

type Store = ReductionKernel['stores'][number];

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
  const simplified = simplify(k);
  const { outer, reduce, stages } = simplified;
  const across = prefersAcrossOuter(simplified);
  // rows split between threads (each row's stages run whole on one thread: the same order as one thread)
  const split = !across && outer.length > 0;
  const { frame, env: baseEnv, signature, extra } = kernelFrame(k, exportName, false, split ? 2 : 0);
  const { f, params } = frame;
  const accTypes: LoopDType[] = [];
  const probe = new ExprEmitter(f, math, { ...baseEnv, accs: accTypes }, []);
  for (const s of stages) accTypes.push(s.type === 'argmax' || s.type === 'argmin' ? 'int32' : probe.dtype(s.prologue));
  // acc(stages.length + j) is 1 / acc(reciprocals[j]), computed once per outer point
  const { stores, reciprocals } = across ? { stores: simplified.stores, reciprocals: [] } : divisionsAsProducts(stages, simplified.stores);
  for (const _ of reciprocals) accTypes.push('float32');
  const env = { ...baseEnv, accs: accTypes };
  const exprs = new ExprEmitter(f, math, env, [...stages.map((s) => s.prologue), ...stores.map((s) => s.value)]);
  exprs.nonPositive = (v) => minusOwnMax(v, stages);
  const rowSizes = reduce.slice(0, -1);
  const inner = reduce[reduce.length - 1]!;
  if (across) {
    emitReductionAcrossOuter(frame, exprs, simplified, accTypes, k.name);
    return { f, signature: { ...signature, scratchBytes: 0 } };
  }
  const stash = findStash(stages, stores, accTypes, k.outputs);
  const noNanFlag = maxStagesPoisonedByNaN(stages, simplified.stores);
  // only the stashing store reads the stash back: it reads each element before it overwrites it
  const fullValue = (s: Store): ValueExpr =>
    stash && s === stash.store ? mapValue(s.value, (n) => (sameValue(n, stash.prologue) ? stash.load : undefined)) : s.value;
  const lastRecip = reciprocals.indexOf(stages.length - 1);
  if (scaledStash(stages, stores, stash, lastRecip < 0 ? null : stages.length + lastRecip, fullValue)) {
    const folded = stages[stages.length - 1]!.prologue;
    exprs.scaledExp = (e) => e === folded;
  }

  const range = split ? { begin: extra[0]!, end: extra[1]! } : undefined;
  emitNest(f, outer, params, (outerIdx) => {
    const accs: Local<'v128'>[] = [];
    stages.forEach((stage, si) => {
      const acc = f.local('v128');
      if (stage.type === 'argmax' || stage.type === 'argmin') {
        emitArgReduction(frame, exprs, stage.prologue, stage.type, outerIdx, accs, rowSizes, inner, acc, accTypes[si]!, k.name);
      } else {
        const into = stash && si === stages.length - 1 ? stash.store : null;
        emitFold(frame, exprs, stage.prologue, stage.type, outerIdx, accs, rowSizes, inner, acc, accTypes[si]!, k.name, into, noNanFlag.has(si));
      }
      accs.push(acc);
    });
    for (const stage of reciprocals) {
      const r = f.local('v128');
      f.f32x4(1).get(accs[stage]!).simd('f32x4_div').set(r);
      accs.push(r);
    }
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
      const values = fullStores.map(fullValue);
      row.prepare(values, fullStores);
      const body = (mode: LaneMode) => () => {
        exprs.resetMemo();
        for (const [i, s] of fullStores.entries()) {
          exprs.emit(values[i]!, row, mode);
          row.store(s.buffer, s.access, mode);
        }
      };
      // two vector steps per iteration: the store pass (softmax's scale by 1/sum) is a load, a multiply and a
      // store, as cheap as its loop's bookkeeping; unrolled, softmax 1024² ran 2–5% faster
      emitUnrolledVectorLoop(f, inner, params, j, [body('vector'), body('vector')], body('scalar'));
    });
  }, range);
  const work = sizeProduct([...outer, ...reduce]);
  const rowSplit = { extent: outer[0]!, align: 1, work, unit: 'elements', chunksPerThread: ROW_CHUNKS_PER_THREAD } as const;
  return { f, signature: { ...signature, scratchBytes: 0, ...(split ? { split: rowSplit } : {}) } };
}

/** Elements per block of a float32 sum (4096: at most 1024 per lane, so a block sum of ones is exact). */
const SUM_BLOCK = 4096;
/**
 * Chunks per thread of a split reduction. Its rows cost the same, so a chunk's size is what a thread that
 * finishes first may wait at the join (about half a chunk on average), and the share of the call that a
 * worker's wake-up (tens of µs) leaves to the caller is taken in smaller steps. Softmax 1024² on 2 threads:
 * 32 chunks of 32 rows (≈ 30 µs each) instead of the default 8 of 128.
 */
const ROW_CHUNKS_PER_THREAD = 16;
/** Vectors per step of a fold whose prologue calls a math function (a power of two dividing SUM_BLOCK / 4). */
const MATH_GROUP = 4;

function emitFold(
  frame: KernelFrame, exprs: ExprEmitter, prologue: ValueExpr, type: Exclude<ReductionType, 'argmax' | 'argmin'>,
  outerIdx: Local<'i32'>[], accs: Local<'v128'>[], rowSizes: ReductionKernel['reduce'], inner: ReductionKernel['reduce'][number],
  result: Local<'v128'>, dtype: LoopDType, kernel: string, stashInto: Store | null = null, nanPoisonsRow = false,
): void {
  const { f, params } = frame;
  if (dtype !== 'float32' && dtype !== 'int32') throw new CpuCodegenError(kernel, `${type} over ${dtype}`, 'cast to float32 or int32 first');
  const [op, identity] = COMBINE[dtype][type];
  const splat = () => (dtype === 'float32' ? f.f32x4(identity) : f.i32x4(identity));
  const vec = f.local('v128');
  const vec2 = f.local('v128');
  const tail = f.local('v128');
  const nan = dtype === 'float32' && (type === 'max' || type === 'min') && !nanPoisonsRow ? f.local('v128') : null;
  if (nan) f.i32x4(0).set(nan);
  splat();
  f.set(vec);
  splat();
  f.set(vec2);
  splat();
  f.set(tail);
  // A float32 sum adds blocks of SUM_BLOCK elements (per pair of accumulators) into a total, as a cascade:
  // a lane adding 1.0 to its own running sum stops growing at 2^24, so one lane per block keeps sums of
  // many values of one sign within float32 rounding of eager's float64 sum (4e8 ones: 4e8, not 2^27).
  const total = dtype === 'float32' && type === 'sum' ? f.local('v128') : null;
  const flushBlock = total
    ? {
        elements: SUM_BLOCK,
        flush: () => {
          f.get(vec).get(vec2).simd(op).get(total).simd(op).set(total);
          splat();
          f.set(vec);
          splat();
          f.set(vec2);
        },
      }
    : undefined;
  if (total) {
    splat();
    f.set(total);
  }
  emitNest(f, rowSizes, params, (rowIdx) => {
    const j = f.local('i32');
    const row = new RowAddressing(frame, [...outerIdx, ...rowIdx], j, accs);
    row.prepare([prologue], stashInto ? [stashInto] : []);
    const value = f.local('v128');
    const foldOp = nanPoisonsRow && type === 'max' ? 'f32x4_pmax' : op;
    const step = (mode: LaneMode, into: Local<'v128'>) => () => {
      exprs.resetMemo();
      exprs.emit(prologue, row, mode);
      f.set(value);
      if (stashInto) {
        f.get(value);
        row.store(stashInto.buffer, stashInto.access, mode);
      }
      emitFoldStep(f, foldOp, into, value, nan);
    };
    if (!callsMathFunction(prologue)) {
      emitUnrolledVectorLoop(f, inner, params, j, [step('vector', vec), step('vector', vec2)], step('scalar', tail), flushBlock);
      return;
    }
    // A prologue with a transcendental (softmax's exp) is bound by the latency of its long dependency chain.
    // TurboFan schedules pure wasm arithmetic freely between memory accesses but keeps those in order, so
    // the exps of vectors separated by a store run one after another. Loading MATH_GROUP vectors first and
    // storing them after lets it interleave their chains: softmax 1024²'s kernel about 10% faster (CPU
    // time, interleaved A/B; llvm-mca's Zen 3 model of V8's loop: 12.5 → 10.5 cycles per vector). One
    // accumulator: the fold's adds are off the chain, and a second one only adds spills.
    const values = Array.from({ length: MATH_GROUP }, () => f.local('v128'));
    const group = () => {
      values.forEach((v, u) => {
        row.laneBase = 4 * u;
        exprs.resetMemo();
        exprs.emit(prologue, row, 'vector');
        f.set(v);
      });
      if (stashInto) {
        values.forEach((v, u) => {
          row.laneBase = 4 * u;
          f.get(v);
          row.store(stashInto.buffer, stashInto.access, 'vector');
        });
      }
      row.laneBase = 0;
      for (const v of values) emitFoldStep(f, foldOp, vec, v, nan);
    };
    emitGroupedVectorLoop(f, inner, params, j, MATH_GROUP, group, step('vector', vec), step('scalar', tail), flushBlock);
  });
  if (total) f.get(vec).get(total).simd(op).set(vec);
  f.get(vec).get(vec2).simd(op).set(vec);
  // horizontal: swap halves, then swap neighbours; every lane ends up holding the whole combination
  const halves = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const pairs = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];
  for (const lanes of [halves, pairs]) f.get(vec).get(vec).get(vec).shuffle(lanes).simd(op).set(vec);
  f.get(vec).get(tail).simd(op).set(result);
  // eager sums and products in float64: where float32 overflowed, the call is recomputed eagerly
  if (dtype === 'float32' && (type === 'sum' || type === 'prod')) emitFlagIfInfinite(f, result);
  if (nan) {
    f.f32x4(NaN).get(result).i32(0).get(nan).simd('v128_any_true').op('i32_sub'); // 0 or -1 (all ones)
    f.simd('i32x4_splat', 'v128_bitselect').set(result);
  }
}

function emitArgReduction(
  frame: KernelFrame, exprs: ExprEmitter, prologue: ValueExpr, type: 'argmax' | 'argmin',
  outerIdx: Local<'i32'>[], accs: Local<'v128'>[], rowSizes: ReductionKernel['reduce'], inner: ReductionKernel['reduce'][number],
  result: Local<'v128'>, _dtype: LoopDType, kernel: string,
): void {
  const { f, params } = frame;
  const vt = exprs.dtype(prologue);
  if (vt !== 'float32' && vt !== 'int32') throw new CpuCodegenError(kernel, `${type} over ${vt}`, 'cast to float32 or int32 first');
  const isInt = vt === 'int32';
  // First occurrence wins; NaN counts as the extreme (PyTorch). For int32, a row of all INT_MIN (argmax)
  // never beats the initial best, and index 0 is then the right answer.
  const best = f.local(isInt ? 'i32' : 'f32');
  const bestIdx = f.local('i32');
  const flat = f.local('i32');
  const x = f.local(isInt ? 'i32' : 'f32');
  if (isInt) f.i32(type === 'argmax' ? -0x80000000 : 0x7fffffff);
  else f.f32(type === 'argmax' ? -Infinity : Infinity);
  f.set(best as Local).i32(0).set(bestIdx).i32(0).set(flat);
  emitNest(f, rowSizes, params, (rowIdx) => {
    const j = f.local('i32');
    const row = new RowAddressing(frame, [...outerIdx, ...rowIdx], j, accs);
    row.prepare([prologue]);
    emitVectorLoop(f, inner, params, j, null, () => {
      exprs.resetMemo();
      exprs.emit(prologue, row, 'scalar');
      f.lane(isInt ? 'i32x4_extract_lane' : 'f32x4_extract_lane', 0).set(x as Local);
      if (isInt) f.get(x as Local).get(best as Local).op(type === 'argmax' ? 'i32_gt_s' : 'i32_lt_s');
      else {
        f.get(x as Local).get(best as Local).op(type === 'argmax' ? 'f32_gt' : 'f32_lt');
        f.get(x as Local).get(x as Local).op('f32_ne').get(best as Local).get(best as Local).op('f32_eq', 'i32_and', 'i32_or');
      }
      f.if(() => {
        f.get(x as Local).set(best as Local).get(flat).set(bestIdx);
      });
      f.get(flat).i32(1).op('i32_add').set(flat);
    });
  });
  f.get(bestIdx).simd('i32x4_splat').set(result);
}

/** `v - acc(i)` where stage i is the max of `v` itself: never above 0 (NaN when the row has one). */
function minusOwnMax(e: ValueExpr, stages: ReductionKernel['stages']): boolean {
  if (e.kind !== 'binary' || e.op !== 'sub' || e.b.kind !== 'acc') return false;
  const stage = stages[e.b.stage];
  return stage?.type === 'max' && sameValue(stage.prologue, e.a);
}

/**
 * The max stages whose NaN flag (see emitFoldStep) is redundant: stage i is a float32 max over v, a later
 * stage j sums exp(v - acc(i)), and every store turns a NaN acc(j) into NaN. A NaN in v then makes
 * exp(NaN - max) NaN, the sum NaN and every output NaN, which is what the flagged max (NaN) gives too; without
 * a NaN in v, pmax's max is the max. Softmax, logSoftmax and logSumExp rows are of this form: their max
 * pass is a load and one pmax per four elements instead of four instructions.
 */
function maxStagesPoisonedByNaN(stages: ReductionKernel['stages'], stores: readonly Store[]): Set<number> {
  const out = new Set<number>();
  stages.forEach((stage, i) => {
    if (stage.type !== 'max') return;
    const sumsExpMinusThisMax = (s: ReductionKernel['stages'][number], sj: number) => {
      const p = s.prologue;
      return sj > i && s.type === 'sum' && p.kind === 'unary' && p.op === 'exp' && minusOwnMax(p.x, stages) && p.x.kind === 'binary' && p.x.b.kind === 'acc' && p.x.b.stage === i;
    };
    const j = stages.findIndex(sumsExpMinusThisMax);
    if (j >= 0 && stores.length > 0 && stores.every((s) => nanPropagatesFrom(s.value, j))) out.add(i);
  });
  return out;
}

/** Whether a NaN acc(stage) makes `e` NaN whatever else it reads (NaN-propagating arithmetic only). */
function nanPropagatesFrom(e: ValueExpr, stage: number): boolean {
  if (e.kind === 'acc') return e.stage === stage;
  if (e.kind === 'binary') return ['add', 'sub', 'mul', 'div'].includes(e.op) && (nanPropagatesFrom(e.a, stage) || nanPropagatesFrom(e.b, stage));
  if (e.kind === 'unary') return ['exp', 'log', 'neg', 'sqrt', 'abs'].includes(e.op) && nanPropagatesFrom(e.x, stage);
  return false;
}

/**
 * Softmax's division by its row sum as a product with the sum's reciprocal, taken once per row, as
 * PyTorch's vectorised softmax and XNNPACK do: x64 cores start a 4-lane divide every 3–5 cycles (Intel's
 * the slower), a multiply twice a cycle. Only for a sum of `exp(v - max v)`: it is ≥ 1 (the max term is exp(0) = 1) or NaN, so 1/s is a
 * normal float in (0, 1] and x·(1/s) is within 1 ulp of x / s (two roundings instead of one). A sum of
 * anything else may be tiny, where 1/s overflows and x·(1/s) would be ∞ instead of x / s.
 */
function divisionsAsProducts(stages: ReductionKernel['stages'], stores: Store[]): { stores: Store[]; reciprocals: number[] } {
  const reciprocals: number[] = [];
  const atLeastOne = (stage: number) => {
    const p = stages[stage]?.prologue;
    return stages[stage]?.type === 'sum' && p?.kind === 'unary' && p.op === 'exp' && minusOwnMax(p.x, stages);
  };
  const memo = new Map<ValueExpr, ValueExpr>();
  const rewrite = (e: ValueExpr): ValueExpr | undefined => {
    if (e.kind !== 'binary' || e.op !== 'div' || e.b.kind !== 'acc' || !atLeastOne(e.b.stage)) return undefined;
    if (!reciprocals.includes(e.b.stage)) reciprocals.push(e.b.stage);
    const b: ValueExpr = { kind: 'acc', stage: stages.length + reciprocals.indexOf(e.b.stage) };
    return { kind: 'binary', op: 'mul', a: mapValue(e.a, rewrite, memo), b };
  };
  return { stores: stores.map((s) => ({ ...s, value: mapValue(s.value, rewrite, memo) })), reciprocals };
}

// Reductions vectorised across the last outer axis instead of along the reduction: neighbouring outputs
// are reduced at once, one per lane (up to 16 groups of four per step), so a column sum (`x.sum(0)`) loads
// contiguous elements instead of gathering strided ones, and needs no horizontal combine. Chosen when the
// innermost reduction stride would force gathers but the last outer axis is contiguous or broadcast.
import type { Access, LoopDType, ReductionKernel, ValueExpr } from '@kiln/lower';
import type { Local } from '../wasm/function.js';
import { RowAddressing, type KernelFrame } from './addressing.js';
import { CpuCodegenError } from './errors.js';
import { invariantAlong, type ExprEmitter, type LaneMode } from './expr.js';
import { collectAccesses, emitNest } from './loops.js';
import { emitSize } from './sizes.js';
import { COMBINE, emitFoldStep } from './reduction-ops.js';
import { emitFlagIfInfinite } from '../imprecise.js';

type Store = ReductionKernel['stores'][number];

interface Shape {
  readonly outer: ReductionKernel['outer'];
  readonly reduce: ReductionKernel['reduce'];
  readonly stages: ReductionKernel['stages'];
  readonly stores: readonly Store[];
}

const unitOrZero = (s: unknown) => s === 0 || s === 1;

/** True when vectorising across the last outer axis avoids gathers that the usual layout would need. */
export function prefersAcrossOuter(k: Shape): boolean {
  if (k.outer.length === 0 || k.stages.some((s) => s.type === 'argmax' || s.type === 'argmin')) return false;
  const full = [...k.stages.map((s) => s.prologue), ...k.stores.filter((s) => s.scope === 'full').map((s) => s.value)]
    .flatMap((v) => collectAccesses(v));
  const lastOuter = k.outer.length - 1;
  const innerReduce = k.outer.length + k.reduce.length - 1;
  const gathersAlongReduce = full.some((a: Access) => !unitOrZero(a.strides[innerReduce]));
  return gathersAlongReduce && full.every((a: Access) => unitOrZero(a.strides[lastOuter]));
}

/**
 * Lane groups per step of the wide loop: 16 × 4 floats = four cache lines of each row touched. Measured on
 * a 1024×1024 column sum: 4 groups 0.21 ms, 8: 0.14, 16: 0.08, 32: 0.06 (but 1×1024·1024×1024 matvec is
 * best at 16: 0.085 ms vs 0.10); beyond 16 the accumulators no longer fit in registers.
 */
const GROUPS = 16;

export function emitReductionAcrossOuter(
  frame: KernelFrame, exprs: ExprEmitter, k: Shape, accTypes: readonly LoopDType[], kernel: string,
): void {
  const { f, params } = frame;
  const lastOuter = k.outer.length - 1;
  // acc(i) differs per group, so it (and what reads it) never counts as shared between groups
  const invariant = invariantAlong(lastOuter);
  emitNest(f, k.outer.slice(0, -1), params, (outerIdx) => {
    const j = f.local('i32');
    // `groups` lane groups starting at j, 4 apart: each with its own accumulators, sharing the reduce loop
    // and one prepared row (the groups differ by a constant offset, folded into the loads)
    const point = (mode: LaneMode, groups: number) => () => {
      const accs: Local<'v128'>[][] = Array.from({ length: groups }, () => []);
      k.stages.forEach((stage, si) => {
        const dtype = accTypes[si]!;
        if (dtype !== 'float32' && dtype !== 'int32') throw new CpuCodegenError(kernel, `${stage.type} over ${dtype}`);
        const [op, identity] = COMBINE[dtype][stage.type as keyof (typeof COMBINE)['float32']];
        const tracksNaN = dtype === 'float32' && (stage.type === 'max' || stage.type === 'min');
        const acc = accs.map(() => f.local('v128'));
        const nan = acc.map(() => (tracksNaN ? f.local('v128') : null));
        const value = f.local('v128');
        acc.forEach((a, u) => {
          (dtype === 'float32' ? f.f32x4(identity) : f.i32x4(identity)).set(a);
          if (nan[u]) f.i32x4(0).set(nan[u]!);
        });
        emitNest(f, k.reduce, params, (rIdx) => {
          const row = new RowAddressing(frame, [...outerIdx, ...rIdx], j, accs[0]!, lastOuter);
          row.prepare([stage.prologue]);
          exprs.resetMemo();
          acc.forEach((a, u) => {
            row.laneBase = 4 * u;
            row.useAccs(accs[u]!);
            exprs.nextGroup(invariant); // e.g. matvec's a[k] splat: loaded once per step, not once per group
            exprs.emit(stage.prologue, row, mode);
            f.set(value);
            emitFoldStep(f, op, a, value, nan[u] ?? null);
          });
        });
        // each lane is its own output, so NaN is restored lane by lane
        acc.forEach((a, u) => {
          if (nan[u]) f.f32x4(NaN).get(a).get(nan[u]!).simd('v128_bitselect').set(a);
          // eager sums and products in float64: where float32 overflowed, the call is recomputed eagerly
          if (dtype === 'float32' && (stage.type === 'sum' || stage.type === 'prod')) emitFlagIfInfinite(f, a);
          accs[u]!.push(a);
        });
      });
      for (const s of k.stores) {
        const store = (rIdx: Local<'i32'>[]) => {
          const row = new RowAddressing(frame, [...outerIdx, ...rIdx], j, accs[0]!, lastOuter);
          row.prepare([s.value], [s]);
          for (let u = 0; u < groups; u++) {
            row.laneBase = 4 * u;
            row.useAccs(accs[u]!);
            exprs.resetMemo();
            exprs.emit(s.value as ValueExpr, row, mode);
            row.store(s.buffer, s.access, mode);
          }
        };
        if (s.scope === 'outer') store([]);
        else emitNest(f, k.reduce, params, store);
      }
    };
    // j steps by 4 * GROUPS while it can, then by 4, then one element at a time
    const end = f.local('i32'), wideEnd = f.local('i32'), vecEnd = f.local('i32');
    emitSize(f, k.outer[lastOuter]!, params);
    f.tee(end).i32(-4 * GROUPS).op('i32_and').set(wideEnd);
    f.get(end).i32(-4).op('i32_and').set(vecEnd);
    f.forRange(j, () => f.i32(0), wideEnd, 4 * GROUPS, point('vector', GROUPS));
    f.forRange(j, () => f.get(wideEnd), vecEnd, 4, point('vector', 1));
    f.forRange(j, () => f.get(vecEnd), end, 1, point('scalar', 1));
  });
}

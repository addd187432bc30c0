// Reductions vectorised across the last outer axis instead of along the reduction: four neighbouring
// outputs are reduced at once, one per lane, so a column sum (`x.sum(0)`) loads four contiguous elements
// per step instead of gathering four strided ones, and needs no horizontal combine. Chosen when the
// innermost reduction stride would force gathers but the last outer axis is contiguous or broadcast.
import type { Access, LoopDType, ReductionKernel, ValueExpr } from '@kiln/core';
import type { Local } from '../wasm/function.js';
import { RowAddressing, type KernelFrame } from './addressing.js';
import { CpuCodegenError } from './errors.js';
import type { ExprEmitter, LaneMode } from './expr.js';
import { collectAccesses, emitNest, emitVectorLoop } from './loops.js';
import { COMBINE } from './reduction-ops.js';

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

export function emitReductionAcrossOuter(
  frame: KernelFrame, exprs: ExprEmitter, k: Shape, accTypes: readonly LoopDType[], kernel: string,
): void {
  const { f, params } = frame;
  const lastOuter = k.outer.length - 1;
  emitNest(f, k.outer.slice(0, -1), params, (outerIdx) => {
    const j = f.local('i32');
    const point = (mode: LaneMode) => () => {
      const accs: Local<'v128'>[] = [];
      k.stages.forEach((stage, si) => {
        const dtype = accTypes[si]!;
        if (dtype !== 'float32' && dtype !== 'int32') throw new CpuCodegenError(kernel, `${stage.type} over ${dtype}`);
        const [op, identity] = COMBINE[dtype][stage.type as keyof (typeof COMBINE)['float32']];
        const acc = f.local('v128');
        const value = f.local('v128');
        const nan = dtype === 'float32' && (stage.type === 'max' || stage.type === 'min') ? f.local('v128') : null;
        (dtype === 'float32' ? f.f32x4(identity) : f.i32x4(identity)).set(acc);
        if (nan) f.i32x4(0).set(nan);
        emitNest(f, k.reduce, params, (rIdx) => {
          const row = new RowAddressing(frame, [...outerIdx, ...rIdx], j, accs, lastOuter);
          row.prepare([stage.prologue]);
          exprs.resetMemo();
          exprs.emit(stage.prologue, row, mode);
          f.set(value);
          if (nan) {
            f.get(nan).get(value).get(value).simd('f32x4_ne', 'v128_or').set(nan);
            f.get(acc).get(value).simd(op === 'f32x4_max' ? 'f32x4_pmax' : 'f32x4_pmin').set(acc);
          } else f.get(acc).get(value).simd(op).set(acc);
        });
        // each lane is its own output, so NaN is restored lane by lane
        if (nan) f.f32x4(NaN).get(acc).get(nan).simd('v128_bitselect').set(acc);
        accs.push(acc);
      });
      for (const s of k.stores) {
        const store = (rIdx: Local<'i32'>[]) => {
          const row = new RowAddressing(frame, [...outerIdx, ...rIdx], j, accs, lastOuter);
          row.prepare([s.value], [s]);
          exprs.resetMemo();
          exprs.emit(s.value as ValueExpr, row, mode);
          row.store(s.buffer, s.access, mode);
        };
        if (s.scope === 'outer') store([]);
        else emitNest(f, k.reduce, params, store);
      }
    };
    emitVectorLoop(f, k.outer[lastOuter]!, params, j, point('vector'), point('scalar'));
  });
}

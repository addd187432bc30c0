// View ops as index maps: the output's element at a logical index is the input's element at a mapped
// index. Buffers stay buffers (new strides and offset); virtual values stay virtual. Reshape needs a
// contiguous buffer; anything the maps below cannot express returns undefined (an eager fallback).
import { normalizeDim } from '@kiln/tensor';
import type { SizeExpr } from '../loop-ir/loop-ir.js';
import { contiguousStrides, sizeAdd } from '../loop-ir/sizes.js';
import type { ProgramBuilder } from './builder.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { AffineIndex, LoweredValue } from './values.js';
import { constantIndex, scaleIndex, viewValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

export const VIEW_OPS = new Set([
  'transpose', 'permute', 'expand', 'unsqueeze', 'squeeze', 'select', 'slice', 'narrow',
  'reshape', 'view', 'flatten', 'contiguous', 'clone',
]);

const same = (a: readonly SizeExpr[], b: readonly SizeExpr[]) => JSON.stringify(a) === JSON.stringify(b);

export function lowerView(b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const x = all[0] as LoweredValue;
  const outShape = fake.shape.map(toSizeExpr);
  const rank = x.shape.length;
  const map = (f: (o: readonly AffineIndex[], nAxes: number) => AffineIndex[]) => viewValue(x, outShape, f);
  switch (op) {
    case 'contiguous':
    case 'clone':
      // Graph values are immutable here; outputs are always copied into fresh buffers.
      return x;
    case 'transpose': {
      const d0 = normalizeDim(all[1] as number, rank, op);
      const d1 = normalizeDim(all[2] as number, rank, op);
      return map((o) => o.map((_, d) => o[d === d0 ? d1 : d === d1 ? d0 : d]!));
    }
    case 'permute': {
      const dims = (all[1] as number[]).map((d) => normalizeDim(d, rank, op));
      return map((o) => {
        const inIndex = new Array<AffineIndex>(rank);
        dims.forEach((src, i) => (inIndex[src] = o[i]!));
        return inIndex;
      });
    }
    case 'expand': {
      const lead = outShape.length - rank;
      return map((o, n) => x.shape.map((size, d) => (size === 1 && outShape[lead + d] !== 1 ? constantIndex(0, n) : o[lead + d]!)));
    }
    case 'unsqueeze': {
      const dim = normalizeDim(all[1] as number, rank + 1, op);
      return map((o) => o.filter((_, d) => d !== dim));
    }
    case 'squeeze': {
      const dims = all[1] === null ? null : (typeof all[1] === 'number' ? [all[1]] : (all[1] as number[])).map((d) => normalizeDim(d, rank, op));
      const removed = x.shape.map((s, d) => s === 1 && (dims === null || dims.includes(d)));
      return map((o, n) => {
        let next = 0;
        return removed.map((r) => (r ? constantIndex(0, n) : o[next++]!));
      });
    }
    case 'select': {
      const dim = normalizeDim(all[1] as number, rank, op);
      const i = all[2] as number;
      if (typeof i !== 'number') return undefined;
      const at = i < 0 ? (typeof x.shape[dim] === 'number' ? (x.shape[dim] as number) + i : undefined) : i;
      if (at === undefined) return undefined;
      return map((o, n) => [...o.slice(0, dim), constantIndex(at, n), ...o.slice(dim)]);
    }
    case 'slice':
    case 'narrow': {
      const dim = normalizeDim(all[1] as number, rank, op);
      const start = op === 'slice' ? ((all[2] as number | null) ?? 0) : (all[2] as number);
      const step = op === 'slice' ? (all[4] as number) : 1;
      if (typeof start !== 'number') return undefined;
      const size = x.shape[dim]!;
      let lo: SizeExpr = start;
      if (start < 0) {
        if (typeof size !== 'number') return undefined;
        lo = Math.max(0, size + start);
      } else if (typeof size === 'number') lo = Math.min(start, size);
      else if (start !== 0) return undefined; // a positive start past a symbolic size would need a clamp
      return map((o) => o.map((idx, d) => (d === dim ? scaleIndex(idx, step, lo) : idx)));
    }
    case 'reshape':
    case 'view':
    case 'flatten': {
      const buf = x.kind === 'buffer' && same(x.strides, contiguousStrides(x.shape)) ? x : b.materialize(x, x.kind === 'buffer');
      return { ...buf, shape: outShape, strides: contiguousStrides(outShape), offset: sizeAdd(buf.offset, 0) };
    }
    default:
      return undefined;
  }
}

// cumsum along a short static dim, as a masked reduction: out[..., j, ...] = Σ_k (k <= j ? x[..., k, ...] : 0),
// one reduction kernel whose prologue reads the loop indices. That is O(n²) along the dim instead of a
// sequential scan's O(n), which costs little up to SCAN_LIMIT elements (each row stays in L1 and the sum is
// vectorised) and needs no new kernel kind; longer or symbolic dims run the eager kernel.
import { normalizeDim } from '@kiln/tensor';
import { acc, binary, cast, constant, loopIndex, where } from '../build.js';
import { contiguousStrides } from '../sizes.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, paramsOf } from './builder.js';
import type { LoweredValue } from './values.js';
import { axisIndex, readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

/** Longest dim lowered: past it the n² adds per row cost more than the eager scan. */
const SCAN_LIMIT = 64;

export function lowerCumsum(b: ProgramBuilder, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const x = all[0] as LoweredValue;
  if (!fake?.shape || fake.dtype !== 'float32' || x.dtype === 'float64' || x.shape.length === 0) return undefined;
  const rank = x.shape.length;
  const dim = normalizeDim(all[1] as number, rank, 'cumsum');
  const n = x.shape[dim]!;
  if (typeof n !== 'number' || n > SCAN_LIMIT || n === 0) return undefined;
  // Axes: the output's own (j along `dim`), then k, the reduction axis.
  const nAxes = rank + 1;
  const index = x.shape.map((_, d) => axisIndex(d === dim ? rank : d, nAxes));
  const loaded = readValue(x, index, nAxes);
  const value = x.dtype === 'float32' ? loaded : cast('float32', loaded);
  const prologue = where(binary('le', loopIndex(rank), loopIndex(dim)), value, constant(0, 'float32'));
  const out = b.newBuffer('float32', x.shape);
  const kernel = {
    kind: 'reduction' as const,
    name: b.kernelName('cumsum'),
    params: [] as string[],
    inputs: buffersRead(b, prologue),
    outputs: [{ name: out.buffer, dtype: 'float32' as const }],
    outer: x.shape,
    reduce: [n],
    stages: [{ type: 'sum' as const, prologue }],
    stores: [{ buffer: out.buffer, access: { offset: 0, strides: contiguousStrides(x.shape) }, value: acc(0), scope: 'outer' as const }],
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) });
  return out;
}

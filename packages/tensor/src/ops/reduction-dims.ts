// Which dims a reduction's `dim` argument names; shared by the reductions and their derivatives (not public).
import { IndexError, fmtShape } from '../errors.js';
import type { TensorMetaLike } from '../registry/registry.js';
import { normalizeDim } from '../size.js';

type DimArg = number | readonly number[] | null;

export const allDims = (ndim: number) => Array.from({ length: ndim }, (_, i) => i);

/**
 * The dims a reduction removes, sorted: `null` (and, as in PyTorch, `[]`) means all of them. Dim 0 or -1 of a
 * 0-dim tensor names the tensor itself, which has no dims to remove.
 */
export function reductionDims(op: string, x: TensorMetaLike, dim: DimArg): number[] {
  const list = dim === null ? [] : typeof dim === 'number' ? [dim] : dim;
  if (list.length === 0) return allDims(x.ndim);
  const dims = list.map((d) => normalizeDim(d, x.ndim, op));
  const repeated = dims.find((d, i) => dims.indexOf(d) !== i);
  if (repeated !== undefined) {
    throw new IndexError(`${op}: dim ${repeated} appears more than once in dim=${fmtShape(list)} (input shape ${fmtShape(x.shape)})`, 'list each dim once');
  }
  return x.ndim === 0 ? [] : dims.sort((a, b) => a - b);
}


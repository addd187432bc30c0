// markDynamic(t, dim): the user's marks on tensor dimensions. The next trace that sees a marked tensor as an
// input makes those dimensions dynamic; once anything is marked, no persistent cache key applies.
import { IndexError, KilnTypeError, Tensor } from '@kiln/tensor';
import { describeValue } from './compile-options.js';

const markedDims = new WeakMap<Tensor, Set<number>>();
/** Marks change what a trace makes of its inputs, and no persistent cache key can spell them: none is used after one. */
let anyMarked = false;

/** The dimensions of `t` marked dynamic, if any: the next trace that sees `t` as an input reads them. */
export const markedDimsOf = (t: Tensor): ReadonlySet<number> | undefined => markedDims.get(t);
export const anyDimsMarked = (): boolean => anyMarked;

/** Marks dimension(s) of `t` dynamic for the next compile that sees it as an input. */
export function markDynamic(t: Tensor, dim: number | readonly number[]): void {
  if (!(t instanceof Tensor)) {
    throw new KilnTypeError(`markDynamic: argument 't' must be a Tensor, got ${describeValue(t)}`, 'pass the input tensor whose dimension should be dynamic');
  }
  const dims: readonly unknown[] = typeof dim === 'number' ? [dim] : Array.isArray(dim) ? dim : [];
  if (!(typeof dim === 'number' || Array.isArray(dim))) {
    throw new KilnTypeError(`markDynamic: argument 'dim' must be an integer or an array of integers, got ${describeValue(dim)}`, 'e.g. markDynamic(x, 0) or markDynamic(x, [0, 1])');
  }
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new KilnTypeError(`markDynamic: dim must be an integer, got ${describeValue(d)}`, 'e.g. markDynamic(x, 0) or markDynamic(x, [0, 1])');
    }
    if (d < -t.ndim || d >= t.ndim) {
      throw new IndexError(
        `markDynamic: dim=${d} is out of range for a tensor of rank ${t.ndim} (shape [${t.shape.join(', ')}])`,
        t.ndim === 0 ? 'a 0-d tensor has no dimensions to mark' : `use a dim in [${-t.ndim}, ${t.ndim - 1}]`,
      );
    }
  }
  anyMarked = true;
  const set = markedDims.get(t) ?? new Set<number>();
  for (const d of dims as number[]) set.add(d < 0 ? d + t.ndim : d);
  markedDims.set(t, set);
}

import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';

/**
 * `values` converted into a new array of dtype `to`, the way PyTorch casts: floats truncate toward zero into
 * int32 (the typed array's own conversion), and anything nonzero, NaN included, becomes `true`. A plain
 * `Uint8Array` store would turn 0.5 into false and -1 into 255, hence the explicit bool branch.
 */
export function castValues(values: ArrayLike<number>, to: DType): TypedArray {
  const out = allocate(to, values.length);
  if (to === 'bool') {
    for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
  } else {
    out.set(values);
  }
  return out;
}

/** A scalar argument, or the single element of a 0-dim tensor, as a JS number. */
export const scalarValueOf = (value: { storage: { data: ArrayLike<number> }; offset: number } | number | boolean): number =>
  typeof value === 'object' ? value.storage.data[value.offset]! : Number(value);

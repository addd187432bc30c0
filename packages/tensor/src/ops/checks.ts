// Argument checks shared by the meta functions of several op files. Not part of the op table (ops/index.ts
// does not re-export this file).
import type { DType } from '../dtype.js';
import { isFloating, isTensorOperand } from '../dtype.js';
import type { ScalarLike } from '../dtype.js';
import { KilnTypeError, ShapeError, fmtShape } from '../errors.js';
import type { TensorMetaLike } from '../registry/registry.js';

export function requireIndexDType(op: string, argName: string, index: TensorMetaLike): void {
  if (index.dtype !== 'int32') {
    throw new KilnTypeError(
      `${op}: argument '${argName}' must have dtype int32, got ${index.dtype} (shape ${fmtShape(index.shape)})`,
      `convert it with ${argName}.to('int32')`,
    );
  }
}

export function checkMaskedFill(op: string, mask: TensorMetaLike, value: TensorMetaLike | ScalarLike): void {
  if (mask.dtype !== 'bool') {
    throw new KilnTypeError(
      `${op}: argument 'mask' must have dtype bool, got ${mask.dtype} (shape ${fmtShape(mask.shape)})`,
      "build it with a comparison such as x.gt(0), or convert it with mask.to('bool')",
    );
  }
  if (isTensorOperand(value) && value.ndim !== 0) {
    throw new ShapeError(
      `${op}: argument 'value' must be a scalar or a 0-dim tensor, got shape ${fmtShape(value.shape)}`,
      'use where(mask, other, x) to fill from a tensor',
    );
  }
}

/** PyTorch's `can_cast`: no floating → integral (or bool), nothing but bool → bool. */
export function canCast(from: DType, to: DType): boolean {
  if (isFloating(from) && !isFloating(to)) return false;
  return !(from !== 'bool' && to === 'bool');
}

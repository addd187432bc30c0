// In-place ops. Each computes its whole result before writing (so `x.add_(x.T)` reads old values only), then
// writes through self's strides after `storage.writable()`: views of self see the write, clones never do.
import { castScalar, isFloating, isSymbolicScalar, isTensorOperand, resultType, scalarCategory } from '../dtype.js';
import type { ScalarLike } from '../dtype.js';
import { KilnError, KilnTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Derivative, InputGrads } from '../registry/derivative.js';
import { castValues, scalarValueOf } from '../kernels/cast.js';
import { writeThrough } from '../kernels/copy.js';
import { defineOp, runEager } from '../registry/registry.js';
import { deviceImpl } from '../device.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import type { MetaContext, MetaTensor, OpDef, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Shape } from '../size.js';
import { broadcastShapes, sizeEq } from '../size.js';
import type { Tensor } from '../tensor.js';
import { forEachOffset } from '../tensor.js';
import { canCast, checkMaskedFill } from './checks.js';
import { full } from './creation.js';
import { maskedFill } from './indexing.js';
import { add, clamp, div, mul, sub } from './pointwise.js';
import { expand } from './views.js';

/**
 * An in-place op's derivative is its out-of-place op's: autograd hands it self as it was before the write
 * (and the gradient is cast back to self's dtype).
 */
function sameAs(base: OpDef): Derivative {
  const rule = base.derivative;
  if (typeof rule !== 'function') throw new KilnError(`in-place op of '${base.name}': the out-of-place op has no derivative formula`);
  return rule;
}

/** A dim of stride 0 and size > 1 (an expanded tensor) would make one write land on several elements. */
function checkWritable(op: string, self: TensorMetaLike): void {
  if (self.shape.some((s) => s === 0)) return; // no elements, nothing written (contiguous strides of [2, 0] are [0, 1])
  const shared = self.shape.findIndex((s, d) => self.strides[d] === 0 && !(typeof s === 'number' && s <= 1));
  if (shared >= 0) {
    throw new ValueError(
      `${op}: self (shape ${fmtShape(self.shape)}, strides ${fmtShape(self.strides)}) has stride 0 in dim ${shared}, so several of its elements share one memory location`,
      'call .clone() on self before writing into it',
    );
  }
}

/** `other` may broadcast to self's shape, never the other way: an in-place op cannot resize self. */
function checkBroadcastsToSelf(op: string, self: TensorMetaLike, argName: string, other: Shape): void {
  const shape = broadcastShapes(op, self.shape, other);
  if (shape.length !== self.ndim || shape.some((s, i) => !sizeEq(s, self.shape[i]!))) {
    throw new ShapeError(
      `${op}: argument '${argName}' of shape ${fmtShape(other)} cannot be broadcast to self's shape ${fmtShape(self.shape)} (the result would have shape ${fmtShape(shape)})`,
      "in-place ops never change self's shape; use the out-of-place op",
    );
  }
}

function checkCastable(op: string, self: TensorMetaLike, result: MetaTensor): void {
  if (!canCast(result.dtype, self.dtype)) {
    throw new KilnTypeError(
      `${op}: the result dtype ${result.dtype} cannot be cast to self's dtype ${self.dtype}`,
      `convert self first (self.to('${result.dtype}')) or use the out-of-place op`,
    );
  }
}

/** In-place ops return self: the output's metadata is self's. */
const selfMeta = (self: TensorMetaLike): MetaTensor => ({
  shape: [...self.shape],
  strides: [...self.strides],
  offset: self.offset,
  dtype: self.dtype,
});

/**
 * Writes a computed result (already of self's shape) into self, cast to self's dtype. A contiguous result in
 * another storage is read in place (a kernel's fresh output, or a COW sibling whose buffer `writable()` leaves
 * alone); one in self's own storage may overlap self and is copied first.
 */
function writeResult(self: Tensor, result: Tensor): Tensor {
  const inPlace = result.storage !== self.storage && result.isContiguous();
  const values = inPlace ? result.storage.data.subarray(result.offset, result.offset + result.numel) : result.toTypedArray();
  const cast = result.dtype === self.dtype ? values : castValues(values, self.dtype);
  if (self.isContiguous()) self.storage.writable().set(cast, self.offset);
  else writeThrough(self, cast);
  return self;
}

/** Checks an op `base` applied out of place to self and the other arguments could be written into self. */
function checkLikeOutOfPlace(op: string, base: OpDef, args: readonly unknown[], ctx: MetaContext): MetaTensor {
  const self = args[0] as TensorMetaLike;
  checkWritable(op, self);
  const other = args[1];
  if (typeof other === 'object' && other !== null && !isSymbolicScalar(other)) checkBroadcastsToSelf(op, self, 'other', (other as TensorMetaLike).shape);
  checkCastable(op, self, base.meta!(args, ctx) as MetaTensor);
  return selfMeta(self);
}

function withAlphaInplace<const N extends string>(name: N, base: typeof add | typeof sub) {
  return defineOp({
    name,
    category: 'inplace',
    method: true,
    mutatesSelf: true,
    positional: [arg('self', 'Tensor'), arg('other', 'TensorOrScalar')],
    keywordOnly: [opt('alpha', 'Scalar', 1)],
    meta: (args, ctx): MetaTensor => {
      const [self, other, alpha] = args;
      if (!isFloating(resultType([self, other])) && scalarCategory(alpha) === 2) {
        throw new KilnTypeError(
          `${name}: alpha=${String(alpha)} must be an integer for an integral result (self ${self.dtype})`,
          "use an integer alpha, or convert self with self.to('float32')",
        );
      }
      return checkLikeOutOfPlace(name, base.op, args, ctx);
    },
    kernel: ([self, other, alpha]): Tensor => writeResult(self, runEager(base.op, [self, other, alpha]) as Tensor),
    derivative: sameAs(base.op),
    decompose: ([self, other, alpha]): Tensor => copy_(self, base(self, other, { alpha })),
  });
}

function binaryInplace<const N extends string>(name: N, base: typeof mul | typeof div) {
  return defineOp({
    name,
    category: 'inplace',
    method: true,
    mutatesSelf: true,
    positional: [arg('self', 'Tensor'), arg('other', 'TensorOrScalar')],
    meta: (args, ctx): MetaTensor => checkLikeOutOfPlace(name, base.op, args, ctx),
    kernel: ([self, other]): Tensor => writeResult(self, runEager(base.op, [self, other]) as Tensor),
    derivative: sameAs(base.op),
    decompose: ([self, other]): Tensor => copy_(self, base(self, other)),
  });
}

/** `self.copy_(src)`: src broadcast to self's shape and cast to self's dtype (any cast is allowed). */
export const copy_ = defineOp({
  name: 'copy_',
  category: 'inplace',
  method: true,
  mutatesSelf: true,
  positional: [arg('self', 'Tensor'), arg('src', 'Tensor')],
  meta: ([self, src]): MetaTensor => {
    checkWritable('copy_', self);
    checkBroadcastsToSelf('copy_', self, 'src', src.shape);
    return selfMeta(self);
  },
  kernel: ([self, src]): Tensor => writeResult(self, runEager(expand.op, [src, [...self.shape]]) as Tensor),
  // self's old values are gone; src's gradient is summed back to its shape and dtype by autograd.
  derivative: ({ grad }): InputGrads => [null, grad],
});

/** A contiguous tensor over all of its storage, from its start (its values are the whole buffer). */
const coversStorage = (t: Tensor): boolean => t.offset === 0 && t.numel === t.storage.size && t.isContiguous();
const sameShape = (a: Tensor, b: Tensor): boolean => a.ndim === b.ndim && a.shape.every((n, i) => n === b.shape[i]);

/**
 * `dst` takes the values of `src` (dst's shape), which a compiled call computed as dst's new value (an
 * argument written in place). On one device, or from the CPU, it is `copy_`; from a device into a CPU
 * tensor, dst's storage moves to that device (`DeviceImpl.adopt`): the values cannot be read back
 * synchronously, and every view of dst follows.
 */
export function writeBack(dst: Tensor, src: Tensor): Tensor {
  // Only host bytes move this way: a device storage's size cannot be read synchronously, and copy_ there
  // already stays on the device.
  if (dst.device === 'cpu' && src.device === 'cpu' && coversStorage(dst) && coversStorage(src) && dst.dtype === src.dtype && dst.numel === src.numel && sameShape(dst, src) && !(isGradEnabled() && (dst.requiresGrad || src.requiresGrad))) {
    // The whole of dst's storage is replaced, and nothing is recorded: share src's bytes instead of copying.
    dst.storage.takeBytesOf(src.storage);
    return dst;
  }
  if (src.device === 'cpu' || dst.device === src.device) return copy_(dst, src);
  const device = deviceImpl(src.device);
  if (dst.device !== 'cpu' || !device.adopt) throw new KilnError(`writeBack: cannot write a ${src.device} tensor into a ${dst.device} tensor`);
  device.adopt(dst, src);
  return dst;
}

export const add_ = withAlphaInplace('add_', add);
export const sub_ = withAlphaInplace('sub_', sub);
export const mul_ = binaryInplace('mul_', mul);
export const div_ = binaryInplace('div_', div);

export const clamp_ = defineOp({
  name: 'clamp_',
  category: 'inplace',
  method: true,
  mutatesSelf: true,
  positional: [arg('self', 'Tensor'), opt('min', 'Scalar?', null), opt('max', 'Scalar?', null)],
  meta: ([self, lo, hi], ctx): MetaTensor => {
    if (lo === null && hi === null) throw new KilnTypeError('clamp_: at least one of min and max must be given', 'e.g. x.clamp_(0) or x.clamp_(null, 1)');
    checkWritable('clamp_', self);
    checkCastable('clamp_', self, clamp.op.meta!([self, lo, hi], ctx) as MetaTensor);
    return selfMeta(self);
  },
  kernel: ([self, lo, hi]): Tensor => writeResult(self, runEager(clamp.op, [self, lo, hi]) as Tensor),
  derivative: sameAs(clamp.op),
  decompose: ([self, lo, hi]): Tensor => copy_(self, clamp(self, lo, hi)),
});

function checkFillValue(op: string, self: TensorMetaLike, value: TensorMetaLike | ScalarLike): void {
  checkWritable(op, self);
  if (isTensorOperand(value) && value.ndim !== 0) {
    throw new ShapeError(`${op}: argument 'value' must be a scalar or a 0-dim tensor, got shape ${fmtShape(value.shape)}`, 'use copy_ to write a tensor');
  }
}

/** Writes one value (cast to self's dtype, like PyTorch's fill_: 1.5 into int32 is 1) through self's strides. */
function fillThrough(self: Tensor, value: number): Tensor {
  const v = castScalar(value, self.dtype);
  const data = self.storage.writable();
  forEachOffset(self, (o) => (data[o] = v));
  return self;
}

export const fill_ = defineOp({
  name: 'fill_',
  category: 'inplace',
  method: true,
  mutatesSelf: true,
  positional: [arg('self', 'Tensor'), arg('value', 'TensorOrScalar')],
  meta: ([self, value]): MetaTensor => {
    checkFillValue('fill_', self, value);
    return selfMeta(self);
  },
  kernel: ([self, value]): Tensor => fillThrough(self, scalarValueOf(value)),
  derivative: ({ grad, args: [, value] }): InputGrads => [null, typeof value === 'object' ? grad.sum() : null],
  decompose: ([self, value]): Tensor => copy_(self, typeof value === 'object' ? value : full([], value, { dtype: self.dtype })),
});

export const zero_ = defineOp({
  name: 'zero_',
  category: 'inplace',
  method: true,
  mutatesSelf: true,
  positional: [arg('self', 'Tensor')],
  meta: ([self]): MetaTensor => {
    checkWritable('zero_', self);
    return selfMeta(self);
  },
  kernel: ([self]): Tensor => fillThrough(self, 0),
  derivative: () => [null],
  decompose: ([self]): Tensor => fill_(self, 0),
});

export const maskedFill_ = defineOp({
  name: 'maskedFill_',
  category: 'inplace',
  method: true,
  mutatesSelf: true,
  positional: [arg('self', 'Tensor'), arg('mask', 'Tensor'), arg('value', 'TensorOrScalar')],
  meta: ([self, mask, value]): MetaTensor => {
    checkWritable('maskedFill_', self);
    checkMaskedFill('maskedFill_', mask, value);
    checkBroadcastsToSelf('maskedFill_', self, 'mask', mask.shape);
    return selfMeta(self);
  },
  kernel: ([self, mask, value]): Tensor => {
    const selected = (runEager(expand.op, [mask, [...self.shape]]) as Tensor).toTypedArray();
    const v = castScalar(scalarValueOf(value), self.dtype);
    const data = self.storage.writable();
    forEachOffset(self, (o, i) => {
      if (selected[i] !== 0) data[o] = v;
    });
    return self;
  },
  derivative: sameAs(maskedFill.op),
  decompose: ([self, mask, value]): Tensor => copy_(self, maskedFill(self, mask, value)),
});

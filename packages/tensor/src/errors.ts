/**
 * Typed errors of the tensor library. Every message names the op and the argument at fault, the shapes or
 * dtypes involved, and, where one exists, what to do about it.
 */
export class KilnError extends Error {
  declare readonly hint?: string;

  /** @param options `{ cause }`: the error this one reports (kept with its stack). */
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(hint ? `${message}\n  hint: ${hint}` : message, options);
    this.name = new.target.name;
    // Not enumerable: Node prints an uncaught error's own enumerable properties after its stack, and the
    // hint is in the message already (it was printed twice).
    Object.defineProperty(this, 'hint', { value: hint, enumerable: false, writable: false, configurable: true });
  }
}

/** A wrong type or dtype for an argument. */
export class KilnTypeError extends KilnError {}

/** Shapes that do not fit together: broadcasting, matmul, cat, reshape. */
export class ShapeError extends KilnError {}

/** A dimension or index out of range. */
export class IndexError extends KilnError {}

/** A value the op cannot accept (a negative size, `item()` on many elements). */
export class ValueError extends KilnError {}

/** A request that would need a copy where the op promises a view (`view` of non-contiguous data). */
export class ViewError extends KilnError {}

/** A read of a tensor after `dispose()` gave its bytes back. */
export class DisposedTensorError extends KilnError {}

export const fmtShape = (shape: readonly unknown[]) => `[${shape.map(String).join(', ')}]`;

/**
 * Misuse of autograd, with PyTorch's wording where PyTorch has one: backward through a freed graph, a
 * non-scalar backward without a gradient, a saved tensor overwritten in place, an in-place op on a leaf.
 */
export class AutogradError extends KilnError {}

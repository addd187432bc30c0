// Errors of AOT modules. They extend the tensor library's KilnError (bundled into the module: a standalone
// module has no @kiln/tensor to share the class with, so test for them by `name`).
import { KilnError } from '@kiln/tensor';

/** An argument of an AOT module's call that does not fit its declared input: names the input and what is wrong. */
export class AotInputError extends KilnError {}

/** A call the module cannot compute as eager code would (and it has no eager kernels to fall back on). */
export class AotRuntimeError extends KilnError {}

/** The module's data (weights blob, plan) is missing or does not match what it was compiled with. */
export class AotLoadError extends KilnError {}

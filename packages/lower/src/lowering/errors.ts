import { KilnError } from '@kiln/tensor';

/** The graph cannot be lowered as a whole (the caller runs it with the interpreter instead). */
export class LoweringError extends KilnError {}

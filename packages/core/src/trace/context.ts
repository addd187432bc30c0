import type { FrameTracer } from './frame.js';
import type { Value } from './values.js';

/** What every evaluation step needs: the frame, `this` of the running function, and the inlining depth. */
export interface Ctx {
  readonly tracer: FrameTracer;
  readonly thisValue: { value: Value };
  readonly depth: number;
  /** The class whose constructor is running (for `super(...)`). */
  readonly homeClass?: Function | undefined;
  /** Runs the class's field initializers once `super(...)` returns. */
  readonly onSuper?: (() => void) | undefined;
}

export const MAX_INLINE_DEPTH = 64;

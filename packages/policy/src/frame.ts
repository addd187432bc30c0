/**
 * The interface between the tracer and the policy: the tracer describes each frame with a `Frame`, and
 * `decide(frame)` answers with a `Decision`.
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type AnyFunction = Function;

/**
 * Where a frame comes from. `top-level`: the tracer is about to start tracing a frame that eager code called
 * (the compiled function itself, a resume function, a user function called from an eager region at a graph
 * break). `call`: a call site met while tracing another frame.
 */
export type FrameOrigin = 'top-level' | 'call';

export interface Frame {
  /** The function value being called (the identity decisions are cached on). */
  readonly fn: AnyFunction;
  /** Its name as the user would write it (`lodash.map`, `Tensor.prototype.add`); defaults to `fn.name`. */
  readonly name?: string;
  /**
   * The module URL or file of the function, from `[[FunctionLocation]]` through node:inspector
   * (`file:///app/node_modules/lodash/map.js`, `node:fs`). Undefined for builtins and bound functions.
   */
  readonly url?: string;
  readonly line?: number;
  readonly origin: FrameOrigin;
}

export const DECISION_KINDS = ['inline', 'skip', 'allowInGraph'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** Which lookup step made a decision, in lookup order. */
export const LOOKUP_STEPS = ['override', 'function-table', 'traced-form', 'inline-list', 'skip-list', 'default'] as const;
export type LookupStep = (typeof LOOKUP_STEPS)[number];

/** The rule behind a decision: enough for a user to find it and for the audit to count its matches. */
export interface RuleRef {
  readonly step: LookupStep;
  /** A stable id: `allowlist:@kiln/tensor#add`, `skip-list:node_modules`, `override:skip:lodash`. */
  readonly id: string;
  /** Where the rule comes from: a source file of this package, or the user's config file and key. */
  readonly origin: string;
}

export interface Decision {
  readonly kind: DecisionKind;
  readonly rule: RuleRef;
  /** A sentence a user can act on: what was decided, why, and how to change it. */
  readonly reason: string;
  /** For `skip`: a traceable replacement to trace instead of breaking the graph. */
  readonly polyfill?: AnyFunction;
  /** For `allowInGraph` on a tensor op: the op's registry name. */
  readonly op?: string;
  /**
   * For `skip` from `skip(…, { recursive: true })`: the functions it calls are not compiled either. Without
   * it, a skipped user function's own callees are still compiled where the policy inlines them.
   */
  readonly recursive?: true;
  /** For `allowInGraph` of a user function: its meta function, from allowInGraph(fn, { meta }). */
  readonly meta?: (...args: any[]) => unknown;
}

import { Policy } from './decide.js';
import type { AnyFunction, Decision, Frame } from './frame.js';
import type { OverrideOptions } from './overrides.js';

/** The process-wide policy the tracer uses; `compile()` options and the config add overrides to it. */
export const defaultPolicy = new Policy();

export const decide = (frame: Frame): Decision => defaultPolicy.decide(frame);
export const polyfillFor = (fn: AnyFunction): AnyFunction | undefined => defaultPolicy.polyfillFor(fn);

export const allowInGraph = (fn: AnyFunction, options?: OverrideOptions) => void defaultPolicy.overrides.allowInGraph(fn, options);
export const disallowInGraph = (fn: AnyFunction, options?: OverrideOptions) => void defaultPolicy.overrides.disallowInGraph(fn, options);
export const skip = (target: AnyFunction | string, options?: OverrideOptions) => void defaultPolicy.overrides.skip(target, options);
export const inline = (target: AnyFunction | string, options?: OverrideOptions) => void defaultPolicy.overrides.inline(target, options);
export const substitute = (fn: AnyFunction, polyfill: AnyFunction, options?: OverrideOptions) =>
  void defaultPolicy.overrides.substitute(fn, polyfill, options);

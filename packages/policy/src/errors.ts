/** Errors of the policy engine. Each names the rule at fault and where it came from. */
import { KilnError } from '@kiln/tensor';

/** A KilnError like every other typed error of the project (message, then `hint:` line). */
export class PolicyError extends KilnError {}

/** A malformed rule from a config file or an `override` call: names the rule, the file and the key. */
export class PolicyConfigError extends PolicyError {
  constructor(
    readonly rule: string,
    readonly origin: string,
    problem: string,
    hint?: string,
  ) {
    super(`policy rule ${rule} (${origin}): ${problem}`, hint);
  }
}

/** A polyfill whose signature does not match the function it replaces. */
export class PolyfillSignatureError extends PolicyError {}

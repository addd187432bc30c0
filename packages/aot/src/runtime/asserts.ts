// Runtime asserts of an AOT program, evaluated over the call's size parameters. The condition was turned
// into loop-IR size expressions at compile time, so the runtime needs no symbolic algebra; a false one
// raises CheckFailedError, as check() does in eager code.
import { evalSize } from '@kiln/lower';
import { assertFailure } from '@kiln/graph';
import type { AotAssertStep, AotCondition } from './plan.js';

export function conditionHolds(c: AotCondition, params: Readonly<Record<string, number>>): boolean {
  if (typeof c === 'boolean') return c;
  if ('rel' in c) {
    const d = evalSize(c.diff, params);
    return c.rel === '==' ? d === 0 : c.rel === '!=' ? d !== 0 : c.rel === '<' ? d < 0 : d <= 0;
  }
  if ('not' in c) return !conditionHolds(c.not, params);
  if ('and' in c) return c.and.every((x) => conditionHolds(x, params));
  return c.or.some((x) => conditionHolds(x, params));
}

export function runAssert(step: AotAssertStep, params: Readonly<Record<string, number>>): void {
  if (!conditionHolds(step.condition, params)) throw assertFailure(step.assert);
}

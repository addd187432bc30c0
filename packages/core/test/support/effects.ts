// Side-effect tests: run a program eagerly on fresh state and compiled on fresh state, and compare results,
// final states and the order in which eagerly run statements saw things.
import * as assert from 'uvu/assert';
import { skip } from '@kiln/policy';
import { compileWith } from '../../src/compile.js';
import type { CompileOptions } from '../../src/compile.js';
import { CompileRecorder } from '../../src/explain.js';
import { assertSameValue } from './tracer.js';

/** What eagerly run statements saw (`log` is skipped by the policy, so calling it is a graph break). */
export const events: string[] = [];
export const log = (s: string): void => void events.push(s);
skip(log);

/** Maps and Sets as arrays, so states compare structurally. */
export const plain = (v: unknown): unknown => {
  if (v instanceof Map) return [...v.entries()].map(([a, b]) => [plain(a), plain(b)]);
  if (v instanceof Set) return [...v].map(plain);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([a, b]) => [a, plain(b)]));
  return v;
};

/**
 * Runs `make()`'s program eagerly on fresh state and compiled on fresh state, `times` calls each, and
 * compares results and the final states (tensors by value, everything else structurally).
 */
export function sameEffects<S>(make: () => { state: S; fn: (...a: any[]) => unknown }, args: unknown[], times = 3, options: CompileOptions = {}): { rec: CompileRecorder; state: S; results: unknown[] } {
  const eager = make();
  const compiled = make();
  const rec = new CompileRecorder();
  const f = compileWith(compiled.fn, options, rec);
  events.length = 0;
  const want = Array.from({ length: times }, () => eager.fn(...args));
  const eagerEvents = [...events];
  events.length = 0;
  const results = Array.from({ length: times }, () => f(...args));
  assertSameValue(results, want);
  assertSameValue(plain(compiled.state), plain(eager.state), 'state');
  assert.equal(events, eagerEvents, 'eager statements ran in the same order');
  return { rec, state: compiled.state, results };
}

// Guard fuzzer: a compiled function that reads outside values (fuzz/guard-worlds.ts: a global, a closure
// variable, fields, a prototype method and an own method over it, a list, the input's shape and dtype) is
// called between random mutations of exactly those values; every call must equal the eager function's on
// the same world. A guard that misses a change shows as a stale result. Fixed seed in CI;
// `pnpm fuzz guards --runs N --seed S` long.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { makeWorld, mutationArb, readsArb, type Mutation, type ReadKind } from './fuzz/guard-worlds.js';
import { fuzzProperty } from '../../../test-support/fuzz-settings.js';

/** The same result, or the same error (class and message): a deleted global reads undefined in both. */
function same(compiled: () => unknown, eager: () => unknown, where: string): void {
  const attempt = (f: () => unknown) => { try { return { value: f() }; } catch (error) { return { error: error as Error }; } };
  const [got, want] = [attempt(compiled), attempt(eager)];
  if (got.error || want.error) {
    assert.ok(got.error && want.error, `${where}: compiled ${got.error ? `raised ${got.error.message}` : 'returned'}, eager ${want.error ? `raised ${want.error.message}` : 'returned'}`);
    assert.is(got.error!.constructor, want.error!.constructor, `${where}: error class`);
    assert.is(got.error!.message, want.error!.message, `${where}: error message`);
  } else assertSameValue(got.value, want.value, where);
}

function run(reads: readonly ReadKind[], mutations: readonly Mutation[]): void {
  // Each way of reading the closure variable gets a fresh world (the mutations apply to it from the start).
  for (const variant of [0, 1]) {
    (globalThis as Record<string, unknown>).__kilnGuardFuzz = 0;
    const world = makeWorld(reads);
    const fn = world.fns[variant]!;
    const compiled = compileWith(fn, { recompileLimit: 64 }, new CompileRecorder());
    same(() => compiled(world.input()), () => fn(world.input()), 'first call');
    mutations.forEach((m, i) => {
      world.apply(m);
      const x = world.input();
      same(() => compiled(x), () => fn(x), `after mutation ${i} ${JSON.stringify(m)}`);
    });
  }
}

const Guards = suite('guard fuzzer: outside values changed between calls');

Guards('compiled equals eager after every mutation of what the trace read', () => {
  fuzzProperty('guards', fc.property(readsArb, fc.array(mutationArb, { minLength: 1, maxLength: 12 }), (reads, mutations) => run(reads, mutations)), { runs: 30, seed: 18 });
});

Guards.run();

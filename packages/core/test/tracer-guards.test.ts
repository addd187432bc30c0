import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, compileWith, markDynamic } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { logSink } from '../src/logs/index.js';
import { assertSameValue, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5);
let factor = 2;
let weights = k.ones([4]);
function scaleByFactor(t: Tensor) {
  return t.mul(factor);
}

function counted<F extends (...args: any[]) => any>(fn: F) {
  const rec = new CompileRecorder();
  return { f: compileWith(fn, {}, rec), rec };
}

const Guards = suite('tracer: guard soundness');

Guards('a changed shape recompiles and gives the right result', () => {
  check((a: Tensor) => a.sum(0), [[x], [k.ones([5, 4])], [x]], { graphs: 2, recompiles: 1, fallbacks: 0 });
});

Guards('a changed dtype recompiles', () => {
  check((a: Tensor) => a.add(1), [[x], [x.to('float64')], [k.arange(0, 4)]], { graphs: 3, recompiles: 2 });
});

Guards('a changed rank recompiles', () => {
  check((a: Tensor) => a.exp(), [[x], [k.ones([2, 2, 2])]], { graphs: 2 });
});

Guards('a changed number argument recompiles (constants are specialized)', () => {
  check((a: Tensor, s: number) => a.mul(s), [[x, 2], [x, 3], [x, 2]], { graphs: 2, recompiles: 1 });
});

Guards('a reassigned module-level let is never stale', () => {
  const { f, rec } = counted((t: Tensor) => t.mul(factor));
  assertSameValue(f(x), x.mul(2));
  factor = 5;
  assertSameValue(f(x), x.mul(5));
  factor = 2;
  assertSameValue(f(x), x.mul(2));
  assert.is(rec.entries.length, 2);
});

Guards('a reassigned let read by an inlined helper is never stale', () => {
  const { f } = counted((t: Tensor) => scaleByFactor(t).add(1));
  assertSameValue(f(x), x.mul(2).add(1));
  factor = 7;
  assertSameValue(f(x), x.mul(7).add(1));
  factor = 2;
});

Guards('a reassigned captured tensor is read live', () => {
  const { f, rec } = counted((t: Tensor) => t.add(weights));
  assertSameValue(f(x), x.add(1));
  weights = k.ones([4]).mul(3);
  assertSameValue(f(x), x.add(3));
  weights = k.ones([4]);
  assert.is(rec.entries.length, 1, 'same metadata: the cache hits and the new tensor is an input');
});

Guards('a mutated object field recompiles', () => {
  const cfg = { scale: 2, bias: k.zeros([4]) };
  const { f, rec } = counted((t: Tensor) => t.mul(cfg.scale).add(cfg.bias));
  assertSameValue(f(x), x.mul(2));
  cfg.scale = 4;
  assertSameValue(f(x), x.mul(4));
  cfg.bias = k.ones([4]);
  assertSameValue(f(x), x.mul(4).add(1));
  assert.is(rec.entries.length, 2);
});

Guards('an in-place update of a captured tensor is seen', () => {
  const w = k.zeros([4]);
  const { f } = counted((t: Tensor) => t.add(w));
  assertSameValue(f(x), x);
  w.fill_(2);
  assertSameValue(f(x), x.add(2));
});

Guards('a different class instance recompiles (identity guard)', () => {
  class Scale {
    constructor(readonly s: number) {}
    apply(t: Tensor) {
      return t.mul(this.s);
    }
  }
  const { f, rec } = counted((m: Scale, t: Tensor) => m.apply(t));
  const a = new Scale(2);
  const b = new Scale(3);
  assertSameValue(f(a, x), x.mul(2));
  assertSameValue(f(b, x), x.mul(3));
  assertSameValue(f(a, x), x.mul(2));
  assert.is(rec.entries.length, 2);
});

Guards('closures of the same code share one cache, told apart by their captures', () => {
  const make = (s: number) => compile((t: Tensor) => t.mul(s));
  const two = make(2);
  const three = make(3);
  assertSameValue(two(x), x.mul(2));
  assertSameValue(three(x), x.mul(3));
  assertSameValue(two(x), x.mul(2));
  assertSameValue(make(3)(x), x.mul(3));
});

Guards('a different function behind the same name is guarded', () => {
  const table: { act: (t: Tensor) => Tensor } = { act: (t) => t.relu() };
  const { f } = counted((t: Tensor) => table.act(t));
  assertSameValue(f(x.neg()), x.neg().relu());
  table.act = (t) => t.neg();
  assertSameValue(f(x), x.neg());
});

Guards('array length and object keys are guarded', () => {
  check((ts: Tensor[]) => ts.reduce((s, t) => s.add(t)), [[[x, x]], [[x, x, x]]], { graphs: 2 });
  // { a } returns x itself (no op, no graph); { a, b } fails the keys guard and compiles its add.
  check((o: Record<string, Tensor>) => Object.values(o).reduce((s, t) => s.add(t)), [[{ a: x }], [{ a: x, b: x }]], { graphs: 1, recompiles: 1 });
});

Guards('keys with quotes never reach the guard code unescaped', () => {
  const key = `a"]; globalThis.__pwned = 1; ["`;
  const rec = check((o: Record<string, Tensor>) => o[key]!.exp().add(o.plain!), [[{ [key]: x, plain: x }], [{ [key]: x, plain: x }]], {});
  assert.is((globalThis as Record<string, unknown>).__pwned, undefined);
  assert.is(rec.graphCount, 1);
  assert.is(rec.breaks.length, 0);
  for (const { entry } of rec.entries) {
    assert.not.ok(entry.guardSource.includes(key), 'the raw key appears only JSON-escaped');
    assert.ok(entry.guardSource.includes(JSON.stringify(key)));
  }
});

Guards.run();

const Dynamic = suite('tracer: automatic dynamic shapes and the recompile limit');

Dynamic('the first compile is static; a changed size makes that dim dynamic', () => {
  const rec = check((a: Tensor) => a.mul(2).sum(0), [[k.ones([3, 4])], [k.ones([5, 4])], [k.ones([6, 4])], [k.ones([9, 4])]], { graphs: 2, recompiles: 1 });
  assert.match(rec.entries[1]!.reason ?? '', /L\['a'\]\.shape\[0\] == 3: expected 3, got 5/);
});

Dynamic('dynamic sizes flow into shape arithmetic and outputs', () => {
  check((a: Tensor) => ({ flat: a.reshape([a.shape[0]! * 4]), n: a.shape[0]! + 1 }), [[k.ones([3, 4])], [k.ones([5, 4])], [k.ones([7, 4])]], { graphs: 2 });
});

Dynamic('markDynamic makes the first compile dynamic', () => {
  const a = k.ones([3, 4]);
  markDynamic(a, 0);
  check((t: Tensor) => t.exp(), [[a], [k.ones([5, 4])], [k.ones([8, 4])]], { graphs: 1, recompiles: 0 });
});

Dynamic('dynamic: true compiles once for every size; false recompiles each time', () => {
  const calls = [[k.ones([3, 4])], [k.ones([5, 4])], [k.ones([6, 4])]];
  check((t: Tensor) => t.relu(), calls, { graphs: 1, options: { dynamic: true } });
  check((t: Tensor) => t.relu(), calls, { graphs: 3, options: { dynamic: false } });
});

Dynamic('a shape-dependent branch guards the dynamic size', () => {
  check((t: Tensor) => (t.shape[0]! > 4 ? t.exp() : t.neg()), [[k.ones([3, 2])], [k.ones([4, 2])], [k.ones([6, 2])], [k.ones([2, 2])]], { fallbacks: 0 });
});

Dynamic('at the limit: one warning, then eager, existing entries still used', () => {
  const lines: string[] = [];
  const write = logSink.write;
  logSink.write = (l) => void lines.push(l);
  try {
    // A comparison specializes the number (a tensor op alone would take it as a scalar graph input).
    const rec = check((t: Tensor, n: number) => (n >= 0 ? t.mul(n) : t), Array.from({ length: 12 }, (_, i) => [x, i]).concat([[x, 0]]), { options: { recompileLimit: 8 } });
    assert.is(rec.entries.length, 8);
    const warnings = lines.filter((l) => l.includes('recompile limit'));
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /L\['n'\] === 7: expected 7, got 8/);
  } finally {
    logSink.write = write;
  }
});

Dynamic.run();

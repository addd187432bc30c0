// Issue #18 item 7: JS operators on sizes inside a function given to traceOps. JS cannot overload `>`, so a
// size converted to a number is specialized with a guard (backed) or raises DataDependentError (unbacked),
// as sizeLt does — never a silent comparison of the SymInt object that records the other branch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { DataDependentError, NestedIntError, ShapeEnv, produceGuards } from '@kiln/shapes';
import { printGraph, traceOps } from '@kiln/graph';

const guardTexts = (env: Parameters<typeof produceGuards>[0]) => produceGuards(env).map((g) => g.text);
const lastOp = (graph: Parameters<typeof printGraph>[0]) => graph.nodes.filter((n) => n.kind === 'call').at(-1)?.target;

const Comparisons = suite('traceOps: JS operators on sizes');

Comparisons('a > on a backed size takes the eager branch and guards it (issue repro)', () => {
  const h = (a: k.Tensor) => ((a.shape[0] as unknown as number) > 4 ? a.relu() : a.neg());
  const { apiGraph, shapeEnv } = traceOps(h, [k.randn([8, 3])]);
  assert.is(lastOp(apiGraph), 'relu', printGraph(apiGraph));
  const texts = guardTexts(shapeEnv);
  assert.ok(texts.includes('L.args[0].shape[0] == 8'), texts.join('\n'));
});

Comparisons('the other operators: <=, ==, arithmetic, Math.max, unary +', () => {
  const cases: [(n: number) => boolean, boolean][] = [
    [(n) => n <= 8, true],
    // eslint-disable-next-line eqeqeq
    [(n) => n == 8, true],
    [(n) => n + 1 === 9, true],
    [(n) => Math.max(n, 10) === 10, true],
    [(n) => +n === 8, true],
    [(n) => n * 2 < 10, false],
  ];
  for (const [test, eager] of cases) {
    const fn = (a: k.Tensor) => (test(a.shape[0] as unknown as number) ? a.relu() : a.neg());
    const { apiGraph, shapeEnv } = traceOps(fn, [k.randn([8, 3])]);
    assert.is(lastOp(apiGraph), eager ? 'relu' : 'neg', `${test}`);
    assert.ok(guardTexts(shapeEnv).includes('L.args[0].shape[0] == 8'), `${test}: guarded`);
  }
});

Comparisons('a static size compares as the number it is', () => {
  const h = (a: k.Tensor) => ((a.shape[0] as unknown as number) > 4 ? a.relu() : a.neg());
  const { apiGraph } = traceOps(h, [k.randn([8, 3])], { dynamic: false });
  assert.is(lastOp(apiGraph), 'relu');
});

Comparisons('a size printed in text stays symbolic (no guard)', () => {
  let text = '';
  const fn = (a: k.Tensor) => {
    text = `rows=${a.shape[0]}`;
    return a.neg();
  };
  const { shapeEnv } = traceOps(fn, [k.randn([8, 3])]);
  assert.is(text, 'rows=s0');
  assert.not.ok(guardTexts(shapeEnv).some((t) => t.includes('==')), guardTexts(shapeEnv).join('\n'));
});

Comparisons('a > on an unbacked size raises DataDependentError (issue repro)', () => {
  const f = (a: k.Tensor) => {
    const n = a.gt(0).nonzero().shape[0] as unknown as number;
    if (n > 2) return a;
    return a.neg();
  };
  assert.throws(() => traceOps(f, [k.tensor([0, 1, 2, 0])]), (e: unknown) => e instanceof DataDependentError && /u0/.test(e.message));
});

Comparisons('arithmetic on an unbacked size raises too; sizeLt and explicit methods still work', () => {
  const plusOne = (a: k.Tensor) => a.reshape([(a.gt(0).nonzero().shape[0] as unknown as number) + 1]);
  assert.throws(() => traceOps(plusOne, [k.tensor([0, 1, 2, 0])]), (e: unknown) => e instanceof DataDependentError);
  const explicit = (a: k.Tensor) => (k.sizeLt(4, a.shape[0]!) ? a.relu() : a.neg());
  assert.is(lastOp(traceOps(explicit, [k.randn([8, 3])]).apiGraph), 'relu');
});

Comparisons('symbolic booleans and nested ints under JS operators', () => {
  const env = new ShapeEnv();
  const s = env.createSymbol(5, 'x.shape[0]');
  const gt = (s as unknown as { gt(o: number): unknown }).gt(3);
  // eslint-disable-next-line eqeqeq
  assert.ok((gt as unknown as boolean) == true);
  assert.ok(env.guards().length > 0, 'the comparison was guarded');
  const j = env.createNestedInt();
  assert.throws(() => (j as unknown as number) > 2, (e: unknown) => e instanceof NestedIntError);
});

Comparisons.run();

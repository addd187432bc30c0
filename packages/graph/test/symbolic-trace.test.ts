import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { DataDependentError, produceGuards } from '@kiln/shapes';
import { Interpreter, printGraph, traceOps } from '@kiln/graph';

const guards = suite('guards from op-level tracing');

const guardTexts = (env: Parameters<typeof produceGuards>[0]) => produceGuards(env).map((g) => g.text);

guards('duck sizing: equal example sizes share a symbol and produce an equality guard', () => {
  const { apiGraph, shapeEnv } = traceOps((x: k.Tensor, y: k.Tensor) => x.add(y), [k.randn([4, 3]), k.randn([4, 3])]);
  assert.match(printGraph(apiGraph), /%arg1: f32\[s0, s1\] = placeholder/);
  const texts = guardTexts(shapeEnv);
  assert.ok(texts.some((t) => t.includes('L.args[0].shape[0]') && t.includes('L.args[1].shape[0]') && t.includes('==')), texts.join('\n'));
});

guards('distinct sizes get distinct symbols; broadcasting against 1 specializes nothing else', () => {
  const { apiGraph } = traceOps((x: k.Tensor, y: k.Tensor) => x.matmul(y), [k.randn([4, 3]), k.randn([3, 5])]);
  assert.match(printGraph(apiGraph), /= matmul\(%arg0, %arg1\)/);
  assert.match(printGraph(apiGraph), /f32\[s0, s1\] = placeholder\[L.args\[0\]\]/);
  assert.match(printGraph(apiGraph), /f32\[s1, s2\] = placeholder\[L.args\[1\]\]/);
});

guards('0/1 specialization: sizes 0 and 1 are constants', () => {
  const { apiGraph } = traceOps((x: k.Tensor) => x.neg(), [k.randn([1, 5, 0])]);
  assert.match(printGraph(apiGraph), /%arg0: f32\[1, s0, 0\]/);
});

guards('dynamic: false makes every size static', () => {
  const { apiGraph } = traceOps((x: k.Tensor) => x.neg(), [k.randn([4, 5])], { dynamic: false });
  assert.match(printGraph(apiGraph), /%arg0: f32\[4, 5\]/);
});

guards('a size comparison in user code becomes a guard with its source', () => {
  const { shapeEnv } = traceOps((x: k.Tensor) => (k.sizeLt(3, x.shape[0]!) ? x.neg() : x.exp()), [k.randn([4, 5])]);
  const texts = guardTexts(shapeEnv);
  // 3 < s0 over integers is kept as s0 >= 4.
  assert.ok(texts.includes('L.args[0].shape[0] >= 4'), texts.join('\n'));
});

guards.run();

const unbacked = suite('unbacked (data-dependent) sizes');

unbacked('nonzero then indexSelect: the output size is the unbacked symbol u0', () => {
  const fn = (x: k.Tensor, y: k.Tensor) => {
    const idx = x.nonzero();
    return y.indexSelect(0, idx.flatten());
  };
  const { apiGraph } = traceOps(fn, [k.tensor([0, 1, 0, 1, 1]), k.randn([5, 3])]);
  const printed = printGraph(apiGraph);
  assert.match(printed, /= nonzero\(%arg0\)/);
  assert.match(printed, /f32\[u0, s\d\] = indexSelect/);
  const x = k.tensor([1, 0, 0, 1, 0]);
  const y = k.randn([5, 3]);
  const out = (new Interpreter(apiGraph).run([x, y]) as k.Tensor[])[0]!;
  assert.equal(out.toArray(), fn(x, y).toArray());
});

unbacked('item() used as a size flows through as a SymInt', () => {
  const fn = (n: k.Tensor) => k.zeros([n.sum().item() as number, 2]);
  const { apiGraph } = traceOps(fn, [k.tensor([1, 2])]);
  assert.match(printGraph(apiGraph), /f32\[u0, 2\] = zeros\(\[%?[u\d]+, 2\]\)|f32\[u0, 2\] = zeros\(\[u0, 2\]\)/);
  const out = (new Interpreter(apiGraph).run([k.tensor([3, 4])]) as k.Tensor[])[0]!;
  assert.equal(out.shape, [7, 2]);
});

unbacked('branching on an unbacked size raises a DataDependentError that says what to do', () => {
  try {
    traceOps((x: k.Tensor) => (k.sizeLt(2, x.nonzero().shape[0]!) ? x.neg() : x), [k.tensor([1, 0, 1])]);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, DataDependentError);
    const msg = (err as Error).message;
    assert.match(msg, /u0/);
    assert.match(msg, /nonzero/);
    assert.match(msg, /check\(/);
    assert.match(msg, /checkIsSize\(u0\)/);
  }
});

unbacked.run();

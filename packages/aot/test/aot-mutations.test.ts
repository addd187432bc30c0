// AOT modules of functions that write in place (@kiln/export's mutations): the module writes the new values
// into the caller's typed arrays, `{ data }` objects or Kiln tensors, and keeps its own copy of a written
// buffer (a running mean) from call to call — as the eager function changes its arguments and its model.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Dim } from '@kiln/export';
import { assertClose, assertThrowsNamed, compileAndLoad } from './support.js';

type Out = { data: Float32Array; shape: number[]; dtype: string };
const test = suite('aot: in-place writes to arguments and state');

test('an argument written in place: a typed array, { data, shape } and a Kiln tensor all end as eager leaves them', async () => {
  function accumulate(acc: k.Tensor, x: k.Tensor) {
    acc.add_(x.relu());
    return acc.sum(0);
  }
  const { model, compiled } = await compileAndLoad(accumulate, [k.randn([3, 4]), k.randn([3, 4])], { exportOptions: { dims: [{ 0: Dim('n') }, { 0: Dim('n') }] } });
  assert.equal(compiled.plan.mutations.map((m) => ('arg' in m ? m.arg : -1)), [0]);
  for (const n of [2, 7]) {
    const [acc, x] = [k.randn([n, 4]), k.randn([n, 4])];
    const eagerAcc = acc.clone();
    const want = accumulate(eagerAcc, x);
    const asArray = acc.toTypedArray() as Float32Array;
    assertClose((model(asArray, x.toTypedArray()) as Out).data, want.toTypedArray(), `result n=${n}`);
    assertClose(asArray, eagerAcc.toTypedArray(), `typed array argument n=${n}`);
    const asObject = { data: acc.toTypedArray() as Float32Array, shape: [n, 4] };
    model(asObject, { data: x.toTypedArray(), shape: [n, 4] });
    assertClose(asObject.data, eagerAcc.toTypedArray(), `{ data, shape } argument n=${n}`);
    const asTensor = acc.clone();
    model(asTensor, x);
    assertClose(asTensor.toTypedArray(), eagerAcc.toTypedArray(), `Kiln tensor argument n=${n}`);
  }
  const shared = new Float32Array(8);
  assertThrowsNamed(() => model(shared, shared), 'AotInputError', /input 'acc' is written in place and shares its memory with input 'x'/);
});

test('a running-stat buffer written through `this`: the module keeps its own copy, call after call, as the eager model', async () => {
  class RunningCenter {
    runningMean = k.zeros([4]);
    forward(x: k.Tensor) {
      this.runningMean.mul_(0.9).add_(x.mean(0).mul(0.1));
      return x.sub(this.runningMean);
    }
  }
  const eager = new RunningCenter();
  const exported = new RunningCenter();
  const { model, compiled } = await compileAndLoad(exported.forward.bind(exported), [k.randn([8, 4])], { exportOptions: { dims: [{ 0: Dim('batch') }] } });
  assert.equal(compiled.plan.mutations.filter((m) => 'buffer' in m).length, 1);
  for (const n of [8, 3, 20]) {
    const x = k.randn([n, 4]);
    assertClose((model({ data: x.toTypedArray(), shape: [n, 4] }) as Out).data, eager.forward(x).toTypedArray(), `call with batch ${n}`);
  }
});

test.run();

// In-place writes to inputs and lifted state in exported programs, as torch.export treats them: the graph is
// functional, each write's new value is an extra graph output recorded in `mutations`, and the runner copies
// it into the caller's tensor (or the module's buffer) after the call — so a saved, loaded program changes
// what the eager function changes. ONNX models return the new values as extra outputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import { FullGraphError } from '@kiln/core';
import * as k from '@kiln/tensor';
import { Dim, exportProgram, loadProgram, printProgram, programModule, readProgram, saveProgram, serializeProgram, toOnnx } from '@kiln/export';
import { runOnnx, session } from './onnx-support.js';

const Mutations = suite('export: in-place writes to inputs and state');

const rand = (shape: number[], seed = 1) => k.randn(shape, { generator: new k.Generator(seed) });
const same = (a: k.Tensor, b: k.Tensor, what: string) => {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  assert.ok((a.sub(b).abs().max().item() as number) < 1e-6, `${what}: values ${String(Array.from(a.toTypedArray()).slice(0, 4))} vs ${String(Array.from(b.toTypedArray()).slice(0, 4))}`);
};

/** A running mean kept in a buffer, updated in place on every call (BatchNorm's running stats). */
class RunningCenter {
  runningMean = k.zeros([4]);
  calls = k.zeros([1]);
  forward(x: k.Tensor) {
    this.runningMean.mul_(0.9).add_(x.mean(0).mul(0.1));
    this.calls.add_(1);
    return x.sub(this.runningMean);
  }
}

Mutations('an in-place write to an argument: exported, saved, loaded and run, the caller\'s tensor changes as in eager code', () => {
  function accumulate(acc: k.Tensor, x: k.Tensor) {
    acc.add_(x.relu());
    acc.clamp_(-1, 2);
    return acc.sum(0).mul(2);
  }
  const program = exportProgram(accumulate, [rand([3, 4]), rand([3, 4], 2)], { dims: [{ 0: Dim('n') }, { 0: Dim('n') }] });
  assert.equal(program.mutations.map((m) => [m.kind, m.target]), [['input', 'acc']]);
  assert.match(program.mutations[0]!.location!, /mutations\.test\.ts:\d+/);
  assert.match(printProgram(program), /mutations \(written back after each call\):\n {2}input acc <- graph output \d+/);
  const run = loadProgram(saveProgram(program), { backend: 'cpu' });
  for (const n of [3, 5, 11]) {
    const [accEager, accRun, x] = [rand([n, 4], n), rand([n, 4], n), rand([n, 4], n + 100)];
    const want = accumulate(accEager, x);
    const got = run(accRun, x) as k.Tensor;
    same(got, want, `result at n=${n}`);
    same(accRun, accEager, `the mutated argument at n=${n}`);
  }
});

Mutations('a running-stat buffer written through `this`: the loaded module keeps and updates its own copy, call after call, as the eager model does', () => {
  const eager = new RunningCenter();
  const exported = new RunningCenter();
  const program = exportProgram(exported, [rand([8, 4])], { dims: [{ 0: Dim('batch') }] });
  assert.equal(program.mutations.map((m) => [m.kind, m.target]), [['state', 'runningMean'], ['state', 'calls']]);
  assert.equal(Array.from(exported.runningMean.toTypedArray()), [0, 0, 0, 0], 'exporting runs nothing');
  const run = loadProgram(saveProgram(program), { backend: 'cpu' });
  for (const [i, n] of [8, 3, 20].entries()) {
    const x = rand([n, 4], 10 + i);
    same(run(x) as k.Tensor, eager.forward(x), `call ${i}`);
    same(run.state.get('runningMean')!, eager.runningMean, `running mean after call ${i}`);
    same(run.state.get('calls')!, eager.calls, `call count after call ${i}`);
  }
  // The program's own snapshot does not move: a second module starts from it.
  assert.equal(Array.from(program.stateDict.get('runningMean')!.toTypedArray()), [0, 0, 0, 0]);
  assert.equal(Array.from(programModule(program).state.get('calls')!.toTypedArray()), [0]);
});

Mutations('the mutated argument returned as itself is the caller\'s own tensor, with the new values; the eager backend agrees', () => {
  const scale = (x: k.Tensor) => x.mul_(3);
  const run = programModule(readProgram(saveProgram(exportProgram(scale, [rand([2, 3])]))), { backend: 'eager' });
  const x = rand([2, 3], 5);
  const before = x.clone();
  assert.ok(run(x) === x, 'returned as itself');
  same(x, before.mul(3), 'written in place');
});

Mutations('program.json: mutations are written as format version 2 (version 1 when there are none) and read back checked', () => {
  const withWrites = serializeProgram(exportProgram((x: k.Tensor) => x.sub_(1).exp(), [rand([3])]));
  assert.is(withWrites.json.formatVersion, 2);
  assert.equal(withWrites.json.mutations!.map((m) => ({ kind: m.kind, target: m.target })), [{ kind: 'input', target: 'x' }]);
  assert.is(serializeProgram(exportProgram((x: k.Tensor) => x.exp(), [rand([3])])).json.formatVersion, 1);
});

Mutations('writes to outside objects other than tensors stay an error naming the line and the target', () => {
  const model = {
    steps: 0,
    forward(x: k.Tensor) {
      this.steps = x.shape[0]!;
      return x.relu();
    },
  };
  assert.throws(() => exportProgram(model, [rand([3])]), (e: unknown) => e instanceof FullGraphError && /mutations\.test\.ts:\d+: the function changes a value from outside it \(a write to a property of T\)/.test((e as Error).message));
});

Mutations('ONNX: each written input or buffer is one more output, <target>.mutated, after the function\'s own', async () => {
  const model = new RunningCenter();
  const program = exportProgram(model, [rand([8, 4])], { dims: [{ 0: Dim('batch') }] });
  const s = await session(toOnnx(program));
  assert.equal(s.outputNames.slice(1), ['runningMean.mutated', 'calls.mutated']);
  const x = rand([5, 4], 3);
  const [y, mean, calls] = await runOnnx(s, [x]);
  const eager = new RunningCenter();
  same(y!, eager.forward(x), 'result');
  same(mean!, eager.runningMean, 'new running mean');
  same(calls!, eager.calls, 'new call count');
});

Mutations.run();

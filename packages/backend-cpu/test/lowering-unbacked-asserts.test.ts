// Data-dependent sizes (nonzero's row count, item()'s value) inside compiled frames: the ops are recorded,
// the check() / checkIsSize() asserts over their sizes travel with the graph and run where the size is
// bound — a `check` step right after the fallback that computes it on the cpu backend, right after the
// node in the interpreter (the eager backend) — with the error eager code raises.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { CheckFailedError } from '@kiln/shapes';
import { CompileRecorder, check, checkIsSize, compileWith, explain } from '@kiln/core';
import '@kiln/backend-cpu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertTensorClose } from './lowering-check.js';

const BACKENDS = ['cpu', 'eager'] as const;
/** The line of this file that contains `text` (an error must name the user's line). */
const lineOf = (text: string): number => readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

/** Compiles `fn` once per backend, runs every input set through the same entry, compares with eager. */
function sameAsEager(fn: (x: k.Tensor) => unknown, inputs: readonly k.Tensor[]) {
  for (const backend of BACKENDS) {
    const recorder = new CompileRecorder();
    const fast = compileWith(fn, { backend, dynamic: true }, recorder);
    for (const x of inputs) {
      const got = fast(x) as unknown[];
      const want = fn(x) as unknown[];
      want.forEach((w, i) =>
        w instanceof k.Tensor ? assertTensorClose(got[i] as k.Tensor, w, 1e-6, `${backend} output ${i} for [${x.toArray()}]`) : assert.is(got[i], w),
      );
    }
    assert.is(recorder.entries.length, 1, `${backend}: one entry serves every nonzero count / item value`);
    assert.is(recorder.breaks.length, 0, `${backend}: no graph break`);
  }
}

/** Runs `fn` eagerly and compiled on `x`: both must raise CheckFailedError carrying `message`. */
function raisesLikeEager(fn: (x: k.Tensor) => unknown, ok: k.Tensor, bad: k.Tensor, message: RegExp, line?: number) {
  assert.throws(() => fn(bad), (e: Error) => e instanceof CheckFailedError && message.test(e.message), 'eager raises');
  for (const backend of BACKENDS) {
    const fast = compileWith(fn, { backend, dynamic: true }, undefined);
    fast(ok);
    assert.throws(
      () => fast(bad),
      (e: Error) => e instanceof CheckFailedError && message.test(e.message) && (line === undefined || e.message.includes(`lowering-unbacked-asserts.test.ts:${line}`)),
      `${backend} raises CheckFailedError with the message${line ? ` and line ${line}` : ''}`,
    );
  }
}

const compiled = suite('data-dependent sizes in compiled frames');

compiled('a size from nonzero or item() that is returned or used, while the tensor itself is not, is still computed', () => {
  sameAsEager((x) => [x.gt(0).nonzero().shape[0]! + 1], [k.tensor([1, -2, 3]), k.tensor([-1, -1]), k.tensor([5, 6, 7, 8])]);
  sameAsEager((x) => {
    const n = x.gt(0).sum().item() as number;
    return [k.zeros([n]).add(1).sum(), n * 2];
  }, [k.tensor([1, -2, 3]), k.tensor([-1, -1]), k.tensor([5, 6, 7, 8])]);
});

compiled('nonzero then check() and kernels sized by the row count: one graph, same results as eager for every count', () => {
  const fn = (x: k.Tensor) => {
    const nz = x.nonzero();
    const n = nz.shape[0]!;
    check(n > 1, 'need two nonzeros');
    return [nz.mul(2), k.ones([n, 3]).mul(x.sum()), n];
  };
  sameAsEager(fn, [k.tensor([1, 0, 2, 3]), k.tensor([0, 5, 0, 0, 7, 1, 1]), k.tensor([4, 4])]);
});

compiled('the cpu program checks the assert right after the fallback that binds the size, before any kernel it sizes', () => {
  const fn = (x: k.Tensor) => {
    const n = x.nonzero().shape[0]!;
    check(n > 1, 'need two nonzeros');
    return k.ones([n]).add(x.sum());
  };
  const report = explain(fn, { backend: 'cpu' })(k.tensor([1, 0, 2]));
  assert.is(report.graphCount, 1);
  assert.is(report.backends[0]!.wholeGraphFallback, undefined);
  const code = report.backends[0]!.code!;
  const lines = code.split('\n');
  const bind = lines.findIndex((l) => /eager .*nonzero\(…\) → (u\d+) = shape\[0\]/.test(l));
  assert.ok(bind >= 0, code);
  assert.match(lines[bind + 1]!, /^check u\d+ > 1 {2}# runtime assert \(.*:\d+\) "need two nonzeros"$/);
});

compiled('a failing assert raises CheckFailedError with the message and line, and nothing after it is replayed', () => {
  const log: unknown[] = [];
  const fn = (x: k.Tensor) => {
    const nz = x.nonzero();
    check(nz.shape[0]! > 1, 'need two nonzeros');
    log.push(nz.sum());
    return nz.add(1);
  };
  raisesLikeEager(fn, k.tensor([1, 0, 2]), k.tensor([0, 0, 3]), /need two nonzeros/, lineOf("check(nz.shape[0]! > 1, 'need two nonzeros')"));
  const pushed = log.length;
  for (const backend of BACKENDS) {
    const fast = compileWith(fn, { backend, dynamic: true }, undefined);
    fast(k.tensor([1, 1]));
    assert.throws(() => fast(k.tensor([0, 3])), (e: Error) => e instanceof CheckFailedError);
  }
  assert.is(log.length, pushed + BACKENDS.length, 'only the passing calls pushed');
});

compiled('checkIsSize(item()) then zeros([n]): sizes from the data, and a negative value raises CheckFailedError', () => {
  const fn = (x: k.Tensor) => {
    const n = x.sum().item() as number;
    checkIsSize(n);
    return [k.zeros([n, 2]).add(1), n];
  };
  sameAsEager(fn, [k.tensor([1, 2]), k.tensor([0, 0]), k.tensor([4, 1])]);
  raisesLikeEager(fn, k.tensor([1, 2]), k.tensor([1, -4]), /u\d+ >= 0|-3 >= 0/);
});

compiled('an item() value used as a size without checkIsSize is asserted >= 0 implicitly (eager raises ShapeError there)', () => {
  const fn = (x: k.Tensor) => [k.ones([x.sum().item() as number]).mul(3)];
  sameAsEager(fn, [k.tensor([1, 2]), k.tensor([0, 0]), k.tensor([5, 1])]);
  assert.throws(() => fn(k.tensor([1, -4])), (e: Error) => e instanceof k.ShapeError);
  for (const backend of BACKENDS) {
    const fast = compileWith(fn, { backend, dynamic: true }, undefined);
    fast(k.tensor([2, 2]));
    assert.throws(() => fast(k.tensor([1, -4])), (e: Error) => e instanceof CheckFailedError && /ones\(\) uses the data-dependent size u\d+ as a size/.test(e.message));
  }
});

compiled('an assert whose nonzero result is otherwise unused still runs (the op is not dead code)', () => {
  const fn = (x: k.Tensor) => {
    check(x.nonzero().shape[0]! >= 2, 'at least two');
    return x.mul(2);
  };
  raisesLikeEager(fn, k.tensor([1, 1, 0]), k.tensor([1, 0, 0]), /at least two/);
});

compiled.run();

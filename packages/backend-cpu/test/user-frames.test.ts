// Issue #18 item 10: an error raised inside compiled code carries the user's source frame — the file and
// line of the user code that called the op — as the same error raised by eager code does (where it is a
// frame of the JS stack). Compiled code runs the op far from that line, so the runner puts the node's
// source on top of the stack.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { fileURLToPath } from 'node:url';

const THIS_FILE = fileURLToPath(import.meta.url);

/** `file:line` of the first stack frame in this file: for an eager error, the line that called the op. */
function userFrame(err: unknown): string | undefined {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  for (const line of stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):\d+\)?$/.exec(line.trim());
    if (m && (m[1] === THIS_FILE || m[1] === `file://${THIS_FILE}`)) return `${THIS_FILE}:${m[2]}`;
  }
  return undefined;
}

function raised(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/**
 * The compiled error has eager's class and eager's user frame on its stack (`file` names the frame's file
 * by its name only: check() asserts record `model.ts:12`, without the directory).
 */
function assertSameFrame(fn: (...a: never[]) => unknown, args: unknown[], options: k.CompileOptions = {}, file: 'path' | 'name' = 'path'): void {
  const eager = raised(() => (fn as (...a: unknown[]) => unknown)(...args));
  const frame = userFrame(eager);
  assert.ok(frame, `eager error has no frame in this file:\n${eager.stack}`);
  const compiled = k.compile(fn as (...a: unknown[]) => unknown, options);
  const err = raised(() => compiled(...args));
  assert.is(err.constructor, eager.constructor, `${err.constructor.name}: ${err.message}`);
  const normalized = (err.stack ?? '').replaceAll(`file://${THIS_FILE}`, THIS_FILE);
  const want = file === 'path' ? `(${frame}:` : `(${frame.split('/').pop()})`;
  assert.ok(normalized.includes(want), `compiled error lacks the user frame ${want}:\n${err.stack}`);
}

const frames = suite('errors inside compiled code carry the user frame');

frames('int32 remainder by 0', () => {
  const rem = (a: k.Tensor, b: k.Tensor) =>
    a.add(1).remainder(b);
  assertSameFrame(rem, [k.tensor([1, 2], { dtype: 'int32' }), k.tensor([0, 1], { dtype: 'int32' })]);
});

frames('a gather index out of range (the compiled index check)', () => {
  const pick = (x: k.Tensor, i: k.Tensor) =>
    x.indexSelect(0, i).mul(2);
  assertSameFrame(pick, [k.randn([3]), k.tensor([0, 5], { dtype: 'int32' })]);
});

frames('an embedding-style gather with a symbolic size', () => {
  const pick = (x: k.Tensor, i: k.Tensor) =>
    x.mul(3).gather(0, i);
  assertSameFrame(pick, [k.randn([4]), k.tensor([1, 9, 0], { dtype: 'int32' })], { dynamic: true });
});

frames('a failed check() on a data-dependent size', () => {
  const positives = (x: k.Tensor) => {
    const n = x.gt(0).nonzero().shape[0]!;
    k.check(n > 2);
    return x.mul(2);
  };
  assertSameFrame(positives, [k.tensor([1, -1, -2, 0])], {}, 'name');
});

frames.run();

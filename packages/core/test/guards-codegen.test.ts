import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const Codegen = suite('guard code: sizes read once, relations over scratch variables');

Codegen('each input size is read once; relational guards compare the scratch variables', () => {
  const f = (x: k.Tensor, y: k.Tensor) => x.add(y).matmul(y.transpose(0, 1));
  const rec = new CompileRecorder();
  const fast = compileWith(f, { dynamic: true }, rec);
  fast(k.ones([3, 4]), k.ones([3, 4]));
  const entry = rec.entries[0]!.entry;
  const source = entry.guardSource;
  for (const size of ['L[0].shape[0]', 'L[1].shape[0]', 'L[0].shape[1]', 'L[1].shape[1]']) {
    assert.is(source.split(size).length - 1, 1, `${size} is read once in:\n${source}`);
  }
  assert.match(source, /if \(!\(s\d+ === s\d+\)\)/);
  // The relation still decides: mismatched sizes miss the cache (a recompile), matching ones hit.
  assertSameValue(fast(k.ones([5, 2]), k.ones([5, 2])), f(k.ones([5, 2]), k.ones([5, 2])));
  assert.is(rec.entries.length, 1);
  assert.throws(() => fast(k.ones([5, 2]), k.ones([4, 2])));
  assert.is(entry.guard([k.ones([5, 2]), k.ones([4, 2])], undefined, [], []) >= 0, true);
});

Codegen.run();

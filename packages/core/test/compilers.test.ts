// Compiler state is per compiler: configs, policies, hooks and backends of two compilers in one process
// never leak into each other or into the process-wide default.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { Compiler } from '../src/compiler.js';
import { createCompiler } from '../src/config/index.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const x = k.tensor([[0.5, -1, 2], [3, 0.25, -2]]);
const model = (t: Tensor) => k.exp(t.mul(2)).sum(-1);

/** Compiles `model` with `compiler`, calls it, and says how many graph breaks it took (result checked against eager). */
function breaksUnder(compiler: Compiler): number {
  const recorder = new CompileRecorder();
  const compiled = compileWith(model, { compiler }, recorder);
  assertSameValue(compiled(x), model(x));
  return recorder.breaks.length;
}

const Compilers = suite('two compilers in one process');

Compilers('policy overrides from one config decide only for that compiler', async () => {
  const strict = await createCompiler({ policy: { disallowInGraph: ['@kiln/tensor#exp'] } }, 'strict.config.json');
  const plain = await createCompiler({}, 'plain.config.json');
  // Interleaved, twice: neither compiler's decisions are cached into the other's.
  for (let i = 0; i < 2; i++) {
    assert.is(breaksUnder(strict), 1, 'exp is disallowed in the strict compiler');
    assert.is(breaksUnder(plain), 0, 'the plain compiler keeps exp in the graph');
    assert.is(breaksUnder(new Compiler()), 0, 'a default compiler is unaffected too');
  }
  assert.is(strict.calls.decide(k.exp, 'exp').kind, 'skip');
  assert.is(plain.calls.decide(k.exp, 'exp').kind, 'allowInGraph');
});

Compilers('hooks and backends stay with their compiler', async () => {
  const seen: string[] = [];
  const a = await createCompiler({ backend: 'eager' }, 'a.config.json');
  const b = await createCompiler({}, 'b.config.json');
  a.hooks.graphCaptured.tap('test', () => void seen.push('a'));
  b.hooks.graphCaptured.tap('test', () => void seen.push('b'));
  const recorderA = new CompileRecorder();
  const recorderB = new CompileRecorder();
  assertSameValue(compileWith(model, { compiler: a }, recorderA)(x), model(x));
  assertSameValue(compileWith(model, { compiler: b }, recorderB)(x), model(x));
  assert.equal(seen, ['a', 'b']);
  const backendOf = (r: CompileRecorder) => (r.entries[0]!.entry as { backend?: string }).backend;
  assert.is(backendOf(recorderA), 'eager');
  assert.is(backendOf(recorderB), 'cpu', "b's config leaves 'auto', which is the CPU backend once loaded");
});

Compilers.run();

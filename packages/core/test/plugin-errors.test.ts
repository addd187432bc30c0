import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile } from '../src/compile.js';
import { Compiler } from '../src/compiler.js';
import { explain } from '../src/explain.js';
import { PluginError } from '../src/hooks.js';
import { FullGraphError } from '../src/trace/errors.js';
import { logSink } from '../src/logs/index.js';

const Plugins = suite('plugin errors are attributed');

function captureLog<T>(run: () => T): { value: T; lines: string[] } {
  const lines: string[] = [];
  const write = logSink.write;
  logSink.write = (line) => void lines.push(line);
  try {
    return { value: run(), lines };
  } finally {
    logSink.write = write;
  }
}

function brokenPassCompiler(): Compiler {
  return new Compiler().use({
    name: 'my-pass',
    apply(c) {
      c.hooks.graphPasses.tap('my-pass', () => {
        throw new RangeError('pass exploded');
      });
    },
  });
}

Plugins('a throwing graph pass runs the frame eagerly, with one warning per location naming the plugin', () => {
  const compiler = brokenPassCompiler();
  const f = (x: Tensor) => x.mul(2).add(1);
  const fast = compile(f, { compiler });
  const { lines } = captureLog(() => {
    for (let i = 0; i < 3; i++) assert.equal(fast(k.ones([2, i + 2])).toArray(), f(k.ones([2, i + 2])).toArray());
  });
  const warnings = lines.filter((l) => l.includes('warning'));
  assert.is(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /runs eagerly: plugin 'my-pass' failed in hook 'graphPasses': pass exploded/);
  assert.not.match(lines.join('\n'), /internal tracer error|report/);
});

Plugins('one warning per location: explain() and compile() with other options of the same function warn no more', () => {
  const compiler = brokenPassCompiler();
  const f = (x: Tensor) => x.mul(3);
  const { lines } = captureLog(() => {
    compile(f, { compiler })(k.ones([2]));
    const out = explain(f, { compiler })(k.ones([2]));
    assert.match(String(out), /plugin 'my-pass' failed in hook 'graphPasses'/, 'explain still shows the reason');
    compile(f, { compiler, dynamic: false })(k.ones([2]));
  });
  assert.is(lines.filter((l) => l.includes('warning')).length, 1, lines.join('\n'));
});

Plugins('explain shows the plugin failure as the reason', () => {
  const out = captureLog(() => explain((x: Tensor) => x.relu().sum(), { compiler: brokenPassCompiler() })(k.ones([3]))).value;
  assert.match(String(out), /plugin 'my-pass' failed in hook 'graphPasses': pass exploded/);
  assert.not.match(String(out), /internal tracer error/);
});

Plugins('where the plugin threw is in the warning and in explain (its file and line), not "<unknown>"', () => {
  const throwLine = Number(/:(\d+):\d+\)?$/m.exec(new Error().stack!.split('\n')[1]!)![1]) + 4; // the `throw` below
  const compiler = new Compiler().use({
    name: 'my-frame-plugin',
    apply(c) {
      c.hooks.frameStart.tap('my-frame-plugin', () => { throw new Error('frame hook exploded'); });
    },
  });
  const { value, lines } = captureLog(() => explain((x: Tensor) => x.relu().sum(), { compiler })(k.ones([3])));
  const at = new RegExp(`failed in hook 'frameStart': frame hook exploded \\(thrown at plugin-errors\\.test\\.ts:${throwLine}\\)`);
  assert.match(lines.join('\n'), at);
  const out = String(value);
  assert.match(out, at);
  assert.match(out, new RegExp(`\\n  at plugin-errors\\.test\\.ts:${throwLine}\\n`));
  assert.not.match(out, /at <unknown>/);
});

Plugins('with fullgraph the PluginError is raised: plugin, hook, and the original error as cause with its stack', () => {
  const compiler = new Compiler().use({
    name: 'my-policy',
    apply(c) {
      c.hooks.policyDecision.tap('my-policy', () => {
        throw new TypeError('policy exploded');
      });
    },
  });
  const helper = (t: Tensor) => t.neg();
  try {
    compile((x: Tensor) => helper(x).mul(2), { compiler, fullgraph: true })(k.ones([2]));
    assert.unreachable();
  } catch (err) {
    assert.not.instance(err, FullGraphError);
    assert.instance(err, PluginError);
    const e = err as PluginError;
    assert.is(e.plugin, 'my-policy');
    assert.is(e.hook, 'policyDecision');
    assert.instance(e.cause, TypeError);
    assert.match((e.cause as Error).stack!, /policy exploded\n\s+at /);
  }
});

Plugins('a plugin failing in a per-backend lowerOp tap names the hook and the backend key', () => {
  const compiler = new Compiler().use({
    name: 'my-lowering',
    apply(c) {
      c.hooks.lowerOp.for('eager').tap('my-lowering', () => {
        throw new Error('lowering exploded');
      });
    },
  });
  const hook = compiler.hooks.lowerOp.for('eager');
  try {
    hook.call({} as never);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, PluginError);
    assert.match((err as Error).message, /plugin 'my-lowering' failed in hook 'lowerOp.for\("eager"\)': lowering exploded/);
  }
});

/** A compiler with one plugin whose tap on `hook` throws. */
function throwingIn(hook: 'graphBreak' | 'graphCaptured'): Compiler {
  return new Compiler().use({
    name: `bad-${hook}`,
    apply(c) {
      c.hooks[hook].tap(`bad-${hook}`, () => {
        throw new Error(`${hook} exploded`);
      });
    },
  });
}

/** A frame that splits at a graph break (console.log) into a graph before it and a resume function. */
function splitting(x: Tensor) {
  const h = x.mul(2);
  console.log('break');
  return h.add(1);
}

/** Runs `body` with stdout silenced (console.log stays the native function the policy skips, so the frame breaks). */
function quietly<T>(body: () => T): T {
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    return body();
  } finally {
    process.stdout.write = write;
  }
}

/** Calls `fast` three times (a recompile each); the log lines Kiln wrote. */
const threeCalls = (fast: (x: Tensor) => Tensor): string[] =>
  quietly(() => captureLog(() => {
    for (let i = 0; i < 3; i++) assert.equal(fast(k.ones([i + 2])).toArray(), splitting(k.ones([i + 2])).toArray());
  }).lines);

Plugins('a plugin failing in graphBreak: the program goes on (the break is handled as usual), one warning names the plugin', () => {
  const lines = threeCalls(compile(splitting, { compiler: throwingIn('graphBreak') }));
  const warnings = lines.filter((l) => l.includes('warning'));
  assert.is(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /'splitting' .* breaks as usual, but a plugin failed on its graph break: plugin 'bad-graphBreak' failed in hook 'graphBreak': graphBreak exploded/);
});

Plugins('a plugin failing in graphCaptured on a frame that splits: eager, with a warning naming it, and no "internal error"', () => {
  const compiler = throwingIn('graphCaptured');
  const lines = threeCalls(compile(splitting, { compiler }));
  const warnings = lines.filter((l) => l.includes('warning'));
  assert.is(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /'splitting' .* runs eagerly: plugin 'bad-graphCaptured' failed in hook 'graphCaptured': graphCaptured exploded/);
  const out = String(quietly(() => captureLog(() => explain(splitting, { compiler })(k.ones([2]))).value));
  assert.match(out, /plugin 'bad-graphCaptured' failed in hook 'graphCaptured'/);
  assert.not.match(out, /internal (tracer )?error/);
});

Plugins('attributing taps does not make an untapped hook look used (compiled calls skip untapped hooks)', () => {
  const compiler = new Compiler();
  // cacheHit runs on every compiled call when it is used: an interceptor alone must not turn it on.
  assert.is(compiler.hooks.cacheHit.isUsed(), false);
  compiler.use({ name: 'counts-hits', apply: (c) => c.hooks.cacheHit.tap('counts-hits', () => undefined) });
  assert.is(compiler.hooks.cacheHit.isUsed(), true);
});

Plugins.run();

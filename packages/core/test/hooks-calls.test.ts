// Kiln's hooks call their taps through a plain loop instead of tapable's generated code (hooks-calls.ts): the
// same results, order, arguments and errors as tapable gives, and no `new Function` on a hook's first call.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { callWithoutCodegen } from '../src/hooks-calls.js';
import { createHooks, PluginError } from '../src/hooks.js';
import { Compiler } from '../src/compiler.js';
import { compile } from '../src/compile.js';

const Calls = suite('hook calls without code generation');

/** Counts `new Function` made by tapable's code factory while `work` runs. */
function tapableCodegens(work: () => void): number {
  const global = globalThis as { Function: FunctionConstructor };
  const original = global.Function;
  let made = 0;
  global.Function = new Proxy(original, {
    construct(target, args) {
      if (new Error().stack?.includes('HookCodeFactory')) made++;
      return Reflect.construct(target, args);
    },
  });
  try {
    work();
  } finally {
    global.Function = original;
  }
  return made;
}

/** The same taps on a hook left to tapable and on one built here: what each call returns and what the taps saw. */
function both<H extends { call: (...a: any[]) => unknown; tap: (o: any, fn: any) => void }>(make: () => H, taps: (h: H, seen: unknown[][]) => void, calls: unknown[][]) {
  const run = (hook: H) => {
    const seen: unknown[][] = [];
    taps(hook, seen);
    const results = calls.map((args) => hook.call(...args));
    return { results, seen };
  };
  return { tapable: run(make()), plain: run(callWithoutCodegen(make())) };
}

Calls('a bail hook: the first defined result wins (0, null and false included), taps in stage order', () => {
  const r = both(
    () => new SyncBailHook<[number, string], unknown>(['n', 's']),
    (h, seen) => {
      h.tap({ name: 'late', stage: 10 }, (n: number, s: string) => (seen.push(['late', n, s]), 'late'));
      h.tap('first', (n: number, s: string) => (seen.push(['first', n, s]), n === 1 ? 0 : n === 2 ? null : n === 3 ? false : undefined));
    },
    [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']],
  );
  assert.equal(r.plain, r.tapable);
  assert.equal(r.plain.results, [0, null, false, 'late']);
});

Calls('a waterfall hook: each defined result feeds the next tap, undefined keeps the value', () => {
  const r = both(
    () => new SyncWaterfallHook<[number, string]>(['value', 'label']),
    (h, seen) => {
      h.tap('double', (v: number, label: string) => (seen.push([v, label]), v * 2));
      h.tap('skip', ((v: number) => void seen.push([v])) as unknown as (v: number) => number); // undefined keeps the value
      h.tap({ name: 'inc', stage: 5 }, (v: number) => v + 1);
    },
    [[1, 'x'], [5, 'y']],
  );
  assert.equal(r.plain, r.tapable);
  assert.equal(r.plain.results, [3, 11]);
  assert.equal(new SyncWaterfallHook<[number]>(['v']).call(7), callWithoutCodegen(new SyncWaterfallHook<[number]>(['v'])).call(7));
});

Calls('a series hook: every tap runs, with exactly the declared arguments and no this', () => {
  const r = both(
    () => new SyncHook<[unknown, unknown]>(['a', 'b']),
    (h, seen) => {
      h.tap('one', function (this: unknown, ...args: unknown[]) {
        seen.push([this, args.length, ...args]);
      });
      h.tap('two', (...args: unknown[]) => void seen.push(args));
    },
    [[1, 2, 3], [1], []],
  );
  assert.equal(r.plain, r.tapable);
  assert.equal(r.plain.seen[0], [undefined, 2, 1, 2]);
  assert.equal(r.plain.seen[2], [undefined, 2, 1, undefined]);
});

Calls('a tap added after a call joins the next call', () => {
  const h = callWithoutCodegen(new SyncHook<[number[]]>(['out']));
  const out: number[] = [];
  h.tap('a', (o) => void o.push(1));
  h.call(out);
  h.tap('b', (o) => void o.push(2));
  h.call(out);
  assert.equal(out, [1, 1, 2]);
});

Calls('a call-time interceptor keeps tapable\'s generated code, and the interceptor sees the call', () => {
  const h = callWithoutCodegen(new SyncHook<[number]>(['n']));
  const calls: number[] = [];
  h.intercept({ call: (n: number) => void calls.push(n) });
  h.tap('t', () => {});
  assert.ok(tapableCodegens(() => h.call(4)) > 0, 'tapable generated no code: the test cannot tell the two apart');
  assert.equal(calls, [4]);
});

Calls("Kiln's hooks make no code on their first calls; tapable's own hooks do", () => {
  const hooks = createHooks();
  hooks.frameStart.tap('plugin', () => {});
  hooks.policyDecision.tap('plugin', () => undefined);
  const plain = tapableCodegens(() => {
    hooks.frameStart.call({ name: 'f', location: 'x.js:1', tag: '[0/0]' });
    hooks.policyDecision.call(Math.max, 'Math.max');
    hooks.backends.call([]);
    hooks.lowerOp.for('cpu').call({} as never);
  });
  assert.is(plain, 0);
  const reference = new SyncHook<[number]>(['n']);
  reference.tap('t', () => {});
  assert.ok(tapableCodegens(() => reference.call(1)) > 0, 'tapable generated no code: the count cannot fail');
});

Calls("a plugin's error in a hook still names the plugin and the hook (PluginError, cause kept)", () => {
  const hooks = createHooks();
  const boom = new Error('boom');
  hooks.graphPasses.tap('my-pass', () => {
    throw boom;
  });
  try {
    hooks.graphPasses.call({} as never);
    assert.unreachable('the tap threw');
  } catch (err) {
    assert.instance(err, PluginError);
    assert.is((err as PluginError).plugin, 'my-pass');
    assert.is((err as PluginError).hook, 'graphPasses');
    assert.is((err as Error).cause, boom);
  }
});

Calls('a compile with a plugin on the hooks gives the eager result, with no code from tapable', () => {
  const compiler = new Compiler();
  const seen: string[] = [];
  compiler.hooks.graphCaptured.tap('watch', (_g, frame) => void seen.push(frame.tag));
  compiler.hooks.graphPasses.tap('identity', (g) => g);
  const x = k.ones([2, 3]);
  const f = (t: Tensor) => t.mul(2).add(1);
  const g = compile(f, { compiler });
  let out: Tensor | undefined;
  assert.is(tapableCodegens(() => void (out = g(x))), 0);
  assert.equal(out!.toArray(), f(x).toArray());
  assert.is(seen.length, 1, 'one graph captured');
  assert.match(seen[0]!, /^\[\d+\/0\]$/); // frame ids count every frame of the process
});

Calls.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { add, sub } from '@kiln/tensor';
import { applyPolicyConfig, decide, defaultPolicy, loadPolicyConfig, Policy, PolicyConfigError, PolicyConfigErrors, skip } from '../src/index.js';

const USER = 'file:///app/src/model.js';

const code = suite('overrides from code');

code('allowInGraph puts a user function in the graph', () => {
  const policy = new Policy();
  const attention = function attention() {};
  policy.overrides.allowInGraph(attention, { origin: 'model.ts:3' });
  const d = policy.decide({ fn: attention, origin: 'call', url: USER });
  assert.is(d.kind, 'allowInGraph');
  assert.is(d.reason, 'put in the graph: attention is allowed by allowInGraph() at model.ts:3; it becomes one graph node, run eagerly inside the compiled program, with its result\'s shapes from a run on fake tensors, so it must not touch global state');
  assert.is(d.op, undefined);
});

code('allowInGraph of an op made with defineOp names the op; { meta } is for user functions and must be a function', () => {
  const policy = new Policy();
  const meta = (x: { shape: number[] }) => ({ shape: x.shape, dtype: 'float32' });
  const attention = function attention() {};
  policy.overrides.allowInGraph(attention, { origin: 'model.ts:3', meta });
  assert.is(policy.decide({ fn: attention, origin: 'call', url: USER }).meta, meta);
  const own = new Policy();
  own.overrides.allowInGraph(add, { origin: 'test' });
  assert.is(own.decide({ fn: add, origin: 'call', url: USER }).op, 'add');
  assert.throws(() => policy.overrides.skip(function f() {}, { meta } as never), /\{ meta \} applies to allowInGraph\(\) only/);
  assert.throws(() => policy.overrides.allowInGraph(function g() {}, { meta: 3 } as never), /\{ meta \} must be a function/);
});

code('skip and inline on functions', () => {
  const policy = new Policy();
  const a = function logMetrics() {};
  const b = function fromLib() {};
  policy.overrides.skip(a, { origin: 'model.ts:4' }).inline(b, { origin: 'model.ts:5' });
  assert.is(policy.decide({ fn: a, origin: 'call', url: USER }).reason, 'skipped: logMetrics is skipped by skip() at model.ts:4; remove that rule to trace into it');
  const d = policy.decide({ fn: b, origin: 'call', url: 'file:///app/node_modules/lib/x.js' });
  assert.is(d.kind, 'inline');
  assert.is(d.reason, 'inlined: fromLib is traced into because of inline() at model.ts:5');
});

code('skip(…, { recursive: true }) marks the decision; the option is validated', () => {
  const policy = new Policy();
  const a = function debugDump() {};
  const b = function plainSkip() {};
  policy.overrides.skip(a, { origin: 'm.ts:1', recursive: true }).skip(b, { origin: 'm.ts:2' }).skip('/app/vendor/**', { origin: 'm.ts:3', recursive: true });
  const d = policy.decide({ fn: a, origin: 'call', url: USER });
  assert.is(d.recursive, true);
  assert.match(d.reason, /skip\(…, \{ recursive: true \}\) at m\.ts:1, with everything it calls/);
  assert.is(policy.decide({ fn: b, origin: 'call', url: USER }).recursive, undefined);
  const m = policy.decide({ fn: function vendored() {}, origin: 'call', url: 'file:///app/vendor/v.js' });
  assert.is(m.recursive, true);
  assert.match(m.reason, /with everything it calls/);
  assert.throws(() => policy.overrides.skip(function c() {}, { origin: 'm.ts:4', recursive: 'yes' as unknown as boolean }), (e: Error) =>
    e instanceof PolicyConfigError && /\{ recursive \} must be true or false, got "yes"/.test(e.message));
  assert.throws(() => policy.overrides.inline(function c() {}, { origin: 'm.ts:5', recursive: true }), /\{ recursive \} applies to skip\(\) only, not inline\(\)/);
});

code('substitute: the decision carries the replacement, signature-checked', () => {
  const policy = new Policy();
  const slow = function slowSum(xs: number[]) { return xs.length; };
  const fast = function fastSum(xs: number[]) { return xs.length; };
  policy.overrides.substitute(slow, fast, { origin: 'model.ts:6' });
  const d = policy.decide({ fn: slow, origin: 'call', url: USER });
  assert.is(d.kind, 'skip');
  assert.is(d.polyfill, fast);
  assert.is(policy.polyfillFor(slow), fast);
  assert.match(d.reason, /replaced by fastSum\(\) while tracing \(substitute\(\) at model\.ts:6\)/);
  assert.throws(() => policy.overrides.substitute(slow, (a: unknown, b: unknown) => [a, b], { origin: 'model.ts:7' }), (e: Error) =>
    e instanceof PolicyConfigError && e.message.includes('substitute(slowSum) (model.ts:7)') && e.message.includes('declares 2 parameters'));
});

code('a function allowed and skipped at once is an error naming both rules', () => {
  const policy = new Policy();
  const fn = function f() {};
  policy.overrides.allowInGraph(fn, { origin: 'a.ts:1' });
  assert.throws(() => policy.overrides.skip(fn, { origin: 'b.ts:2' }), (e: Error) =>
    e instanceof PolicyConfigError && e.message === 'policy rule skip(f) (b.ts:2): conflicts with allowInGraph(f) from a.ts:1: a function can be allowed in the graph, skipped or inlined, not several at once\n  hint: remove one of the two rules');
});

code('the origin defaults to the caller\'s source line', () => {
  const policy = new Policy();
  const fn = function g() {};
  policy.overrides.skip(fn);
  assert.match(policy.decide({ fn, origin: 'call', url: USER }).rule.origin, /overrides\.test\.ts:\d+$/);
});

code('the module-level functions act on defaultPolicy and record the user\'s line', () => {
  const fn = function viaDefault() {};
  skip(fn);
  const d = decide({ fn, origin: 'call', url: USER });
  assert.is(d.kind, 'skip');
  assert.match(d.rule.origin, /overrides\.test\.ts:\d+$/);
  assert.is(defaultPolicy.decide({ fn, origin: 'call' }), d);
});

code('a bad module pattern is an error with the accepted forms', () => {
  const policy = new Policy();
  assert.throws(() => policy.overrides.skip('not a pattern!', { origin: 'x.ts:1' }), /not a module pattern[\s\S]*hint: use a package name/);
});

code.run();

const config = suite('overrides from config, and malformed rules');
const FILE = '/app/kiln.config.js';

config('valid rules register, module rules with a scope', () => {
  const policy = new Policy();
  applyPolicyConfig(policy.overrides, {
    disallowInGraph: ['@kiln/tensor#sub'],
    inline: ['lodash', { module: 'my-layers', scope: 'call' }],
    skip: ['globalThis#Math.max'],
  }, { file: FILE });
  assert.is(policy.decide({ fn: sub, origin: 'call' }).kind, 'skip');
  assert.is(policy.decide({ fn: sub, origin: 'call' }).rule.origin, '/app/kiln.config.js: policy.disallowInGraph[0]');
  assert.is(policy.decide({ fn: Math.max, origin: 'call' }).kind, 'skip');
  assert.is(policy.decide({ fn: function m() {}, origin: 'call', url: 'file:///app/node_modules/lodash/m.js' }).kind, 'inline');
  assert.is(policy.decide({ fn: function l() {}, origin: 'top-level', url: 'file:///app/node_modules/my-layers/l.js' }).kind, 'skip');
});

function configErrors(cfg: unknown): string[] {
  const policy = new Policy();
  try {
    applyPolicyConfig(policy.overrides, cfg, { file: FILE });
  } catch (e) {
    assert.instance(e, PolicyConfigErrors);
    assert.is(policy.overrides.allFunctionRules().length + policy.overrides.moduleRules().length, 0, 'nothing registered');
    return (e as PolicyConfigErrors).errors.map((x) => x.message);
  }
  throw new Error('expected PolicyConfigErrors');
}

config('unknown rule kind: names the key and the valid kinds', () => {
  assert.equal(configErrors({ allowInGrpah: ['@kiln/tensor#add'] }), [
    "policy rule 'allowInGrpah' (/app/kiln.config.js: policy.allowInGrpah): unknown rule kind 'allowInGrpah'\n  hint: expected one of allowInGraph, disallowInGraph, skip, inline, substitute",
  ]);
});

config('a name that resolves to nothing: names the key', () => {
  assert.equal(configErrors({ skip: ['lodash'], allowInGraph: ['@kiln/tensor#addd', 'missing-lib#f'] }), [
    "policy rule '@kiln/tensor#addd' (/app/kiln.config.js: policy.allowInGraph[0]): resolves to nothing: 'addd' does not exist",
    "policy rule 'missing-lib#f' (/app/kiln.config.js: policy.allowInGraph[1]): resolves to nothing: module 'missing-lib' is not loaded",
  ]);
});

config('a function allowed and skipped at once: names both keys', () => {
  const [message, ...rest] = configErrors({ allowInGraph: ['@kiln/tensor#add'], skip: ['@kiln/tensor#add'] });
  assert.is(rest.length, 0);
  assert.match(message!, /^policy rule skip\(@kiln\/tensor#add\) \(\/app\/kiln\.config\.js: policy\.skip\[0\]\): conflicts with allowInGraph\(@kiln\/tensor#add\) from \/app\/kiln\.config\.js: policy\.allowInGraph\[0\]/);
});

config('the error message counts its rules in words: 1 malformed policy rule, 2 malformed policy rules', () => {
  const message = (cfg: unknown): string => {
    try {
      applyPolicyConfig(new Policy().overrides, cfg, { file: FILE });
    } catch (e) {
      assert.instance(e, PolicyConfigErrors);
      return (e as Error).message;
    }
    throw new Error('expected PolicyConfigErrors');
  };
  assert.match(message({ allowInGraph: ['@kiln/tensor#addd'] }), /^1 malformed policy rule:\n  - policy rule '@kiln\/tensor#addd'/);
  assert.match(message({ allowInGraph: ['@kiln/tensor#addd', '@kiln/tensor#subb'] }), /^2 malformed policy rules:\n/);
});

config('allowInGraph never takes a pattern', () => {
  const [message] = configErrors({ allowInGraph: ['@kiln/*'] });
  assert.match(message!, /policy\.allowInGraph\[0\]\): allowInGraph takes single functions/);
  assert.match(message!, /no pattern or prefix ever allows a function into the graph/);
});

config('wrong shapes: not an object, not an array, bad scope, bad substitute', () => {
  assert.throws(() => applyPolicyConfig(new Policy().overrides, ['skip'], { file: FILE }), /policy rule policy \(\/app\/kiln\.config\.js\): must be an object, got an array/);
  const messages = configErrors({ skip: 'lodash', inline: [{ module: 'x', scope: 'sometimes' }], substitute: { '@kiln/tensor#add': '@kiln/tensor#nope' } });
  assert.is(messages.length, 3);
  assert.match(messages[0]!, /policy\.skip\): must be an array, got string/);
  assert.match(messages[1]!, /policy\.inline\[0\]\): unknown scope "sometimes"/);
  assert.match(messages[2]!, /policy\.substitute\["@kiln\/tensor#add"\]\): resolves to nothing/);
});

config('skip module entries take { recursive }; other kinds and non-booleans are errors', () => {
  const policy = new Policy();
  applyPolicyConfig(policy.overrides, { skip: [{ module: '/app/debug/**', recursive: true }] }, { file: FILE });
  assert.is(policy.decide({ fn: function dbg() {}, origin: 'call', url: 'file:///app/debug/d.js' }).recursive, true);
  const messages = configErrors({ skip: [{ module: 'x', recursive: 1 }], inline: [{ module: 'y', recursive: true }] });
  assert.is(messages.length, 2);
  assert.match(messages[0]!, /policy\.skip\[0\]\): 'recursive' must be true or false, got 1/);
  assert.match(messages[1]!, /policy\.inline\[0\]\): 'recursive' applies to skip rules only/);
});

config('loadPolicyConfig imports the modules that names refer to', async () => {
  const policy = new Policy();
  await loadPolicyConfig(policy.overrides, { allowInGraph: ['node:path#join'] }, { file: FILE });
  const { join } = await import('node:path');
  assert.is(policy.decide({ fn: join, origin: 'call', url: 'node:path' }).kind, 'allowInGraph');
  await loadPolicyConfig(policy.overrides, { skip: ['@kiln/tensor#add'] }, { file: FILE });
  assert.is(policy.decide({ fn: add, origin: 'call' }).kind, 'skip');
});

config.run();

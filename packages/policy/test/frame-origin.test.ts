import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Policy } from '../src/index.js';

// A module can be skipped as a top-level frame (eager code calling into it does not start a compile) yet
// inlined when traced code calls it, as PyTorch does for torch.nn: the rule's scope says which.
const origin = suite('top-level frames vs calls from traced code');

const LIB = 'file:///app/node_modules/my-layers/index.js';
const layer = function denseLayer() {};

origin('by default a node_modules function is skipped both ways', () => {
  const policy = new Policy();
  assert.is(policy.decide({ fn: layer, origin: 'top-level', url: LIB }).kind, 'skip');
  assert.is(policy.decide({ fn: layer, origin: 'call', url: LIB }).kind, 'skip');
});

origin("inline(module, { scope: 'call' }): traced when called, still skipped as a top-level frame", () => {
  const policy = new Policy();
  policy.overrides.inline('my-layers', { scope: 'call', origin: 'kiln.config.js: policy.inline[0]' });
  const top = policy.decide({ fn: layer, origin: 'top-level', url: LIB });
  const call = policy.decide({ fn: layer, origin: 'call', url: LIB });
  assert.is(top.kind, 'skip');
  assert.is(top.rule.id, 'skip-list:node_modules/**');
  assert.is(call.kind, 'inline');
  assert.is(call.reason, "inlined: denseLayer is in my-layers, which inline('my-layers') at kiln.config.js: policy.inline[0] traces into for calls from traced code");
});

origin("skip(module, { scope: 'top-level' }): never starts a compile, but is traced when called", () => {
  const policy = new Policy();
  policy.overrides.skip('/app/src/helpers/**', { scope: 'top-level', origin: 'test' });
  const fn = function helper() {};
  const url = 'file:///app/src/helpers/util.js';
  const top = policy.decide({ fn, origin: 'top-level', url });
  assert.is(top.kind, 'skip');
  assert.match(top.reason, /skips for top-level frames/);
  assert.is(policy.decide({ fn, origin: 'call', url }).kind, 'inline');
});

origin('the polyfills are an inline exception for calls only', () => {
  const policy = new Policy();
  const polyfill = policy.polyfillFor(Array.prototype.some)!;
  const url = new URL('../src/polyfills/array.ts', import.meta.url).href;
  assert.is(policy.decide({ fn: polyfill, origin: 'call', url }).kind, 'inline');
  const top = policy.decide({ fn: polyfill, origin: 'top-level', url });
  assert.is(top.kind, 'skip');
  assert.is(top.rule.id, 'skip-list:@kiln/*');
});

origin.run();

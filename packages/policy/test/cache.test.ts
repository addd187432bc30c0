import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mul } from '@kiln/tensor';
import { Policy } from '../src/index.js';

const cache = suite('decision cache');

cache('a cached decision is the same object and skips the lookup', () => {
  const policy = new Policy();
  let lookups = 0;
  const lookup = policy.lookup.bind(policy);
  policy.lookup = (frame) => (lookups++, lookup(frame));
  const frame = { fn: mul, origin: 'call' as const };
  const first = policy.decide(frame);
  const second = policy.decide({ fn: mul, origin: 'call', url: 'file:///elsewhere.js' });
  assert.is(first, second);
  assert.is(lookups, 1);
});

cache('keyed on function identity: two functions with one name are decided apart', () => {
  const policy = new Policy();
  const a = function helper() {};
  const b = function helper() {};
  policy.overrides.skip(a, { origin: 'test' });
  assert.is(policy.decide({ fn: a, origin: 'call', url: 'file:///app/a.js' }).kind, 'skip');
  assert.is(policy.decide({ fn: b, origin: 'call', url: 'file:///app/b.js' }).kind, 'inline');
});

cache('an override registered after a decision invalidates the cache', () => {
  const policy = new Policy();
  const fn = function forward() {};
  assert.is(policy.decide({ fn, origin: 'call', url: 'file:///app/m.js' }).kind, 'inline');
  policy.overrides.skip(fn, { origin: 'test' });
  assert.is(policy.decide({ fn, origin: 'call', url: 'file:///app/m.js' }).kind, 'skip');
});

cache('top-level frames and calls are cached apart', () => {
  const policy = new Policy();
  policy.overrides.skip('/app/vendor/**', { origin: 'test', scope: 'top-level' });
  const fn = function vendored() {};
  assert.is(policy.decide({ fn, origin: 'top-level', url: 'file:///app/vendor/x.js' }).kind, 'skip');
  assert.is(policy.decide({ fn, origin: 'call', url: 'file:///app/vendor/x.js' }).kind, 'inline');
  assert.is(policy.decide({ fn, origin: 'top-level', url: 'file:///app/vendor/x.js' }).kind, 'skip');
});

cache('rule hits count distinct functions per rule', () => {
  const policy = new Policy();
  policy.decide({ fn: mul, origin: 'call' });
  policy.decide({ fn: mul, origin: 'call' });
  assert.is(policy.ruleHits().get('allowlist:@kiln/tensor#mul'), 1);
});

cache.run();

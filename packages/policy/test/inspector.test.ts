import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Session } from 'node:inspector';
import { readFileSync } from 'node:fs';
import { add, broadcastShapes } from '@kiln/tensor';
import { Policy } from '../src/index.js';

// The frame interface end to end: the URL comes from [[FunctionLocation]] through node:inspector, as the
// tracer will read it, and decide() classifies the function from it.
const inspector = suite('frames located through node:inspector');

function locate(fn: Function): string | undefined {
  const session = new Session();
  session.connect();
  const urls = new Map<string, string>();
  session.on('Debugger.scriptParsed', (m) => urls.set(m.params.scriptId, m.params.url));
  // With an in-thread session, posted commands complete synchronously.
  session.post('Debugger.enable', () => {});
  const key = `__policyLocate${Math.random().toString(36).slice(2)}`;
  (globalThis as Record<string, unknown>)[key] = fn;
  let url: string | undefined;
  session.post('Runtime.evaluate', { expression: `globalThis.${key}` }, (err, res) => {
    if (err) throw err;
    session.post('Runtime.getProperties', { objectId: res.result.objectId!, ownProperties: true }, (err2, props) => {
      if (err2) throw err2;
      const loc = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as { scriptId: string } | undefined;
      url = loc ? urls.get(loc.scriptId) : undefined;
    });
  });
  delete (globalThis as Record<string, unknown>)[key];
  session.disconnect();
  return url;
}

inspector('user code is inlined, tensor internals skipped, builtins have no location', () => {
  const policy = new Policy();
  function forward(x: number) {
    return x + 1;
  }
  const userUrl = locate(forward);
  assert.ok(userUrl?.includes('inspector.test.ts'), userUrl);
  assert.is(policy.decide({ fn: forward, origin: 'call', url: userUrl }).rule.step, 'default');
  const internal = (function () {
    const helper = readFileSync; // a node builtin
    return helper;
  })();
  const builtinUrl = locate(internal);
  assert.is(policy.decide({ fn: internal, origin: 'call', url: builtinUrl }).rule.id, builtinUrl ? 'skip-list:node:*' : 'skip-list:<native>');
  const tensorUrl = locate(broadcastShapes);
  assert.ok(tensorUrl?.includes('/tensor/'), tensorUrl);
  // broadcastShapes is a pure helper, inlined by name even though its module is skipped.
  assert.is(policy.decide({ fn: broadcastShapes, origin: 'call', url: tensorUrl }).kind, 'inline');
  // add's location is a @kiln/tensor file; the allowlist still wins.
  assert.is(policy.decide({ fn: add, origin: 'call', url: locate(add) }).kind, 'allowInGraph');
  assert.is(locate(Math.max), undefined);
});

inspector.run();

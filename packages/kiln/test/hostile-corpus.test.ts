// The hostile-input corpus against every code generator and every registered backend (hostile/): no
// injected code runs, no prototype is polluted, results equal eager, errors are typed as eager's are.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { CANARY, prototypeSnapshot } from './hostile/corpus.js';
import { GENERATORS, backendTarget } from './hostile/generators.js';

const corpus = suite('hostile-input corpus');
const backends = k.backendNames();

for (const generator of GENERATORS) {
  for (const backend of generator.perBackend ? backends : [undefined]) {
    corpus(`${generator.name}${backend ? ` (backend ${backend})` : ''}`, async () => {
      const before = prototypeSnapshot();
      try {
        await generator.run(backend === undefined ? undefined : backendTarget(backend));
      } finally {
        k.reset();
      }
      assert.is((globalThis as Record<string, unknown>)[CANARY], undefined, 'a payload ran');
      assert.is(prototypeSnapshot(), before, 'a built-in prototype gained or lost a property');
      assert.is(({} as Record<string, unknown>).polluted, undefined);
    });
  }
}

corpus('the corpus reaches every registered backend', () => {
  assert.ok(backends.includes('cpu') && backends.includes('eager'), `backends: ${backends.join(', ')}`);
});

corpus.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorModule from '@kiln/tensor';
import { Tensor, defineOp } from '@kiln/tensor';
import type { MetaTensor, TensorMetaLike } from '@kiln/tensor';
import { builtinFunctionTable, missingEntries, tensorApiRule } from '../src/index.js';

// The sync script's engine: what it prints for a human to paste, read from the live exports and registry.
const sync = suite('sync-allowlist: missing entries');

const sameShape = ([x]: readonly [TensorMetaLike]): MetaTensor => ({ shape: [...x.shape], dtype: x.dtype });
const self = { name: 'self', type: 'Tensor', hasDefault: false } as const;
const policyTestSyncRandom = defineOp({
  name: 'policyTestSyncRandom', category: 'random', method: false, random: true, positional: [self], meta: sameShape,
  kernel: ([x]) => x,
});
const policyTestSyncInPlace = defineOp({
  name: 'policyTestSyncInPlace', category: 'inplace', method: false, mutatesSelf: true, positional: [self], meta: sameShape,
  kernel: ([x]) => x,
});

sync('the live API needs nothing', () => {
  assert.equal(missingEntries(), { allowlist: [], tensorApi: [], stale: [] });
});

sync('new ops get allowlist lines with their effects; other exports get a stub; stale rules are listed', () => {
  const sources = {
    tensorExports: { ...tensorModule, policyTestSyncRandom, policyTestSyncInPlace, policyTestHelper: () => 0 },
    tensorPrototype: Tensor.prototype,
    tensorClass: Tensor,
  };
  const table = [...builtinFunctionTable(), tensorApiRule({ name: '@kiln/tensor#policyTestRemoved', kind: 'skip', why: 'x' })];
  const missing = missingEntries(sources, table);
  assert.equal(missing.allowlist, [
    "fn('policyTestSyncInPlace', 'mutates-input'),  // inplace",
    "fn('policyTestSyncRandom', 'rng'),  // random",
  ]);
  assert.equal(missing.tensorApi, ["skip('policyTestHelper', 'TODO: say why, or make it inline(...) if it is a pure helper'),"]);
  assert.equal(missing.stale, ["@kiln/tensor#policyTestRemoved  (packages/policy/src/rules/tensor-api.ts: 'policyTestRemoved' does not exist)"]);
});

sync.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { add, rand, Tensor, manualSeed, broadcastShapes } from '@kiln/tensor';
import { Policy } from '../src/index.js';
import type { Frame } from '../src/index.js';

const TENSOR_URL = new URL('../../tensor/src/ops/pointwise.ts', import.meta.url).href;
const USER_URL = 'file:///app/src/model.js';
const LODASH_URL = 'file:///app/node_modules/lodash/map.js';

const call = (fn: Function, url?: string, name?: string): Frame => ({ fn, origin: 'call', ...(url && { url }), ...(name && { name }) });

const steps = suite('lookup steps');

steps('step 1, user override on a function: beats the allowlist', () => {
  const policy = new Policy();
  policy.overrides.disallowInGraph(add, { origin: 'kiln.config.js: policy.disallowInGraph[0]' });
  const d = policy.decide(call(add, TENSOR_URL, 'add'));
  assert.is(d.kind, 'skip');
  assert.is(d.rule.step, 'override');
  assert.is(
    d.reason,
    'skipped: add is taken out of the graph by disallowInGraph() at kiln.config.js: policy.disallowInGraph[0], so calls to it are graph breaks; remove that rule to put it back',
  );
});

steps('step 1, user override on a module: inline a node_modules package', () => {
  const policy = new Policy();
  policy.overrides.inline('lodash', { origin: 'kiln.config.js: policy.inline[0]' });
  const fn = function map() {};
  const d = policy.decide(call(fn, LODASH_URL, 'lodash.map'));
  assert.is(d.kind, 'inline');
  assert.is(d.rule.step, 'override');
  assert.is(d.reason, "inlined: lodash.map is in lodash, which inline('lodash') at kiln.config.js: policy.inline[0] traces into");
});

steps('step 2, per-function table: tensor functions and methods are allowed in the graph', () => {
  const policy = new Policy();
  const d = policy.decide(call(add, TENSOR_URL));
  assert.is(d.kind, 'allowInGraph');
  assert.is(d.rule.step, 'function-table');
  assert.is(d.rule.id, 'allowlist:@kiln/tensor#add');
  assert.is(d.op, 'add');
  assert.is(
    d.reason,
    "put in the graph: add is allowlisted as the op 'add', so it becomes one graph node run on fake tensors for its shape; use disallowInGraph(add) to make it a graph break instead",
  );
  assert.is(
    policy.decide(call(rand)).reason,
    "put in the graph: rand is allowlisted as the op 'rand', so it becomes one graph node run on fake tensors for its shape (it advances the random generator, which the compiled code threads through); use disallowInGraph(rand) to make it a graph break instead",
  );
  const m = policy.decide(call(Tensor.prototype.add, TENSOR_URL));
  assert.is(m.kind, 'allowInGraph');
  assert.is(m.rule.id, 'allowlist:@kiln/tensor#Tensor.prototype.add');
});

steps('step 2: non-op tensor API is skipped or inlined by name, with its reason', () => {
  const policy = new Policy();
  const seed = policy.decide(call(manualSeed, TENSOR_URL));
  assert.is(seed.kind, 'skip');
  assert.is(seed.reason, 'skipped: manualSeed reseeds the global random generator (global state); call it before the compiled function');
  const helper = policy.decide(call(broadcastShapes, TENSOR_URL));
  assert.is(helper.kind, 'inline');
  assert.ok(helper.reason.startsWith('inlined: broadcastShapes is a pure helper over shapes'));
});

steps('step 2: Math functions, and Math.random skipped with a way out', () => {
  const policy = new Policy();
  const max = policy.decide(call(Math.max));
  assert.is(max.kind, 'allowInGraph');
  assert.is(max.reason, 'put in the graph: Math.max is allowlisted: constant-folded on numbers, one graph node on symbolic sizes');
  const sin = policy.decide(call(Math.sin));
  assert.match(sin.reason, /on a symbolic size the tracer guards on its value/);
  const random = policy.decide(call(Math.random));
  assert.is(random.kind, 'skip');
  assert.match(random.reason, /^skipped: Math\.random reads hidden global state.*use rand\(\) from @kiln\/tensor/);
});

steps('step 2: a polyfilled builtin is skipped and carries its polyfill', () => {
  const policy = new Policy();
  const d = policy.decide(call(Array.prototype.map));
  assert.is(d.kind, 'skip');
  assert.type(d.polyfill, 'function');
  assert.equal((d.polyfill as Function).call([1, 2], (x: number) => x * 3), [3, 6]);
  assert.is(d.reason, 'skipped: Array.prototype.map is a builtin with no source to trace, so Kiln traces its polyfill map() from @kiln/policy instead (no graph break)');
  assert.is(policy.polyfillFor(Array.prototype.map), d.polyfill);
  assert.is(policy.polyfillFor(Array.prototype.push), undefined);
});

steps('step 3, inline list: polyfills are traced when called from traced code', () => {
  const policy = new Policy();
  const polyfill = policy.polyfillFor(Array.prototype.filter)!;
  const url = new URL('../src/polyfills/array.ts', import.meta.url).href;
  const d = policy.decide(call(polyfill, url));
  assert.is(d.kind, 'inline');
  assert.is(d.rule.step, 'inline-list');
  assert.is(d.reason, 'inlined: filter is a Kiln polyfill, written to be traced in place of a builtin');
});

steps('step 3: private shape helpers of @kiln/tensor are traced when an inlined helper calls them', () => {
  const policy = new Policy();
  const sizeUrl = new URL('../../tensor/src/size.ts', import.meta.url).href;
  const toBool = function toBool() {};
  const d = policy.decide(call(toBool, sizeUrl));
  assert.is(d.kind, 'inline');
  assert.is(d.reason, 'inlined: toBool is a pure shape or dtype helper of @kiln/tensor (src/size.ts), traced when called from traced code');
  assert.is(policy.decide({ fn: toBool, origin: 'top-level', url: sizeUrl }).kind, 'skip');
});

steps('step 4, skip list: node_modules, node builtins, Kiln internals, native code', () => {
  const policy = new Policy();
  const lodash = policy.decide(call(function debounce() {}, LODASH_URL, 'debounce'));
  assert.is(lodash.kind, 'skip');
  assert.is(lodash.rule.id, 'skip-list:node_modules/**');
  assert.is(lodash.reason, "skipped: debounce comes from lodash in node_modules; add 'lodash' to policy.inline to trace into it");
  const fs = policy.decide(call(function readFileSync() {}, 'node:fs'));
  assert.is(fs.rule.id, 'skip-list:node:*');
  assert.is(fs.reason, 'skipped: readFileSync is in the Node builtin module node:fs, whose effects (I/O, timers, processes) cannot be traced; call it outside the compiled function');
  const internal = policy.decide(call(function normalizeArgsInternal() {}, TENSOR_URL));
  assert.is(internal.rule.id, 'skip-list:@kiln/*');
  assert.match(internal.reason, /^skipped: normalizeArgsInternal is an internal of @kiln\/tensor; Kiln never traces its own internals/);
  // Only a Kiln package's src/ and dist/ are internals: functions in its tests and benches are user code.
  const testUrl = new URL('./decide.test.ts', import.meta.url).href;
  assert.is(policy.decide(call(function userModel() {}, testUrl)).rule.step, 'default');
  const native = policy.decide(call(Array.prototype.push));
  assert.is(native.rule.id, 'skip-list:<native>');
  assert.is(native.reason, 'skipped: push is a native function with no JavaScript source to trace; call it outside the compiled function, or register a traceable replacement with substitute()');
  const bound = policy.decide(call(function f() {}.bind(null)));
  assert.is(bound.rule.id, 'skip-list:<native>');
});

steps('step 5, default: user code is inlined', () => {
  const policy = new Policy();
  const d = policy.decide(call(function forward() {}, USER_URL));
  assert.is(d.kind, 'inline');
  assert.is(d.rule.step, 'default');
  assert.is(d.reason, 'inlined: forward is user code (/app/src/model.js), traced by default; use skip(forward) to run it eagerly instead');
});

steps('order: the table beats the skip list, the inline list beats the skip list', () => {
  const policy = new Policy();
  // add lives in @kiln/tensor (skip list) but its table entry wins.
  assert.is(policy.decide(call(add, TENSOR_URL)).rule.step, 'function-table');
  const polyfill = policy.polyfillFor(Array.prototype.map)!;
  const url = new URL('../src/polyfills/array.ts', import.meta.url).href;
  // The polyfill file is in @kiln/policy (skip list) but the inline exception wins.
  assert.is(policy.decide(call(polyfill, url)).rule.step, 'inline-list');
});

steps.run();

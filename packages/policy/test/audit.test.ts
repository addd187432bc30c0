import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorModule from '@kiln/tensor';
import { Tensor, defaultGenerator, defineOp } from '@kiln/tensor';
import type { MetaTensor, TensorMetaLike } from '@kiln/tensor';
import { allowlistRule, builtinFunctionTable, Overrides, runAudit, tensorApiRule } from '../src/index.js';
import type { AuditReport, TableRule } from '../src/index.js';
import type { ApiSources } from '../src/audit/api.js';
import { formatMarkdown } from '../src/audit/report/markdown.js';

// Planted defects: throwaway ops (names prefixed so nobody mistakes them for API) exported through a
// stand-in module namespace, exactly as an engineer adding an op to @kiln/tensor would.
const arg = (name: string, type: 'Tensor') => ({ name, type, hasDefault: false as const });
const sameShape = ([x]: readonly [TensorMetaLike]): MetaTensor => ({ shape: [...x.shape], dtype: x.dtype });
const copyOf = (x: Tensor) => Tensor.fromData(x.toTypedArray(), x.shape, x.dtype);

let leaks = 0;
const planted = {
  policyTestUnclassified: defineOp({ name: 'policyTestUnclassified', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape, kernel: ([x]) => copyOf(x) }),
  policyTestLeaky: defineOp({
    name: 'policyTestLeaky', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: ([x]) => {
      (globalThis as Record<string, unknown>).__policyTestLeak = ++leaks;
      return copyOf(x);
    },
  }),
  policyTestSecretlyRandom: defineOp({
    name: 'policyTestSecretlyRandom', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: ([x]) => (defaultGenerator.next(), copyOf(x)),
  }),
  policyTestSecretlyInPlace: defineOp({
    name: 'policyTestSecretlyInPlace', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: ([x]) => ((x.storage.data as Float32Array)[0] = 42, x),
  }),
  policyTestNoMeta: defineOp({ name: 'policyTestNoMeta', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], kernel: ([x]) => copyOf(x) }),
  policyTestWrongMeta: defineOp({
    name: 'policyTestWrongMeta', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')],
    meta: ([x]): MetaTensor => ({ shape: [...x.shape, 1], dtype: x.dtype }), kernel: ([x]) => copyOf(x),
  }),
  policyTestBadDecomposition: defineOp({
    name: 'policyTestBadDecomposition', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: ([x]) => copyOf(x), decompose: ([x]) => tensorModule.unsqueeze(x, 0),
  }),
  policyTestBypassesOps: defineOp({
    name: 'policyTestBypassesOps', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: ([x]) => copyOf(x), decompose: ([x]) => Tensor.fromData(new Float32Array(6), x.shape as number[], 'float32'),
  }),
  policyTestNoSamples: defineOp({
    name: 'policyTestNoSamples', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape,
    kernel: () => {
      throw new Error('no input is ever good enough');
    },
  }),
  policyTestReadsData: defineOp({
    name: 'policyTestReadsData', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')],
    decompose: ([x]) => tensorModule.mul(x, Number((x.toTypedArray() as Float32Array)[0])),
  }),
};

const sourcesWith = (extra: Record<string, unknown>): ApiSources => ({
  tensorExports: { ...tensorModule, ...extra },
  tensorPrototype: Tensor.prototype,
  tensorClass: Tensor,
});
const fnEntry = (op: string) => allowlistRule({ name: `@kiln/tensor#${op}`, op });
const withPlanted = (...ops: (keyof typeof planted)[]) => ({
  sources: sourcesWith(Object.fromEntries(ops.map((o) => [o, planted[o]]))),
  table: [...builtinFunctionTable(), ...ops.map(fnEntry)],
});

const failures = (report: AuditReport, check: string) => report.checks.find((c) => c.id === check)!.findings.filter((f) => f.severity === 'fail');

const live = suite('audit of the live tensor API');

live('passes, and covers every public function', () => {
  const report = runAudit();
  const failed = report.checks.flatMap((c) => c.findings.filter((f) => f.severity === 'fail').map((f) => f.message));
  assert.equal(failed, []);
  assert.ok(report.passed);
  assert.is(report.summary.classified, report.summary.apiFunctions);
  assert.ok(report.functions.some((f) => f.name === '@kiln/tensor#Tensor.prototype.add' && f.kind === 'allowInGraph' && f.purity === 'pure'));
  assert.ok(report.functions.some((f) => f.name === '@kiln/tensor#rand' && f.purity === 'rng'));
});

live('leaves the default random generator as it found it', () => {
  const before = defaultGenerator.state().join();
  runAudit();
  assert.is(defaultGenerator.state().join(), before);
});

live.run();

const planted_ = suite('audit checks fail on planted defects');

planted_('an unclassified op: fails coverage, suggesting the line to add', () => {
  const report = runAudit({ sources: sourcesWith({ policyTestUnclassified: planted.policyTestUnclassified }) });
  assert.not.ok(report.passed);
  const [f, ...rest] = failures(report, 'coverage');
  assert.is(rest.length, 0);
  assert.is(f!.subject, '@kiln/tensor#policyTestUnclassified');
  assert.match(f!.message, /unclassified: @kiln\/tensor#policyTestUnclassified is public but no rule classifies it; add fn\('policyTestUnclassified'\) to packages\/policy\/src\/rules\/allowlist\.ts/);
  assert.is(report.functions.find((r) => r.name === '@kiln/tensor#policyTestUnclassified')!.kind, 'unclassified');
});

planted_('an unclassified method on the prototype fails coverage too', () => {
  const proto = Object.create(Object.getPrototypeOf(Tensor.prototype), Object.getOwnPropertyDescriptors(Tensor.prototype));
  proto.policyTestMethod = function policyTestMethod() {};
  const report = runAudit({ sources: { ...sourcesWith({}), tensorPrototype: proto } });
  assert.equal(failures(report, 'coverage').map((f) => f.subject), ['@kiln/tensor#Tensor.prototype.policyTestMethod']);
});

planted_('a stale rule: a name that matches nothing, an op that does not exist', () => {
  const table = [...builtinFunctionTable(), fnEntry('policyTestGone'), allowlistRule({ name: '@kiln/tensor#add', op: 'policyTestNoSuchOp' })];
  const report = runAudit({ table });
  const stale = failures(report, 'stale-rules').map((f) => f.message);
  assert.ok(stale.some((m) => m.startsWith("stale rule: @kiln/tensor#policyTestGone matches nothing ('policyTestGone' does not exist)")), stale.join('\n'));
  assert.ok(stale.some((m) => m.includes("names op 'policyTestNoSuchOp', which is not registered")));
});

planted_('a rule for something that is not public API is stale', () => {
  const table = [...builtinFunctionTable(), tensorApiRule({ name: '@kiln/tensor#Generator.prototype.next', kind: 'skip', why: 'x' })];
  const report = runAudit({ table });
  assert.ok(failures(report, 'coverage').some((f) => f.message.includes('matches no public function of @kiln/tensor')));
});

planted_('an impure allowlisted function: fails purity, naming the global it changed', () => {
  const report = runAudit(withPlanted('policyTestLeaky'));
  const [f, ...rest] = failures(report, 'purity');
  assert.is(rest.length, 0);
  assert.match(f!.message, /^impure: @kiln\/tensor#policyTestLeaky changed global state \(globalThis\.__policyTestLeak (added|reassigned)\)/);
  assert.is(report.functions.find((r) => r.name === '@kiln/tensor#policyTestLeaky')!.purity, 'impure');
  delete (globalThis as Record<string, unknown>).__policyTestLeak;
});

planted_('randomness needs an explicit rule: undeclared RNG use is impure, and random ops must say rng', () => {
  const report = runAudit(withPlanted('policyTestSecretlyRandom'));
  assert.ok(failures(report, 'purity').some((f) => f.message.includes('the default random generator state advanced')));
  const noEffect = builtinFunctionTable().map((r) => (r.name === '@kiln/tensor#rand' ? allowlistRule({ name: r.name, op: 'rand' }) : r));
  const report2 = runAudit({ table: noEffect });
  assert.ok(failures(report2, 'allowlist-ops').some((f) => f.message === "op 'rand' reads the global random generator, so @kiln/tensor#rand needs an explicit effect: write it as ('rand', 'rng') in allowlist.ts"));
});

planted_('an in-place op must declare it: mutated inputs are reported as such', () => {
  const report = runAudit(withPlanted('policyTestSecretlyInPlace'));
  assert.equal(failures(report, 'purity').map((f) => f.message), [
    "@kiln/tensor#policyTestSecretlyInPlace mutated argument 0 without declaring effect 'mutates-input'",
  ]);
  const inPlace = runAudit().functions.find((r) => r.name === '@kiln/tensor#add_');
  if (inPlace) assert.is(inPlace.purity, 'mutates-input');
});

planted_('conflicting and duplicate rules', () => {
  const table = [
    ...builtinFunctionTable(),
    tensorApiRule({ name: '@kiln/tensor#add', kind: 'skip', why: 'planted' }),
    allowlistRule({ name: '@kiln/tensor#mul', op: 'mul' }),
  ];
  const messages = failures(runAudit({ table }), 'conflicts').map((f) => f.message);
  assert.ok(messages.some((m) => m.startsWith('conflicting rules: @kiln/tensor#add is allowInGraph in packages/policy/src/rules/allowlist.ts and skip in packages/policy/src/rules/tensor-api.ts')), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith('duplicate rule: @kiln/tensor#mul is listed 2 times')));
  const wrongOp: TableRule[] = [...builtinFunctionTable(), allowlistRule({ name: '@kiln/tensor#sub', op: 'add' })].filter((r, i, all) => all.findIndex((x) => x.name === r.name) === i || r.op === 'add');
  const m2 = failures(runAudit({ table: wrongOp }), 'allowlist-ops').map((f) => f.message);
  assert.ok(m2.includes("conflicting rule: @kiln/tensor#sub is listed as op 'add' but is op 'sub'"), m2.join('\n'));
});

planted_('an op without a meta function, and a meta function that disagrees with eager', () => {
  const report = runAudit(withPlanted('policyTestNoMeta', 'policyTestWrongMeta'));
  assert.equal(failures(report, 'fake-tensors').map((f) => f.message), [
    "op 'policyTestNoMeta' has no meta function and no decomposition, so it cannot run on fake tensors; add a meta function in @kiln/tensor",
    "op 'policyTestWrongMeta' on fake tensors gives float32[2, 3, 1] but eagerly float32[2, 3]",
  ]);
});

planted_('a decomposition that reads tensor data fails on fake tensors', () => {
  const report = runAudit(withPlanted('policyTestReadsData'));
  const [f] = failures(report, 'decompositions');
  assert.match(f!.message, /^the decomposition of 'policyTestReadsData' does not run on fake tensors \(it must use ops only, never tensor data\)/);
});

planted_('a decomposition whose result disagrees with the op', () => {
  const [f, ...rest] = failures(runAudit(withPlanted('policyTestBadDecomposition')), 'decompositions');
  assert.is(rest.length, 0);
  assert.is(f!.message, "the decomposition of 'policyTestBadDecomposition' gives float32[1, 2, 3] on fake tensors but the op gives float32[2, 3] eagerly");
});

planted_('a decomposition that makes tensors without ops (outside the core graph)', () => {
  const [f] = failures(runAudit(withPlanted('policyTestBypassesOps')), 'decompositions');
  assert.match(f!.message, /^the decomposition of 'policyTestBypassesOps' builds a tensor without going through ops/);
});

planted_('an op the audit cannot find sample inputs for', () => {
  const messages = failures(runAudit(withPlanted('policyTestNoSamples')), 'fake-tensors').map((f) => f.message);
  assert.equal(messages, ["no sample inputs found for op 'policyTestNoSamples'; add an entry to SAMPLES in packages/policy/src/audit/samples.ts"]);
});

planted_('an in-place op listed without its effect', () => {
  if (!tensorModule.getOp('add_')) return; // in-place ops not landed
  const table = builtinFunctionTable().map((r) => (r.name === '@kiln/tensor#add_' ? allowlistRule({ name: r.name, op: 'add_' }) : r));
  const messages = failures(runAudit({ table }), 'allowlist-ops').map((f) => f.message);
  assert.equal(messages, ["op 'add_' is in-place, so @kiln/tensor#add_ needs an explicit effect: write it as ('add_', 'mutates-input') in allowlist.ts"]);
});

planted_('a polyfill that disagrees with its builtin', () => {
  const wrongMap = function map(this: unknown[], f: (v: unknown) => unknown) { return [f(this[0])]; };
  const table = builtinFunctionTable().map((r) => (r.name === 'Array.prototype.map' ? { ...r, polyfillFor: wrongMap } : r));
  const messages = failures(runAudit({ table }), 'polyfills').map((f) => f.message);
  assert.equal(messages, ['polyfill for Array.prototype.map returned [null] where the builtin returns [2,null,8]']);
});

planted_('a user module rule that can never match (a typo in the config)', () => {
  const overrides = new Overrides();
  overrides.inline('lodahs', { origin: 'kiln.config.js: policy.inline[0]' });
  overrides.skip('node:fss', { origin: 'kiln.config.js: policy.skip[0]' });
  overrides.skip('/no/such/dir/**', { origin: 'kiln.config.js: policy.skip[1]' });
  overrides.inline('uvu', { origin: 'kiln.config.js: policy.inline[1]' });
  const messages = failures(runAudit({ overrides }), 'stale-rules').map((f) => f.message);
  assert.equal(messages, [
    `stale rule: inline('lodahs') at kiln.config.js: policy.inline[0] can never match: no package 'lodahs' is installed under ${process.cwd()}`,
    "stale rule: skip('node:fss') at kiln.config.js: policy.skip[0] can never match: 'node:fss' is not a Node builtin module",
    "stale rule: skip('/no/such/dir/**') at kiln.config.js: policy.skip[1] can never match: the folder /no/such/dir/ does not exist",
  ]);
});

planted_('an unclassified Math function', () => {
  const table = builtinFunctionTable().filter((r) => r.name !== 'Math.hypot');
  assert.equal(failures(runAudit({ table }), 'coverage').map((f) => f.subject), ['Math.hypot']);
});

planted_.run();

const backends = suite('audit backend coverage');

backends('empty until backends land', () => {
  assert.equal(runAudit().backends, []);
});

backends('per backend: direct, through a decomposition, missing; stale names fail', () => {
  const softmaxCore = runAudit().functions.find((f) => f.name === '@kiln/tensor#softmax')!.coreOps!;
  assert.ok(softmaxCore.length > 0);
  const report = runAudit({ backends: [{ name: 'toy', ops: ['add', 'mul', ...softmaxCore.filter((o) => o !== 'sub'), 'policyTestNotAnOp'] }] });
  const [coverage] = report.backends;
  assert.is(coverage!.backend, 'toy');
  assert.ok(coverage!.missing.includes('sub'));
  assert.ok(coverage!.missing.includes('softmax'), 'softmax needs sub, which toy lacks');
  // Core's Backend objects can be passed as they are: their loweredOps() is the table.
  const coreBackend = { name: 'toy', compile: () => null, loweredOps: () => [...softmaxCore] };
  const report2 = runAudit({ backends: [coreBackend] });
  assert.is(report2.functions.find((f) => f.name === '@kiln/tensor#softmax')!.backends!.toy, 'decomposed');
  assert.is(report.functions.find((f) => f.name === '@kiln/tensor#add')!.backends!.toy, 'direct');
  assert.is(report.functions.find((f) => f.name === '@kiln/tensor#sub')!.backends!.toy, 'no');
  assert.equal(failures(report, 'backends').map((f) => f.message), ["stale lowering: backend toy lowers 'policyTestNotAnOp', which is not a registered op"]);
});

backends('the report says why an op is missing (in-place ops are functionalized by core, random ops run eagerly)', () => {
  const md = formatMarkdown(runAudit({ backends: [{ name: 'toy', ops: ['add'] }] }));
  const row = md.split('\n').find((l) => l.startsWith('| toy |'))!;
  assert.match(row, /in-place: functionalized by core: [^;|]*\badd_\b/);
  assert.match(row, /random: runs eagerly: [^;|]*\brandn\b/);
  assert.match(row, /data-dependent: eager step in the program: [^;|]*\bnonzero\b/);
  assert.match(row, /not lowered: eager step in the program: [^;|]*\bmatmul\b/);
});

backends.run();

const custom = suite('audit of custom ops allowed in the graph by an override');

custom('a custom op allowed with allowInGraph gets every op check, as built-in ops do', () => {
  const overrides = new Overrides().allowInGraph(planted.policyTestWrongMeta, { origin: 'test' }).allowInGraph(planted.policyTestLeaky, { origin: 'test' });
  const report = runAudit({ overrides, backends: [{ name: 'planted', ops: ['add'] }] });
  assert.not.ok(report.passed);
  assert.ok(failures(report, 'fake-tensors').some((f) => f.subject === 'policyTestWrongMeta'), 'its meta function is checked against eager');
  assert.ok(failures(report, 'purity').some((f) => /custom op policyTestLeaky/.test(f.message)), 'its kernel is checked for global writes');
  const row = report.functions.find((f) => f.name === 'custom op policyTestWrongMeta')!;
  assert.is(row.kind, 'allowInGraph');
  assert.is(row.op, 'policyTestWrongMeta');
  assert.equal(row.backends, { planted: 'no' });
  assert.ok(report.backends[0]!.missing.includes('policyTestLeaky'), 'backend coverage lists it');
});

custom('a sound custom op passes', () => {
  const good = defineOp({ name: 'policyTestGoodCustom', category: 'pointwise', method: false, positional: [arg('self', 'Tensor')], meta: sameShape, kernel: ([x]) => copyOf(x) });
  const report = runAudit({ overrides: new Overrides().allowInGraph(good, { origin: 'test' }) });
  assert.ok(report.passed, report.checks.flatMap((c) => c.findings.map((f) => f.message)).join('\n'));
  assert.is(report.functions.find((f) => f.name === 'custom op policyTestGoodCustom')!.purity, 'pure');
});

custom.run();

const fakes = suite('the audit runs ops on the tracer’s fake tensors');

fakes('one FakeTensor: the audit’s fake inputs and outputs are @kiln/tensor’s', async () => {
  const { fakeTensor, runFake } = await import('../src/audit/fake.js');
  const x = fakeTensor({ shape: [2, 3], dtype: 'float32' });
  assert.instance(x, tensorModule.FakeTensor);
  const { result } = runFake(() => tensorModule.exp(x).sum(0), { expand: false });
  assert.instance(result, tensorModule.FakeTensor);
  assert.equal((result as Tensor).shape, [3]);
});

fakes.run();

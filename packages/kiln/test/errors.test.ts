// Bad input to the public API of `kiln`: every mistake raises a typed error (a KilnError subclass, or what
// eager JS raises for the user's own code) whose message names the op / argument / key at fault and, where
// the class carries one, a hint of what to do. Nothing crashes inside Kiln and no option is silently ignored.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { IndexError, KilnConfigError, KilnError, KilnTypeError, ShapeError, UnknownBackendError, ValueError } from 'kiln';

type Ctor = abstract new (...args: any[]) => Error;

/** Runs `f` (awaiting it), expects an instance of `cls` whose message matches every pattern. */
async function expectError(f: () => unknown, cls: Ctor, patterns: (string | RegExp)[], hint = true): Promise<Error> {
  let caught: unknown;
  try {
    await f();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) assert.unreachable(`expected ${cls.name}, nothing was thrown`);
  assert.instance(caught, cls, `expected ${cls.name}, got ${String(caught)}`);
  const message = (caught as Error).message;
  for (const p of patterns) assert.ok(typeof p === 'string' ? message.includes(p) : p.test(message), `'${message}' should mention ${String(p)}`);
  if (hint) {
    assert.ok(caught instanceof KilnError, `${cls.name} should be a KilnError`);
    assert.type((caught as KilnError).hint, 'string', `no hint on: ${message}`);
    assert.match(message, /\n {2}hint: /);
  }
  return caught as Error;
}

const x = k.ones([2, 3]);
const double = (t: k.Tensor) => t.mul(2);

const tensors = suite('errors: tensor ops');

tensors('wrong argument types name the op and the argument', async () => {
  await expectError(() => k.add('a' as any, x), KilnTypeError, ['add', "'self'", 'Tensor', 'string'], false);
  await expectError(() => x.add(null as any), KilnTypeError, ['add', "'other'", 'null'], false);
  await expectError(() => k.add(undefined as any, x), KilnTypeError, ["missing required argument 'self'", 'signature: add(']);
  await expectError(() => k.matmul(x, 'x' as any), KilnTypeError, ['matmul', "'other'"], false);
  await expectError(() => k.full([2], 'x' as any), KilnTypeError, ['full', "'fillValue'"], false);
});

tensors('bad sizes and dims name the element at fault', async () => {
  await expectError(() => k.ones([2, NaN]), KilnTypeError, ['ones', "'size'", 'element [1] is number NaN'], true);
  await expectError(() => k.ones([1.5]), KilnTypeError, ['element [0] is number 1.5', 'integers']);
  await expectError(() => x.reshape([Infinity]), KilnTypeError, ['reshape', "'shape'", 'Infinity']);
  await expectError(() => x.sum(1.5), KilnTypeError, ['sum', "'dim'", '1.5', 'dims are integers']);
  await expectError(() => k.cat([x, null as any], 0), KilnTypeError, ['cat', 'element [1] is null', 'array of tensors']);
  await expectError(() => k.ones([-1]), ShapeError, ['ones', '[-1]'], false);
  await expectError(() => k.zeros([1e6, 1e6]), ValueError, ['zeros', '[1000000, 1000000]'], false);
  await expectError(() => x.sum(5), IndexError, ['sum', 'dim=5', 'rank 2', '[-2, 1]']);
  await expectError(() => x.transpose(0, 5), IndexError, ['transpose', 'dim1=5']);
});

tensors('shapes that do not fit name both shapes and say what would', async () => {
  await expectError(() => x.add(k.ones([4])), ShapeError, ['add', '[2, 3]', '[4]', 'broadcast']);
  await expectError(() => k.matmul(x, x), ShapeError, ['matmul', '[2, 3]', '3 != 2']);
  await expectError(() => k.cat([x, k.ones([2, 4])], 0), ShapeError, ['cat', 'position 1', '[2, 4]']);
  await expectError(() => k.cat([], 0), ValueError, ['cat', 'non-empty']);
  await expectError(() => x.reshape([4]), ShapeError, ['reshape', '[4]', '[2, 3]'], false);
});

tensors('wrong dtypes say which dtype is needed', async () => {
  await expectError(() => k.tensor([1, 2], { dtype: 'int32' }).softmax(0), KilnTypeError, ['softmax', 'int32', 'float32']);
  await expectError(() => k.tensor([1], { dtype: 'float99' } as any), KilnTypeError, ['tensor', "'dtype'", 'float99', 'dtypes: bool']);
  await expectError(() => x.item(), ValueError, ['item', '[2, 3]']);
});

const compiling = suite('errors: compile(), explain() and compiled functions');

compiling('compile() rejects a non-function and bad options up front', async () => {
  await expectError(() => k.compile(3 as any), KilnTypeError, ['compile() expects a function', 'number 3']);
  await expectError(() => k.compile(double, null as any), KilnConfigError, ['compile() options', 'must be an object']);
  await expectError(() => k.compile(double, { backend: 3 } as any), KilnConfigError, ['backend', 'number 3', 'registered backends']);
  await expectError(() => k.compile(double, { dynamic: 'yes' } as any), KilnConfigError, ['dynamic', 'true or false', "'yes'"]);
  await expectError(() => k.compile(double, { fullgraph: 1 } as any), KilnConfigError, ['fullgraph', 'true or false'], false);
  for (const limit of [-1, 0, 1.5, NaN]) {
    await expectError(() => k.compile(double, { recompileLimit: limit }), KilnConfigError, ['recompileLimit', 'positive integer']);
  }
  await expectError(() => k.compile(double, { bakend: 'eager' } as any), KilnConfigError, ["bakend: unknown option", 'known options: backend']);
  await expectError(() => k.compile(double, { compiler: {} } as any), KilnConfigError, ['compiler', 'must be a Compiler'], false);
});

compiling('an unknown backend name fails at the first call instead of silently running eagerly', async () => {
  const f = k.compile(double, { backend: 'nope' });
  await expectError(() => f(x), UnknownBackendError, ["unknown backend 'nope'", 'eager']);
});

compiling('explain() checks its function and options when called, not at the first call', async () => {
  await expectError(() => k.explain(3 as any), KilnTypeError, ['explain() expects a function']);
  await expectError(() => k.explain(double, { backend: 7 } as any), KilnConfigError, ['explain() options', 'backend']);
});

compiling('errors from the body surface as eager code raises them: same class, same message', async () => {
  const bodies: [string, (t: any) => unknown, unknown[]][] = [
    ['user throw', (t: any) => { if (t.shape[0] === 2) throw new RangeError('mine'); return t; }, [x]],
    ['missing method', (t: any) => t.nope(), [x]],
    ['too few arguments', (t: any) => t.mul(2), []],
    ['null argument', (t: any) => t.mul(2), [null]],
    ['string argument', (t: any) => t.mul(2), ['abc']],
    ['shape error', (t: any) => t.add(k.ones([5])), [x]],
  ];
  for (const [name, body, args] of bodies) {
    let eager: any;
    try { body(...(args as [any])); } catch (e) { eager = e; }
    assert.ok(eager, name);
    let compiled: any;
    try { (k.compile(body) as any)(...args); } catch (e) { compiled = e; }
    assert.ok(compiled, `${name}: compiled call did not throw`);
    assert.is(compiled.constructor, eager.constructor, name);
    assert.is(compiled.message, eager.message, name);
  }
});

const companions = suite('errors: markDynamic, check, policy controls, configuration');

companions('markDynamic names the tensor or dim at fault', async () => {
  await expectError(() => k.markDynamic(null as any, 0), KilnTypeError, ['markDynamic', "'t'", 'null']);
  await expectError(() => k.markDynamic(x, 5), IndexError, ['markDynamic', 'dim=5', 'rank 2', '[-2, 1]']);
  await expectError(() => k.markDynamic(x, -3), IndexError, ['dim=-3']);
  await expectError(() => k.markDynamic(x, 1.5), KilnTypeError, ['dim must be an integer', '1.5']);
  await expectError(() => k.markDynamic(x, [0, null] as any), KilnTypeError, ['null']);
  await expectError(() => (k.markDynamic as any)(x), KilnTypeError, ["'dim'"]);
});

companions('check() and checkIsSize() reject non-boolean conditions as a type error, not a failed check', async () => {
  await expectError(() => k.check(1 as any), KilnTypeError, ['check', 'boolean', 'number 1']);
  await expectError(() => k.check(x as any), KilnTypeError, ['check', 'Tensor', '[2, 3]', '.item()']);
  await expectError(() => k.check(true, 3 as any), KilnTypeError, ['message must be a string']);
  await expectError(() => k.checkIsSize('3' as any), KilnTypeError, ['checkIsSize', 'string']);
  // A false check is still a failed check, naming the condition.
  await expectError(() => k.check(false, 'x must be positive'), k.CheckFailedError, ['x must be positive'], false);
});

companions('skip / inline / allowInGraph / substitute reject bad targets and options', async () => {
  const fn = function target() {};
  await expectError(() => k.skip(null as any), KilnError, ['skip', 'expects a function, got null', 'module pattern']);
  await expectError(() => k.allowInGraph(null as any), KilnError, ['allowInGraph', 'got null']);
  await expectError(() => k.inline(3 as any), KilnError, ['inline', 'got number']);
  await expectError(() => k.skip(''), KilnError, ["'' is not a module pattern"]);
  await expectError(() => (k.skip as any)(fn, { bogus: 1 }), KilnError, ['skip(target)', "unknown option 'bogus'", 'known options']);
  await expectError(() => (k.inline as any)(fn, 7), KilnError, ['inline(target)', 'options must be an object']);
  await expectError(() => (k.skip as any)('lodash', { scope: 'everywhere' }), KilnError, ['{ scope }', '"everywhere"'], false);
  await expectError(() => (k.substitute as any)(3, () => 0), KilnError, ['substitute', 'function to replace']);
  await expectError(() => (k.substitute as any)(fn), KilnError, ['polyfill', 'undefined'], false);
});

companions('configureResident rejects non-objects, unknown and inherited keys, bad values', async () => {
  const E = (await import('@kiln/backend-cpu')).ResidentConfigError;
  await expectError(() => k.configureResident(null as any), E, ['configureResident', 'got null', 'budgetBytes']);
  await expectError(() => k.configureResident([1] as any), E, ['an array']);
  await expectError(() => k.configureResident({ toString: 1 } as any), E, ["unknown setting 'toString'"]);
  await expectError(() => k.configureResident({ budget: 1 } as any), E, ["unknown setting 'budget'", 'budgetBytes']);
  await expectError(() => k.configureResident({ budgetBytes: -1 }), E, ['budgetBytes', '-1']);
  await expectError(() => k.configureResident({ minBytes: '3' } as any), E, ['minBytes', "'3'"]);
  await expectError(() => k.configureResident({ keepInputs: 1 } as any), E, ['keepInputs', 'true or false']);
});

companions('createCompiler / configure / Compiler / registerBackend reject bad config', async () => {
  await expectError(() => k.createCompiler(3), KilnConfigError, ['<root>', 'must be an object'], false);
  await expectError(() => k.createCompiler({ bakend: 'x' }), KilnConfigError, ['bakend: unknown key', 'known keys']);
  await expectError(() => k.createCompiler({ backend: 3 }), KilnConfigError, ['backend: must be a backend name']);
  await expectError(() => k.createCompiler({ plugins: [{ name: 'p' }] }), KilnConfigError, ['plugins[0]', 'an object without apply()']);
  await expectError(() => k.createCompiler({ plugins: [function factory() {}] }), KilnConfigError, ['plugins[0]', 'a function (factory)', 'must be called']);
  await expectError(() => k.createCompiler({ plugins: ['no-such-kiln-plugin'] }), KilnConfigError, ['plugins[0]', "cannot find plugin 'no-such-kiln-plugin'"]);
  await expectError(() => k.createCompiler({ logs: 'graph,+nope' }), KilnConfigError, ["unknown log artifact '+nope'", 'graph_breaks']);
  await expectError(() => k.createCompiler({ dynamic: 'yes' }), KilnConfigError, ['dynamic: must be true or false']);
  await expectError(() => k.createCompiler({ recompileLimit: -1 }), KilnConfigError, ['recompileLimit', 'positive integer']);
  await expectError(() => k.createCompiler({ policy: { nope: 1 } }), KilnError, ["unknown rule kind 'nope'"], false);
  await expectError(() => (k.configure as any)(3), KilnConfigError, ['configure()', 'searchFrom']);
  await expectError(() => k.setDefaultCompiler(3 as any), KilnTypeError, ['setDefaultCompiler', 'Compiler']);
  await expectError(() => new k.Compiler().use(3 as any), KilnTypeError, ['Compiler.use', 'apply(compiler)']);
  await expectError(() => (k.registerBackend as any)(3), KilnTypeError, ['registerBackend', 'backend object']);
  await expectError(() => (k.registerBackend as any)({ name: 'auto', compile() {} }), KilnTypeError, ["other than 'auto'"]);
  await expectError(() => (k.registerBackend as any)({ name: 'half' }), KilnTypeError, ["backend 'half' has no compile(graph)"]);
  // A backend tapped after createCompiler() is fine: the name is checked at the first compiled call.
  const compiler = await k.createCompiler({ backend: 'later' });
  await expectError(() => k.compile(double, { compiler })(x), UnknownBackendError, ["config: backend: unknown backend 'later'"]);
});

tensors.run();
compiling.run();
companions.run();

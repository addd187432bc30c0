import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as K from '@kiln/tensor';
import {
  KilnError, KilnTypeError, Tensor, allOps, currentDispatchMode, defineOp, eagerMetaContext, formatSchema, getOp, isBuiltinOp, listOps,
  normalizeArgs, runEager, tensor, withDispatchMode,
} from '@kiln/tensor';
import type { ArgSpec, DispatchMode, MetaTensor, OpDef, SymBoolLike, SymIntLike, TensorMetaLike } from '@kiln/tensor';
import { expectError } from './support/refs.js';

const isTensor = (x: unknown) => x instanceof Tensor;
const fn = (name: string) => (K as unknown as Record<string, (...a: unknown[]) => Tensor>)[name]!;

const List = suite('registry: listOps rows for the policy audit');

List('one row per op with name, schema string, hasMeta and hasDecomposition', () => {
  const rows = listOps();
  assert.ok(rows.length >= 60, `${rows.length} ops`);
  assert.is(new Set(rows.map((r) => r.name)).size, rows.length, 'names are unique');
  for (const r of rows) {
    assert.type(r.name, 'string');
    assert.ok(r.schema.startsWith(`${r.name}(`) && r.schema.endsWith(')'), r.schema);
    assert.type(r.hasMeta, 'boolean');
    assert.type(r.hasDecomposition, 'boolean');
    assert.ok(['formula', 'decomposition', 'nonDifferentiable', 'missing'].includes(r.derivative), `${r.name}: derivative ${r.derivative}`);
    assert.ok(r.hasKernel || r.hasDecomposition, `${r.name} can run`);
    assert.is(r.isCore, !r.hasDecomposition, `${r.name}: core ops are those without a decomposition`);
    assert.ok(K.OP_CATEGORIES.includes(r.category), `${r.name}: category ${r.category}`);
  }
  const row = (name: string) => rows.find((r) => r.name === name)!;
  assert.is(row('add').schema, 'add(Tensor self, TensorOrScalar other, *, Scalar alpha=1)');
  assert.is(row('slice').schema, 'slice(Tensor self, int dim=0, int? start=null, int? end=null, int step=1)');
  assert.is(row('gelu').schema, 'gelu(Tensor self, *, string approximate="none")');
  assert.is(row('rand').schema, 'rand(ints size, *, dtype? dtype=null, Generator? generator=null, bool requiresGrad=false)');
  assert.equal([row('relu').hasMeta, row('relu').hasDecomposition, row('relu').method], [true, false, true]);
  assert.equal([row('randLike').hasMeta, row('randLike').hasDecomposition, row('randLike').random], [false, true, true]);
  assert.equal([row('view').view, row('reshape').view], [true, false], 'reshape may copy, so it is not a pure view');
  assert.equal([row('tensor').method, row('tensor').publicFunction], [false, true]);
});

List('every op of the issue so far is registered', () => {
  const names = new Set(listOps().map((r) => r.name));
  const expected = `tensor zeros ones full arange linspace eye rand randn zerosLike onesLike fullLike randLike randnLike
    neg abs exp log log1p sqrt rsqrt sin cos tanh sigmoid relu gelu silu erf floor ceil round sign reciprocal logicalNot
    add sub mul div pow maximum minimum remainder atan2 eq ne lt le gt ge logicalAnd logicalOr where clamp
    reshape view permute transpose expand slice narrow select squeeze unsqueeze flatten contiguous clone`.split(/\s+/);
  for (const name of expected) assert.ok(names.has(name), `${name} is registered`);
  assert.ok(getOp('add') === allOps().find((o) => o.name === 'add'));
  assert.is(getOp('noSuchOp'), undefined);
});

List.run();

const Schema = suite('registry: argument normalization from schemas');

const addSchema = () => getOp('add')!.schema;

Schema('defaults are filled and options objects are read by name', () => {
  const a = tensor([1, 2]);
  assert.equal(normalizeArgs('add', addSchema(), [a, 3], isTensor), [a, 3, 1]);
  assert.equal(normalizeArgs('add', addSchema(), [a, 3, { alpha: 2 }], isTensor), [a, 3, 2]);
  assert.equal(normalizeArgs('add', addSchema(), [a, { other: 3 }], isTensor), [a, 3, 1], 'a positional argument by name');
  assert.equal(K.add(a, 3, { alpha: 2 }).toArray(), [7, 8]);
  assert.equal(fn('full')({ size: [2], fillValue: 4 }).toArray(), [4, 4]);
  const slice = getOp('slice')!;
  assert.equal(normalizeArgs('slice', slice.schema, [a, 0, { step: 2 }], isTensor), [a, 0, null, null, 2]);
});

Schema('unknown options, duplicates, missing and extra arguments are KilnTypeErrors naming op and argument', () => {
  const a = tensor([1, 2]);
  const e1 = expectError(() => K.add(a, 1, { alpah: 2 } as never), KilnTypeError, "add: unknown option 'alpah'");
  assert.match(e1.message, 'add(Tensor self, TensorOrScalar other, *, Scalar alpha=1)', 'the hint shows the signature');
  expectError(() => fn('add')(a, 1, { other: 2 }), KilnTypeError, "add: argument 'other' given both by position and by name");
  expectError(() => fn('add')(a), KilnTypeError, "add: missing required argument 'other'");
  expectError(() => fn('mul')(a, 1, 2), KilnTypeError, 'mul: takes at most 2 positional arguments but 3 were given');
  expectError(() => fn('zeros')(), KilnTypeError, "zeros: missing required argument 'size'");
});

Schema('wrong types name the op, the argument, the expected type and what was given', () => {
  const a = tensor([1, 2]);
  expectError(() => fn('add')(a, 'x'), KilnTypeError, "add: argument 'other' must be TensorOrScalar, got string x");
  expectError(() => fn('add')([1, 2], a), KilnTypeError, "add: argument 'self' must be Tensor, got array of length 2");
  expectError(() => fn('add')(a, 1, { alpha: a }), KilnTypeError, "add: argument 'alpha' must be Scalar, got Tensor(int32[2])");
  expectError(() => fn('reshape')(a, [1, 'a']), KilnTypeError, "reshape: argument 'shape' must be ints");
  expectError(() => fn('transpose')(a, 0.5, 0), KilnTypeError, "transpose: argument 'dim0' must be int, got number 0.5");
  expectError(() => fn('zeros')([2], { dtype: 'int64' }), KilnTypeError, "zeros: argument 'dtype' must be dtype?, got string int64");
  expectError(() => fn('gelu')(a, { approximate: 'erf' }), KilnTypeError, "gelu: argument 'approximate' must be one of 'none', 'tanh'");
  expectError(() => fn('squeeze')(a, 'x'), KilnTypeError, "squeeze: argument 'dim' must be dims?");
});

Schema('formatSchema renders positional, keyword-only and defaults', () => {
  const p: ArgSpec[] = [{ name: 'self', type: 'Tensor', hasDefault: false }, { name: 'dim', type: 'int', hasDefault: true, default: -1 }];
  const k: ArgSpec[] = [{ name: 'keepdim', type: 'bool', hasDefault: true, default: false }];
  assert.is(formatSchema('f', { positional: p, keywordOnly: k }), 'f(Tensor self, int dim=-1, *, bool keepdim=false)');
  assert.is(formatSchema('g', { positional: p, keywordOnly: [] }), 'g(Tensor self, int dim=-1)');
});

Schema('defineOp refuses a second definition and an op that cannot run', () => {
  expectError(() => defineOp({ name: 'add', category: 'pointwise', method: false, positional: [], kernel: () => null }), KilnError, "op 'add' is defined twice");
  expectError(() => defineOp({ name: 'registryTestNoKernel', category: 'pointwise', method: false, positional: [] }), KilnError, 'needs a kernel, a formula or a decomposition');
  assert.is(getOp('registryTestNoKernel'), undefined, 'a refused op is not registered');
});

Schema.run();

const Methods = suite('registry: methods are generated from the registry');

/** Arguments that pass the schema check for every type, so a recording mode can see the call. */
function sampleArgs(op: OpDef, self: Tensor): unknown[] {
  const sample: Record<string, unknown> = {
    Tensor: self, 'Tensor?': self, TensorOrScalar: 2, Scalar: 2, 'Scalar?': 2, int: 0, 'int?': 0, ints: [1], 'int|ints': 0,
    'dims?': 0, bool: false, float: 1, 'float?': 1, 'dtype?': 'float32', 'Tensor[]': [self], data: [1], string: '',
    'Generator?': null,
  };
  return op.schema.positional
    .filter((a, i) => i > 0 && !a.hasDefault)
    .map((a) => (a.type === 'string' ? a.choices?.[0] ?? 'x' : sample[a.type]));
}

class RecordingMode implements DispatchMode {
  calls: { op: OpDef; args: unknown[] }[] = [];
  dispatch(op: OpDef, args: unknown[]): unknown {
    this.calls.push({ op, args });
    return 'recorded';
  }
}

Methods('every op marked method is a Tensor method that dispatches the same op with the same arguments', () => {
  const self = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
  const methodOps = allOps().filter((o) => o.method);
  assert.ok(methodOps.length >= 40);
  for (const op of methodOps) {
    const method = (Tensor.prototype as unknown as Record<string, unknown>)[op.name];
    assert.type(method, 'function', `Tensor.prototype.${op.name}`);
    const rest = sampleArgs(op, self);
    const viaMethod = new RecordingMode();
    const viaFunction = new RecordingMode();
    withDispatchMode(viaMethod, () => (method as (...a: unknown[]) => unknown).apply(self, rest));
    withDispatchMode(viaFunction, () => op.fn(self, ...rest));
    assert.is(viaMethod.calls.length, 1, op.name);
    assert.ok(viaMethod.calls[0]!.op === op, `${op.name}: the method dispatches its own op`);
    assert.ok(viaMethod.calls[0]!.args[0] === self, `${op.name}: self is the first argument`);
    assert.equal(viaMethod.calls[0]!.args, viaFunction.calls[0]!.args, `${op.name}: same normalized arguments`);
  }
});

Methods('ops not marked method are not on the prototype; public functions are exported', () => {
  for (const op of allOps()) {
    if (!op.method) assert.not.ok(op.name in Tensor.prototype, `${op.name} is not a method`);
  }
  for (const name of ['add', 'relu', 'reshape', 'zeros', 'tensor']) assert.ok(fn(name) === getOp(name)!.fn, `${name} export is the op's function`);
  const a = tensor([1, -2]);
  assert.equal(a.relu().toArray(), K.relu(a).toArray());
  assert.equal(a.add(1, { alpha: 3 }).toArray(), K.add(a, 1, { alpha: 3 }).toArray());
});

Methods.run();

const Modes = suite('registry: dispatch modes');

Modes('a mode receives normalized arguments; modes nest and are restored, even after a throw', () => {
  const a = tensor([1, 2]);
  const outer = new RecordingMode();
  const inner = new RecordingMode();
  assert.is(currentDispatchMode(), null);
  withDispatchMode(outer, () => {
    assert.is(K.add(a, 5), 'recorded' as unknown);
    withDispatchMode(inner, () => a.mul(2));
    assert.ok(currentDispatchMode() === outer);
    a.neg();
  });
  assert.equal(outer.calls.map((c) => c.op.name), ['add', 'neg']);
  assert.equal(inner.calls.map((c) => c.op.name), ['mul']);
  assert.equal(outer.calls[0]!.args, [a, 5, 1], 'alpha default filled in');
  assert.throws(() => withDispatchMode(outer, () => { throw new Error('boom'); }), /boom/);
  assert.is(currentDispatchMode(), null);
  assert.equal(K.add(a, 5).toArray(), [6, 7], 'eager again');
});

Modes('schema errors are raised before any mode sees the call', () => {
  const mode = new RecordingMode();
  const a = tensor([1]);
  withDispatchMode(mode, () => expectError(() => fn('add')(a, 'x'), KilnTypeError));
  assert.is(mode.calls.length, 0);
});

Modes('runEager runs the kernel, or the decomposition for composite ops', () => {
  const a = tensor([1, 2]);
  assert.equal((runEager(getOp('add')!, [a, 1, 1]) as Tensor).toArray(), [2, 3]);
  const g = new K.Generator(4);
  const out = runEager(getOp('randLike')!, [K.zeros([3]), null, g]) as Tensor;
  assert.equal(out.toArray(), K.rand([3], { generator: new K.Generator(4) }).toArray());
});

Modes.run();

// ---- meta functions over symbolic sizes ----

/** A tiny symbolic integer: an expression string plus a hint; comparisons record a guard and use the hint. */
class Sym implements SymIntLike {
  readonly isSymInt = true as const;
  constructor(readonly expr: string, readonly hint: number, readonly guards: string[]) {}
  private lift(o: K.Size): Sym {
    return typeof o === 'number' ? new Sym(String(o), o, this.guards) : (o as Sym);
  }
  private bin(op: string, o: K.Size, f: (a: number, b: number) => number): Sym {
    const other = this.lift(o);
    return new Sym(`(${this.expr} ${op} ${other.expr})`, f(this.hint, other.hint), this.guards);
  }
  private cmp(op: string, o: K.Size, f: (a: number, b: number) => boolean): SymBoolLike {
    const other = this.lift(o);
    const text = `${this.expr} ${op} ${other.expr}`;
    const guards = this.guards;
    const value = f(this.hint, other.hint);
    return { isSymBool: true, toString: () => text, guardBool: () => (guards.push(`${text} is ${value}`), value) };
  }
  add(o: K.Size) { return this.bin('+', o, (a, b) => a + b); }
  sub(o: K.Size) { return this.bin('-', o, (a, b) => a - b); }
  mul(o: K.Size) { return this.bin('*', o, (a, b) => a * b); }
  floorDiv(o: K.Size) { return this.bin('//', o, (a, b) => Math.floor(a / b)); }
  mod(o: K.Size) { return this.bin('%', o, (a, b) => a % b); }
  min(o: K.Size) { return this.bin('min', o, Math.min); }
  max(o: K.Size) { return this.bin('max', o, Math.max); }
  neg() { return new Sym(`-${this.expr}`, -this.hint, this.guards); }
  eq(o: K.Size) { return this.cmp('==', o, (a, b) => a === b); }
  ne(o: K.Size) { return this.cmp('!=', o, (a, b) => a !== b); }
  lt(o: K.Size) { return this.cmp('<', o, (a, b) => a < b); }
  le(o: K.Size) { return this.cmp('<=', o, (a, b) => a <= b); }
  gt(o: K.Size) { return this.cmp('>', o, (a, b) => a > b); }
  ge(o: K.Size) { return this.cmp('>=', o, (a, b) => a >= b); }
  toString() { return this.expr; }
}

const fake = (shape: K.Size[], dtype: K.DType = 'float32'): TensorMetaLike => {
  let acc: K.Size = 1;
  const strides: K.Size[] = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    const size = shape[i]!;
    acc = typeof acc !== 'number' ? acc.mul(size) : typeof size !== 'number' ? size.mul(acc) : acc * size;
  }
  return { shape, strides, offset: 0, dtype, ndim: shape.length };
};
const meta = (name: string, args: unknown[]) => getOp(name)!.meta!(args, eagerMetaContext) as MetaTensor;
const str = (shape: readonly K.Size[]) => shape.map(String).join(', ');

const Symbolic = suite('registry: meta functions run on symbolic sizes');

Symbolic('broadcasting a symbolic dim against 1 and itself needs no guard beyond size-1 checks', () => {
  const guards: string[] = [];
  const s0 = new Sym('s0', 5, guards);
  const out = meta('add', [fake([s0, 3]), fake([3], 'int32'), 1]);
  assert.is(str(out.shape), 's0, 3');
  assert.is(out.dtype, 'float32');
  assert.ok(guards.every((g) => g.startsWith('s0 == 1')), guards.join('; '));
});

Symbolic('two symbolic dims broadcast with a recorded equality guard', () => {
  const guards: string[] = [];
  const s0 = new Sym('s0', 4, guards);
  const s1 = new Sym('s1', 4, guards);
  const out = meta('mul', [fake([s0]), fake([s1])]);
  assert.is(out.shape.length, 1);
  assert.ok(guards.some((g) => g.includes('s0') && g.includes('s1')), guards.join('; '));
});

Symbolic('view ops compute symbolic shapes, strides and offsets', () => {
  const guards: string[] = [];
  const s0 = new Sym('s0', 6, guards);
  const x = fake([s0, 4]);
  const t = meta('transpose', [x, 0, 1]);
  assert.is(str(t.shape), '4, s0');
  assert.is(str(t.strides!), '1, 4');
  const sl = meta('slice', [x, 0, 1, null, 2]);
  // Unsimplified expressions (simplifying is @kiln/shapes' job): check them through their hints (s0 = 6).
  const hint = (s: K.Size | undefined) => (typeof s === 'number' ? s : (s as Sym).hint);
  assert.match(String(sl.shape[0]), 's0');
  assert.is(hint(sl.shape[0]), 3, 'rows 1, 3, 5');
  assert.is(hint(sl.offset), 4, 'offset = start * stride');
  assert.is(hint(sl.strides![0]), 8);
  const u = meta('unsqueeze', [x, 0]);
  assert.is(str(u.shape), '1, s0, 4');
  const r = meta('reshape', [x, [-1]]);
  assert.equal(r.shape.map(hint), [24]);
  assert.match(str(r.shape), 's0');
  const f = meta('flatten', [fake([2, s0, 3]), 1, -1]); // meta functions take normalized arguments
  assert.equal(f.shape.map(hint), [2, 18]);
  assert.match(str(f.shape), /^2, .*s0/);
  const e = meta('expand', [fake([1, 4]), [s0, 4]]);
  assert.is(str(e.shape), 's0, 4');
  assert.is(str(e.strides!), '0, 1');
});

Symbolic('creation meta functions accept symbolic sizes', () => {
  const s0 = new Sym('s0', 3, []);
  const z = meta('zeros', [[s0, 2], 'float64']);
  assert.is(str(z.shape), 's0, 2');
  assert.is(z.dtype, 'float64');
});

Symbolic.run();

const Builtin = suite("registry: Kiln's own ops are told from plugins' and users'");

Builtin("every op the package defines is built in; an op defined after it loaded is not (persistent caches key that one by its code)", () => {
  // (Other test files of this process define ops of their own too: only named ones are checked.)
  for (const name of ['add', 'matmul', 'gelu', 'softmax', 'exp', 'sum', 'layerNorm', 'where']) assert.ok(isBuiltinOp(getOp(name)!), name);
  const { op } = defineOp({ name: 'registryTestUserOp', category: 'pointwise', method: false, positional: [{ name: 'self', type: 'Tensor', hasDefault: false }], kernel: ([x]) => x });
  assert.not.ok(isBuiltinOp(op));
});

Builtin.run();

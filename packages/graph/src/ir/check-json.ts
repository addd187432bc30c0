// Graph JSON is input that may come from anywhere (a file, a cache, another process). deserializeGraph
// checks all of it here first, in one pass linear in its size, so that decoding can trust it: every problem
// is a GraphError that names the node and the field, never a TypeError from reading `null.map` and never a
// graph that computes garbage (a constant whose data does not fill its shape, a fake value that contradicts
// its constant, a symbol name that is not an identifier).
import { DTYPES, isDType, type DType } from '@kiln/tensor';
import { GraphError } from './graph.js';
import { NODE_KINDS } from './node.js';

/** Arguments nest (lists of lists, kwargs objects); real graphs stay far below this. */
const MAX_VALUE_DEPTH = 64;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const CALL_ARITY: Record<string, number | undefined> = { FloorDiv: 2, Mod: 2, TrueDiv: 2, Min: undefined, Max: undefined };
const RELATIONS = new Set(['==', '!=', '<', '<=']);
const VALUE_TAGS = ['node', 'undef', 'num', 'sym', 'fake', 'tensor', 'obj'] as const;

type Json = Record<string, unknown>;
type Place = 'argument' | 'constant' | 'meta';

class Checker {
  readonly defined = new Set<string>();
  where = 'top level';

  fail(what: string): never {
    throw new GraphError(`graph JSON: ${this.where}: ${what}`, 'pass what serializeGraph produced (unchanged), or fix the named field');
  }

  object(x: unknown, what: string): Json {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) this.fail(`${what} is ${brief(x)}, not an object`);
    return x as Json;
  }

  array(x: unknown, what: string): unknown[] {
    if (!Array.isArray(x)) this.fail(`${what} is ${brief(x)}, not a list`);
    return x as unknown[];
  }

  string(x: unknown, what: string): string {
    if (typeof x !== 'string') this.fail(`${what} is ${brief(x)}, not a string`);
    return x as string;
  }

  integer(x: unknown, what: string, min = 0): number {
    if (!Number.isSafeInteger(x) || (x as number) < min) this.fail(`${what} is ${brief(x)}, not an integer >= ${min}`);
    return x as number;
  }

  identifier(x: unknown, what: string): string {
    if (typeof x !== 'string' || !IDENTIFIER.test(x)) this.fail(`${what} is ${brief(x)}, not an identifier`);
    return x as string;
  }

  /**
   * An encoded argument or value (see encode in serialize.ts). Tensors only appear as a constant node's
   * argument and fake tensors only in meta.val; elsewhere the graph would walk into their internals.
   */
  value(x: unknown, depth: number, place: Place): void {
    if (depth > MAX_VALUE_DEPTH) this.fail(`values nest deeper than ${MAX_VALUE_DEPTH} levels`);
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) this.fail(`the number ${x} should be written as { num: '${x}' }`);
      return;
    }
    if (Array.isArray(x)) {
      for (const item of x) this.value(item, depth + 1, place);
      return;
    }
    const o = this.object(x, 'a value');
    const tags = VALUE_TAGS.filter((tag) => Object.hasOwn(o, tag));
    if (tags.length !== 1) this.fail(`the value ${brief(x)} has ${tags.length === 0 ? 'no' : 'more than one'} tag of ${VALUE_TAGS.join(', ')}`);
    const tag = tags[0]!;
    if ((tag === 'tensor' && place !== 'constant') || (tag === 'fake' && place !== 'meta') || (tag === 'node' && place !== 'argument')) {
      this.fail(`a { ${tag} } value cannot appear in ${place === 'meta' ? 'meta.val' : place === 'constant' ? 'a constant' : 'the arguments of a node'}`);
    }
    switch (tag) {
      case 'node':
        if (typeof o.node !== 'string' || !this.defined.has(o.node)) this.fail(`refers to node ${brief(o.node)}, which is not defined before it`);
        return;
      case 'undef':
        if (o.undef !== true) this.fail(`{ undef } must be true, got ${brief(o.undef)}`);
        return;
      case 'num':
        if (typeof o.num !== 'string' || !NON_FINITE.has(o.num)) this.fail(`{ num } must be 'NaN', 'Infinity' or '-Infinity', got ${brief(o.num)}`);
        return;
      case 'sym':
        this.expr(o.sym, 0);
        // A symbolic argument (`x.sub(x.shape[0] - 5)`) may be negative; sizes are checked where they are sizes.
        if (o.hint !== undefined) this.integer(o.hint, 'a symbolic value hint', Number.MIN_SAFE_INTEGER);
        return;
      case 'fake':
        this.fake(o.fake);
        return;
      case 'tensor':
        this.tensor(o.tensor);
        return;
      case 'obj':
        for (const item of Object.values(this.object(o.obj, '{ obj }'))) this.value(item, depth + 1, place);
        return;
    }
  }

  size(x: unknown, what: string): void {
    if (typeof x === 'number') this.integer(x, what);
    else this.expr(this.object(x, what).sym, 0);
  }

  fake(x: unknown): { shape: unknown[]; dtype: DType } {
    const f = this.object(x, 'a fake tensor');
    const shape = this.array(f.shape, 'a fake tensor shape');
    const strides = this.array(f.strides, 'a fake tensor strides');
    if (strides.length !== shape.length) this.fail(`a fake tensor has ${shape.length} sizes but ${strides.length} strides`);
    shape.forEach((s) => this.size(s, 'a fake tensor size'));
    strides.forEach((s) => this.size(s, 'a fake tensor stride'));
    this.size(f.offset, 'a fake tensor offset');
    return { shape, dtype: this.dtype(f.dtype) };
  }

  dtype(x: unknown): DType {
    if (!isDType(x)) this.fail(`the dtype ${brief(x)} is not one of ${DTYPES.join(', ')}`);
    return x as DType;
  }

  /** A constant's data: one value per element of its shape, each representable in its dtype. */
  tensor(x: unknown): { shape: number[]; dtype: DType } {
    const t = this.object(x, 'a tensor');
    const dtype = this.dtype(t.dtype);
    const shape = this.array(t.shape, 'a tensor shape').map((s) => this.integer(s, 'a tensor size'));
    const data = this.array(t.data, 'tensor data');
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel) this.fail(`a ${dtype} constant of shape [${shape.join(', ')}] needs ${numel} values, but its data has ${data.length}`);
    for (const v of data) {
      const ok =
        dtype === 'bool' ? v === 0 || v === 1
        : dtype === 'int32' ? Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31
        : typeof v === 'number' || (typeof v === 'string' && NON_FINITE.has(v));
      if (!ok) this.fail(`a ${dtype} constant holds ${brief(v)}`);
    }
    return { shape, dtype };
  }

  expr(x: unknown, depth: number): void {
    if (depth > MAX_VALUE_DEPTH) this.fail(`a size expression nests deeper than ${MAX_VALUE_DEPTH} levels`);
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) this.fail(`a size expression is ${x}`);
      return;
    }
    const e = this.object(x, 'a size expression');
    if (typeof e.constant !== 'number' || !Number.isFinite(e.constant)) this.fail(`a size expression has the constant ${brief(e.constant)}`);
    for (const term of this.array(e.terms, 'the terms of a size expression')) {
      const [coeff, factors] = this.array(term, 'a term') as [unknown, unknown];
      if (typeof coeff !== 'number' || !Number.isFinite(coeff)) this.fail(`a term has the coefficient ${brief(coeff)}`);
      for (const factor of this.array(factors, 'the factors of a term')) {
        const [atom, power] = this.array(factor, 'a factor') as [unknown, unknown];
        this.integer(power, 'a power', 1);
        this.atom(atom, depth + 1);
      }
    }
  }

  atom(x: unknown, depth: number): void {
    const a = this.object(x, 'a symbol');
    if ('sym' in a) this.identifier(a.sym, 'a symbol name');
    else if ('nested' in a) this.integer(a.nested, 'a nested int id');
    else if (typeof a.call === 'string' && Object.hasOwn(CALL_ARITY, a.call)) {
      const args = this.array(a.args, `the arguments of ${a.call}`);
      const arity = CALL_ARITY[a.call];
      if (arity !== undefined ? args.length !== arity : args.length === 0) this.fail(`${a.call} has ${args.length} arguments`);
      args.forEach((arg) => this.expr(arg, depth + 1));
    } else this.fail(`${brief(x)} is not a symbol, nested int or call of ${Object.keys(CALL_ARITY).join(', ')}`);
  }

  bool(x: unknown, depth: number): void {
    if (depth > MAX_VALUE_DEPTH) this.fail(`a condition nests deeper than ${MAX_VALUE_DEPTH} levels`);
    if (typeof x === 'boolean') return;
    const b = this.object(x, 'a condition');
    if ('rel' in b) {
      if (!RELATIONS.has(b.rel as string)) this.fail(`a condition has the relation ${brief(b.rel)}`);
      this.expr(b.diff, depth + 1);
    } else if ('not' in b) this.bool(b.not, depth + 1);
    else if ('and' in b || 'or' in b) this.array(b.and ?? b.or, 'the parts of a condition').forEach((p) => this.bool(p, depth + 1));
    else this.fail(`${brief(x)} is not a condition`);
  }
}

/** Throws GraphError unless `json` is well-formed graph JSON (see GraphJson in serialize.ts). */
export function checkGraphJson(json: unknown): void {
  const c = new Checker();
  const g = c.object(json, 'the JSON');
  if (g.version !== 1) c.fail(`unsupported version ${brief(g.version)} (this reader knows version 1)`);
  if (g.level !== 'api' && g.level !== 'core') c.fail(`level is ${brief(g.level)}, not 'api' or 'core'`);
  c.array(g.nodes, 'nodes').forEach((n, i) => checkNode(c, n, i));
  c.where = 'top level';
  c.array(g.symbols, 'symbols').forEach((x) => {
    const s = c.object(x, 'a symbol entry');
    c.identifier(s.name, 'a symbol name');
    c.string(s.range, `the range of ${String(s.name)}`);
    if (s.source !== undefined) c.string(s.source, `the source of ${String(s.name)}`);
  });
  c.array(g.asserts, 'asserts').forEach((x) => {
    const a = c.object(x, 'an assert');
    c.string(a.expr, 'an assert expression');
    for (const key of ['source', 'message'] as const) if (a[key] !== undefined) c.string(a[key], `an assert ${key}`);
    if (a.cond !== undefined) c.bool(a.cond, 0);
    if (a.symbols !== undefined) c.array(a.symbols, 'assert symbols').forEach((s) => c.identifier(s, 'an assert symbol'));
  });
}

function checkNode(c: Checker, x: unknown, index: number): void {
  c.where = `node ${index}`;
  const n = c.object(x, 'the node');
  const name = c.string(n.name, 'its name');
  if (name === '' || c.defined.has(name)) c.fail(`the name ${brief(name)} is ${name === '' ? 'empty' : 'used twice'}`);
  c.where = `node %${name}`;
  if (!(NODE_KINDS as readonly unknown[]).includes(n.kind)) c.fail(`kind is ${brief(n.kind)}, not one of ${NODE_KINDS.join(', ')}`);
  const target = c.string(n.target, 'its target');
  if (n.kind !== 'call' && target !== n.kind) c.fail(`a ${String(n.kind)} node has the target ${brief(target)}`);
  const args = c.array(n.args, 'args');
  const arity = n.kind === 'placeholder' ? 0 : n.kind === 'call' ? args.length : 1;
  if (args.length !== arity) c.fail(`a ${String(n.kind)} node has ${args.length} args`);
  args.forEach((a) => c.value(a, 0, n.kind === 'constant' ? 'constant' : 'argument'));
  const kwargs = c.object(n.kwargs, 'kwargs');
  c.object(kwargs.obj, 'kwargs (an { obj } value)');
  c.value(kwargs, 0, 'argument');
  const meta = c.object(n.meta, 'meta');
  if (meta.val !== undefined) c.value(meta.val, 0, 'meta');
  if (meta.source !== undefined) {
    const source = c.object(meta.source, 'meta.source');
    c.string(source.file, 'meta.source.file');
    c.integer(source.line, 'meta.source.line');
    if (source.column !== undefined) c.integer(source.column, 'meta.source.column');
    if (source.path !== undefined) c.string(source.path, 'meta.source.path');
  }
  if (meta.inputSource !== undefined) c.string(meta.inputSource, 'meta.inputSource');
  if (n.kind === 'constant') checkConstantMeta(c, args[0], meta.val);
  c.defined.add(name);
}

/** A constant's recorded fake value must describe its tensor: compiled code is planned from the fake. */
function checkConstantMeta(c: Checker, arg: unknown, val: unknown): void {
  const isTagged = (x: unknown, tag: string): x is Json => x !== null && typeof x === 'object' && Object.hasOwn(x, tag);
  if (!isTagged(arg, 'tensor') || !isTagged(val, 'fake')) return;
  const tensor = c.tensor(arg.tensor);
  const fake = c.fake(val.fake);
  if (fake.dtype !== tensor.dtype || fake.shape.length !== tensor.shape.length || fake.shape.some((s, i) => s !== tensor.shape[i])) {
    c.fail(`its value is recorded as ${fake.dtype}[${fake.shape.map(brief).join(', ')}] but the constant is ${tensor.dtype}[${tensor.shape.join(', ')}]`);
  }
}

function brief(x: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = String(x);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

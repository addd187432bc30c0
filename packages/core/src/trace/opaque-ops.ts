// A user function marked allowInGraph (torch's allow_in_graph) becomes one opaque graph node: an op of the
// registry in category `opaque` whose kernel is the function itself, run eagerly inside the compiled program,
// and whose meta is a run of the function on fake tensors (or the meta function the user gave). Graph IR,
// decomposition, the interpreter and every backend then treat it like any op without a lowering: one eager
// step. One op per function and argument signature (`helper(x)` and `helper(x, 2)` are two schemas).
import { KilnTypeError, Tensor, defineOp, getOp } from '@kiln/tensor';
import type { ArgSpec, ArgTypes, DType, MetaResult, MetaTensor, OpDef } from '@kiln/tensor';

type ArgTypeName = keyof ArgTypes;

type MetaFn = (...args: any[]) => unknown;

const opsOf = new WeakMap<Function, Map<string, OpDef>>();

const isSym = (x: unknown): boolean => typeof x === 'object' && x !== null && ('isSymInt' in x || 'isSymFloat' in x || 'isSymBool' in x);

/** The schema type an argument is passed as, or undefined when an opaque node cannot take it. */
function argType(v: unknown): ArgTypeName | undefined {
  if (v instanceof Tensor) return 'Tensor';
  if (v === null) return 'Tensor?';
  if (typeof v === 'number' || typeof v === 'boolean' || isSym(v)) return 'Scalar';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => x instanceof Tensor)) return 'Tensor[]';
    if (v.every((x) => typeof x === 'number' || isSym(x))) return 'ints';
  }
  return undefined;
}

function describeArg(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array of mixed values';
  if (typeof v !== 'object' || v === null) return `a ${typeof v}`;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? 'a plain object' : `a ${(v as object).constructor?.name ?? 'object'}`;
}

/**
 * The op standing for `fn` called with `args` (the tracer's op arguments: fake tensors, numbers, symbols).
 * Throws a KilnTypeError naming the argument when one cannot cross into a graph node (the tracer turns it
 * into a graph break, so the call still runs, eagerly).
 */
export function opaqueOpFor(fn: Function, name: string, args: readonly unknown[], meta: MetaFn | undefined): OpDef {
  const types = args.map((a, i) => {
    const t = argType(a);
    if (!t) {
      throw new KilnTypeError(
        `allowInGraph function '${name}': argument ${i} is ${describeArg(a)}, which a graph node cannot take`,
        'pass tensors, numbers, booleans, strings, or arrays of tensors or of numbers; or leave the function out of allowInGraph() so it is traced into',
      );
    }
    return t;
  });
  const signature = types.join(',');
  let perFn = opsOf.get(fn);
  if (!perFn) opsOf.set(fn, (perFn = new Map()));
  let op = perFn.get(signature);
  if (!op) perFn.set(signature, (op = defineOpaque(fn, name, types, meta)));
  return op;
}

/** A registry name no other op has: `helper`, or `helper_1` when that is taken (by an op or another function). */
function freshName(name: string): string {
  const base = /^[A-Za-z_$][\w$]*$/.test(name) ? name : 'anonymous';
  let candidate = base;
  for (let i = 1; getOp(candidate); i++) candidate = `${base}_${i}`;
  return candidate;
}

function defineOpaque(fn: Function, label: string, types: readonly ArgTypeName[], meta: MetaFn | undefined): OpDef {
  const positional = types.map((type, i): ArgSpec => ({ name: `arg${i}`, type, hasDefault: false }));
  const opName = freshName(label);
  const { op } = defineOp({
    name: opName,
    category: 'opaque',
    positional,
    method: false,
    publicFunction: false,
    // Called under the tracer's fake-tensor mode: the function's own op calls run on fake tensors too.
    meta: (args) => outputMeta(label, meta ? meta(...args) : fn(...args), meta !== undefined),
    kernel: (args) => ownResult(fn(...args), args),
  });
  return op;
}

/** A tensor or an array of tensors as meta records; a plain object or a number has no node to live in. */
function outputMeta(label: string, out: unknown, fromUserMeta: boolean): MetaResult {
  const one = (t: unknown, where: string): MetaTensor => {
    const m = t as { shape?: unknown; dtype?: unknown };
    if (m !== null && typeof m === 'object' && Array.isArray(m.shape) && typeof m.dtype === 'string') return { shape: [...m.shape], dtype: m.dtype as DType };
    throw new KilnTypeError(
      `allowInGraph function '${label}': ${fromUserMeta ? 'its meta function returned' : 'it returned'} ${describeArg(t)}${where}, not a tensor`,
      fromUserMeta ? 'the meta function returns { shape, dtype } (or an array of those) for the result' : 'an opaque graph node returns a tensor or an array of tensors; return those, or leave the function out of allowInGraph()',
    );
  };
  return Array.isArray(out) ? out.map((t, i) => one(t, ` at [${i}]`)) : one(out, '');
}

/**
 * The node's result must be a fresh tensor, as its meta says: a result sharing an argument's storage (the
 * argument itself, a view of it) is copied, so a later in-place write cannot show through two values.
 */
function ownResult(out: unknown, args: readonly unknown[]): unknown {
  const storages = new Set(args.flatMap((a) => (a instanceof Tensor ? [a.storage] : Array.isArray(a) ? a.filter((x) => x instanceof Tensor).map((t) => t.storage) : [])));
  const own = (t: unknown): unknown => (t instanceof Tensor && storages.has(t.storage) ? t.clone() : t);
  return Array.isArray(out) ? out.map(own) : own(out);
}

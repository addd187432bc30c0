// The differential harness: each corpus program runs compiled and eagerly, side by side, on fresh but equal
// inputs, under every configuration a user can pick (backend × dynamic). Results, thrown errors, the
// arguments after the call (in-place writes), outside state (side effects) and which outputs alias which
// inputs must all agree: a compiled result that differs from eager is the worst bug there is, while a
// graph break or an eager fallback is never wrong, so the harness does not count graphs at all.
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { CompileRecorder, compileWith } from '@kiln/core';
import type { CompileOptions } from '@kiln/core';
import '@kiln/backend-cpu';

/** A program's own copy of the outside world: its function and the state it reads and writes. */
export interface World {
  readonly fn: (...args: any[]) => unknown;
  /** `this` for the call (a model instance). */
  readonly thisArg?: unknown;
  /** Changes outside state before call `i` (a config a user edits between calls). */
  readonly beforeCall?: (i: number) => void;
  /** The outside state after a call, compared between the eager and the compiled world. */
  readonly observe?: () => unknown;
}

export interface Program<S = readonly number[]> {
  /** Builds a fresh world; called once for eager and once for the compiled side of every configuration. */
  readonly world: () => World;
  /** Input shapes (or any per-call parameter); the first and last are called again to hit the cache. */
  readonly shapes: readonly S[];
  /** The arguments of one call; called with equal generators for both sides, so inputs are fresh but equal. */
  readonly args: (gen: Gen, shape: S, call: number) => unknown[];
  /** Relative tolerance for floats (1e-5; transcendental-heavy programs 1e-4). */
  readonly tol?: number;
  /** A documented difference in the error raised (why): both must still throw. */
  readonly errorsDiffer?: string;
}

/** A function without outside state. */
export const pure = (fn: (...args: any[]) => unknown) => (): World => ({ fn });

/** Deterministic inputs, so a failure reproduces and both sides of a call see the same numbers. */
export class Gen {
  private seed: number;
  constructor(seed: number) {
    this.seed = seed;
  }
  next(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) & 0x7fffffff;
    return this.seed / 0x7fffffff;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  floats(shape: readonly number[], scale = 2): k.Tensor {
    const data = Float32Array.from({ length: numel(shape) }, () => (this.next() * 2 - 1) * scale);
    return k.Tensor.fromData(data, shape, 'float32');
  }
  ints(shape: readonly number[], lo = -5, hi = 5): k.Tensor {
    return k.Tensor.fromData(Int32Array.from({ length: numel(shape) }, () => this.int(lo, hi)), shape, 'int32');
  }
  bools(shape: readonly number[], pTrue = 0.5): k.Tensor {
    return k.Tensor.fromData(Uint8Array.from({ length: numel(shape) }, () => (this.next() < pTrue ? 1 : 0)), shape, 'bool');
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const CONFIGS: readonly CompileOptions[] = [
  { backend: 'cpu' },
  { backend: 'cpu', dynamic: true },
  { backend: 'eager' },
  { backend: 'eager', dynamic: true },
];
const configName = (c: CompileOptions) => `${c.backend}${c.dynamic ? ', dynamic' : ''}`;

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function attempt(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Every program the corpus checked, by test name, in order (the corpus files pass the name; the other
 * differential tests do not, and are not replayed): the WebGPU backend's tests import the corpus
 * files and replay these on the GPU (asynchronous readback), so the programs live in one place.
 */
export const checkedPrograms: { name: string; program: Program<any> }[] = [];

/** Runs `program` under every configuration; returns the differences found (empty when compiled = eager). */
export function differences<S>(program: Program<S>): string[] {
  const found: string[] = [];
  for (const config of CONFIGS) {
    const eagerWorld = program.world();
    const compiledWorld = program.world();
    const compiled = compileWith(compiledWorld.fn, config, new CompileRecorder());
    callSequence(program).forEach((shape, i) => {
      const where = `[${configName(config)}] call ${i} (${JSON.stringify(shape)})`;
      const { eagerArgs, compiledArgs, want } = eagerCall(program, eagerWorld, compiledWorld, shape, i);
      const got = attempt(() => compiled.apply(compiledWorld.thisArg, compiledArgs));
      const diff = [
        ...compareOutcome(got, want, program.tol ?? 1e-5, program.errorsDiffer !== undefined),
        ...compareTree(compiledArgs, eagerArgs, 'arguments after the call', program.tol ?? 1e-5),
        ...compareTree(compiledWorld.observe?.(), eagerWorld.observe?.(), 'outside state', program.tol ?? 1e-5),
        ...(got.ok && want.ok ? compareAliasing([got.value, compiledArgs], [want.value, eagerArgs]) : []),
      ];
      for (const d of diff) found.push(`${where}: ${d}`);
    });
  }
  return found;
}

/** The calls a program makes: each of its shapes, then the first and the last again (cache hits). */
export const callSequence = <S>(program: Program<S>): S[] => [...program.shapes, program.shapes[0]!, program.shapes[program.shapes.length - 1]!];

/** Call `i`: fresh but equal arguments for both worlds, the outside edits before it, and eager's outcome. */
export function eagerCall<S>(program: Program<S>, eagerWorld: World, compiledWorld: World, shape: S, i: number) {
  const seed = 1000 + i;
  const eagerArgs = program.args(new Gen(seed), shape, i);
  const compiledArgs = program.args(new Gen(seed), shape, i);
  eagerWorld.beforeCall?.(i);
  compiledWorld.beforeCall?.(i);
  return { eagerArgs, compiledArgs, want: attempt(() => eagerWorld.fn.apply(eagerWorld.thisArg, eagerArgs)) };
}

/** Asserts that `program` shows no difference; the message lists every one (up to 12). */
export function assertNoDifference<S>(program: Program<S>, name?: string): void {
  if (name !== undefined) checkedPrograms.push({ name, program });
  const found = differences(program);
  if (found.length > 0) assert.unreachable(`${found.length} difference(s):\n  ${found.slice(0, 12).join('\n  ')}`);
}

export function compareOutcome(got: Outcome, want: Outcome, tol: number, anyError: boolean): string[] {
  if (got.ok && want.ok) return compareTree(got.value, want.value, 'result', tol);
  if (!want.ok && got.ok) return [`eager threw ${describe(want.error)}, compiled returned`];
  if (want.ok && !got.ok) return [`compiled threw ${describe(got.error)}${stackTop(got.error)}, eager returned`];
  if (anyError) return [];
  const [g, w] = [got as { error: unknown }, want as { error: unknown }];
  const [gName, wName] = [errorName(g.error), errorName(w.error)];
  if (gName !== wName) return [`error class: compiled ${describe(g.error)}, eager ${describe(w.error)}`];
  if (!similarMessages(errorMessage(g.error), errorMessage(w.error))) {
    return [`error message: compiled "${errorMessage(g.error)}", eager "${errorMessage(w.error)}"`];
  }
  return [];
}

const errorName = (e: unknown) => (e instanceof Error ? e.constructor.name : typeof e);
const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const describe = (e: unknown) => `${errorName(e)}: ${errorMessage(e)}`;
const stackTop = (e: unknown) => (e instanceof Error ? `\n      ${(e.stack ?? '').split('\n').slice(1, 4).join('\n      ')}` : '');

/**
 * Compiled errors may add where they happened (a line) or name a different offending element (a compiled
 * range check reports the largest index, eager the first): same text, or the same op prefix (`gather:`).
 */
function similarMessages(got: string, want: string): boolean {
  const prefix = (s: string) => /^[\w.]+:/.exec(s)?.[0];
  return got.includes(want) || want.includes(got) || (prefix(want) !== undefined && prefix(got) === prefix(want));
}

/** Structural comparison of pytrees (arrays, plain objects, Maps, class instances) of tensors and numbers. */
export function compareTree(got: unknown, want: unknown, path: string, tol: number): string[] {
  if (want instanceof k.Tensor) return got instanceof k.Tensor ? compareTensor(got, want, path, tol) : [`${path}: expected a tensor, got ${typeof got}`];
  if (typeof want === 'number') return compareNumber(got, want, path, tol);
  if (want instanceof Map) {
    if (!(got instanceof Map)) return [`${path}: expected a Map`];
    const keys = [[...got.keys()], [...want.keys()]].map((ks) => JSON.stringify(ks.map(String)));
    if (keys[0] !== keys[1]) return [`${path}: Map keys ${keys[0]} vs ${keys[1]}`];
    return [...want].flatMap(([key, w]) => compareTree(got.get(key), w, `${path}.get(${String(key)})`, tol));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [`${path}: expected an array`];
    if (got.length !== want.length) return [`${path}: length ${got.length} vs ${want.length}`];
    const named = Object.keys(want).filter((key) => !/^\d+$/.test(key));
    return [...want.map((w, i) => compareTree(got[i], w, `${path}[${i}]`, tol)).flat(), ...compareFields(got, want, named, path, tol)];
  }
  if (want !== null && typeof want === 'object') {
    if (got === null || typeof got !== 'object') return [`${path}: expected an object, got ${String(got)}`];
    if (Object.getPrototypeOf(got) !== Object.getPrototypeOf(want)) return [`${path}: class ${got.constructor?.name} vs ${want.constructor?.name}`];
    return compareFields(got, want, Object.keys(want), path, tol);
  }
  return Object.is(got, want) ? [] : [`${path}: ${String(got)} vs ${String(want)}`];
}

function compareFields(got: object, want: object, keys: string[], path: string, tol: number): string[] {
  const gotKeys = Object.keys(got).filter((key) => !Array.isArray(got) || !/^\d+$/.test(key));
  if (JSON.stringify([...gotKeys].sort()) !== JSON.stringify([...keys].sort())) return [`${path}: keys [${gotKeys}] vs [${keys}]`];
  return keys.flatMap((key) => compareTree((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${path}.${key}`, tol));
}

function compareNumber(got: unknown, want: number, path: string, tol: number): string[] {
  if (typeof got !== 'number') return [`${path}: expected the number ${want}, got ${String(got)}`];
  if (Object.is(got, want)) return [];
  const exact = Number.isInteger(want) && Number.isInteger(got);
  if (!exact && Math.abs(got - want) <= tol * Math.max(1, Math.abs(want))) return [];
  return [`${path}: ${got} vs ${want}`];
}

function compareTensor(got: k.Tensor, want: k.Tensor, path: string, tol: number): string[] {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return [`${path}: shape [${got.shape}] vs [${want.shape}]`];
  if (got.dtype !== want.dtype) return [`${path}: dtype ${got.dtype} vs ${want.dtype}`];
  const [a, b] = [got.toTypedArray(), want.toTypedArray()];
  const floating = want.dtype === 'float32' || want.dtype === 'float64';
  for (let i = 0; i < b.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (floating && Number.isFinite(y) && Math.abs(x - y) <= tol * Math.max(1, Math.abs(y))) continue;
    return [`${path}: element ${i}: ${x} vs ${y} (of [${want.shape}] ${want.dtype})`];
  }
  return [];
}

/**
 * Which output tensors are the same object as, or share storage with, an input or another output. A user
 * notices both: writing into a returned view of an input changes the input in eager code.
 */
export function compareAliasing(got: unknown, want: unknown): string[] {
  const [g, w] = [tensorsOf(got), tensorsOf(want)];
  if (g.length !== w.length) return [];
  const out: string[] = [];
  for (let i = 0; i < w.length; i++) {
    for (let j = 0; j < i; j++) {
      const same = (t: k.Tensor[]) => (t[i] === t[j] ? 'the same tensor' : t[i]!.storage === t[j]!.storage ? 'views of one storage' : 'separate');
      if (same(g) !== same(w)) out.push(`aliasing of tensor #${j} and #${i} (outputs then arguments): compiled ${same(g)}, eager ${same(w)}`);
    }
  }
  return out;
}

function tensorsOf(tree: unknown, acc: k.Tensor[] = []): k.Tensor[] {
  if (tree instanceof k.Tensor) acc.push(tree);
  else if (tree instanceof Map) for (const v of tree.values()) tensorsOf(v, acc);
  else if (Array.isArray(tree)) for (const v of tree) tensorsOf(v, acc);
  else if (tree !== null && typeof tree === 'object') for (const v of Object.values(tree)) tensorsOf(v, acc);
  return acc;
}

// What the trace learned about input sizes, in the program's terms: each size as a number, a dim's symbol or
// an expression; the dims with their ranges; the facts it relied on (guards, check()) as asserts. A named Dim
// the trace could not keep as declared (specialized, merged with another, narrowed) is a
// ConstraintViolationError that says where and what to declare instead.
import type { ExportCapture } from '@kiln/core';
import type { Node } from '@kiln/graph';
import { expr as shapesExpr, isSymInt } from '@kiln/shapes';
import type { Expr, ShapeEnv } from '@kiln/shapes';
import { FakeTensor } from '@kiln/tensor';
import { DimRef } from './dims.js';
import type { PlannedTensor } from './dims.js';
import { ConstraintViolationError } from './errors.js';
import type { AssertSpec, DimSpec, SizeSpec } from './program.js';

const { asAtom, asConstant, exprToJson, boolToJson, boolFreeSymbols, freeSymbols } = shapesExpr;

/** Replaces symbol names in printed expressions by dim names, in one pass (names never collide with it). */
export function renameSymbols(text: string, names: ReadonlyMap<string, string>): string {
  return text.replace(/\b[su]\d+\b/g, (s) => names.get(s) ?? s);
}

function normalized(env: ShapeEnv, size: unknown): Expr | number {
  if (typeof size === 'number') return size;
  if (isSymInt(size)) {
    const e = env.normalize(size.expr);
    return asConstant(e) ?? e;
  }
  throw new ConstraintViolationError(`a size of unexpected type ${typeof size}`);
}

function sizeSpec(e: Expr | number): SizeSpec {
  if (typeof e === 'number') return e;
  const atom = asAtom(e);
  if (atom?.kind === 'symbol') return { sym: atom.name };
  return { expr: exprToJson(e), text: e.key };
}

interface Place {
  readonly place: string;
  readonly dim: DimRef | 'auto' | 'static';
  readonly size: Expr | number;
  /** The symbol made for this place before the trace's replacements (for where it was specialized). */
  readonly original: string | undefined;
}

export function sizeFacts(capture: ExportCapture, planned: ReadonlyMap<string, PlannedTensor>, byPlaceholder: ReadonlyMap<string, Node>) {
  const env = capture.shapeEnv;
  const places: Place[] = [];
  for (const input of capture.inputs) {
    const p = planned.get(input.source);
    if (!p) continue;
    const fake = byPlaceholder.get(input.placeholder)!.meta.val as FakeTensor;
    fake.shape.forEach((size, i) => {
      const original = isSymInt(size) ? asAtom(size.expr) : undefined;
      places.push({ place: `${p.name}.shape[${i}]`, dim: p.dims[i]!, size: normalized(env, size), original: original?.kind === 'symbol' ? original.name : undefined });
    });
  }
  checkNamedDims(env, places);
  const dims = dimSpecs(env, places);
  const names = new Map(dims.map((d) => [d.symbol, d.name]));
  const asserts = assertSpecs(capture, names);
  const shapeOf = (val: unknown): SizeSpec[] => {
    if (!(val instanceof FakeTensor)) return [];
    return val.shape.map((s) => sizeSpec(normalized(env, s)));
  };
  return { dims, asserts, shapeOf, symbolNames: names };
}

function checkNamedDims(env: ShapeEnv, places: readonly Place[]): void {
  const owner = new Map<string, Place>();
  for (const p of places) {
    if (!(p.dim instanceof DimRef)) continue;
    const where = p.original ? env.replacementLocation(p.original) : undefined;
    const at = where ? ` (at ${where})` : '';
    if (typeof p.size === 'number') {
      throw new ConstraintViolationError(`${p.place} is declared dynamic as ${p.dim}, but the trace specialized it to ${p.size}${at}`, `export it static (leave the dim out of dims), or change the code that fixes its size`);
    }
    const atom = asAtom(p.size);
    if (atom?.kind !== 'symbol') {
      throw new ConstraintViolationError(`${p.place} is declared as ${p.dim}, but the trace found it equal to ${p.size.key}${at}`, 'declare it as a dim of its own only where the code allows any size; sizes derived from other dims cannot be named');
    }
    const other = owner.get(atom.name);
    if (other && (other.dim as DimRef).name !== p.dim.name) {
      throw new ConstraintViolationError(`${other.place} (${(other.dim as DimRef).name}) and ${p.place} (${p.dim.name}) must be equal for this code${at}`, `use the same Dim for both`);
    }
    owner.set(atom.name, p);
  }
  for (const [symbol, p] of owner) {
    const d = p.dim as DimRef;
    const range = env.symbolInfo(symbol)!.range;
    const where = env.symbolInfo(symbol)!.rangeLocation;
    if (range.lo > Math.max(d.min, 2) || range.hi < d.max) {
      throw new ConstraintViolationError(
        `${p.place} is declared as ${d}, but the code only works for ${d.name} in [${range.lo}, ${range.hi}]${where ? ` (at ${where})` : ''}`,
        `declare Dim('${d.name}', { min: ${Math.max(range.lo, d.min)}, max: ${Math.min(range.hi, d.max)} })`,
      );
    }
  }
}

function dimSpecs(env: ShapeEnv, places: readonly Place[]): DimSpec[] {
  const bySymbol = new Map<string, { dim: DimRef | undefined; places: string[] }>();
  for (const p of places) {
    if (typeof p.size === 'number') continue;
    for (const s of freeSymbols(p.size)) {
      const entry = bySymbol.get(s) ?? { dim: undefined, places: [] };
      if (p.dim instanceof DimRef && asAtom(p.size)?.kind === 'symbol') entry.dim = p.dim;
      if (asAtom(p.size)?.kind === 'symbol') entry.places.push(p.place);
      bySymbol.set(s, entry);
    }
  }
  return [...bySymbol].map(([symbol, { dim, places: at }]) => {
    const range = env.symbolInfo(symbol)!.range;
    return dim
      ? { symbol, name: dim.name, min: dim.min, max: dim.max, places: at }
      : { symbol, name: symbol, min: range.lo, max: range.hi, places: at };
  });
}

function assertSpecs(capture: ExportCapture, names: ReadonlyMap<string, string>): AssertSpec[] {
  const env = capture.shapeEnv;
  const out: AssertSpec[] = [];
  const seen = new Set<string>();
  const add = (kind: AssertSpec['kind'], e: ReturnType<ShapeEnv['normalizeBool']>, location: string | undefined, message?: string) => {
    if (e.kind === 'bool' || seen.has(e.key)) return;
    // Facts over state sizes alone (static) or data-dependent sizes (checked inside the graph) are not input checks.
    if ([...boolFreeSymbols(e)].some((s) => !names.has(s))) return;
    seen.add(e.key);
    out.push({ kind, expr: boolToJson(e), text: renameSymbols(e.key, names), ...(location ? { location } : {}), ...(message ? { message } : {}) });
  };
  for (const g of env.guards()) if (!g.absorbed) add('relation', env.normalizeBool(g.expr), g.location);
  // As recorded: an assert must not be simplified away by the range it established itself.
  for (const a of capture.runtimeAsserts) add('check', a.expr, a.location, a.message);
  return out;
}

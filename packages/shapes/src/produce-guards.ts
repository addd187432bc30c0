// Turns what a ShapeEnv learned into guards over sources (`L.x.shape[0] == L.y.shape[0]`), each with the
// user location that caused it, and into plain JavaScript: no symbolic engine runs at guard time.
import { compare } from './expr/bool.js';
import { boolToJs, isSafeAccessor, JsEmitError, type SymbolToJs } from './expr/js.js';
import { atomExpr, constant, symbolAtom, symbolExpr } from './expr/poly.js';
import { boolFreeSymbols, substitute, substituteBool } from './expr/substitute.js';
import type { Atom, BoolExpr, Expr } from './expr/types.js';
import type { ShapeEnv } from './shape-env.js';

export type GuardKind = 'specialization' | 'static' | 'duck' | 'equality' | 'range' | 'guard';

export interface ProducedGuard {
  readonly kind: GuardKind;
  /** The guard with every symbol written as its source (`L.x.shape[0]`). */
  readonly expr: BoolExpr;
  /** Printed form, e.g. `L.x.shape[0] == L.y.shape[0]`. */
  readonly text: string;
  readonly sources: readonly string[];
  /** User source location that caused the guard (`model.ts:12`), when known. */
  readonly location: string | undefined;
}

/** JavaScript for one guard; `sourceToJs` maps a source to a variable (identity: read the source itself). */
export function guardToJs(guard: ProducedGuard, sourceToJs: SymbolToJs = (s) => s): string {
  return boolToJs(guard.expr, sourceToJs);
}

function make(kind: GuardKind, expr: BoolExpr, location: string | undefined): ProducedGuard {
  return { kind, expr, text: expr.key, sources: [...boolFreeSymbols(expr)].sort(), location };
}

/** Every guard the compiled code needs, in a deterministic order: input bindings, ranges, then guards. */
export function produceGuards(env: ShapeEnv): ProducedGuard[] {
  const sourceOf = (symbol: string): string => {
    const src = env.symbolInfo(symbol)?.sources[0];
    if (src === undefined) throw new Error(`guard mentions ${symbol}, which has no input source`);
    return src;
  };
  const toSource = (a: Atom): Expr | undefined => (a.kind === 'symbol' ? atomExpr(symbolAtom(sourceOf(a.name))) : undefined);
  const overSources = (e: BoolExpr): BoolExpr => substituteBool(e, toSource, env.simplifyContext);
  const out: ProducedGuard[] = [];
  const seen = new Set<string>();
  const push = (g: ProducedGuard): void => {
    if (g.expr.kind === 'bool' || seen.has(g.text)) return;
    seen.add(g.text);
    out.push(g);
  };

  for (const b of env.sourceBindings()) {
    const src = symbolExpr(b.source);
    if (typeof b.value === 'number') {
      push(make(b.reason === 'zero-one' ? 'specialization' : 'static', compare('==', src, constant(b.value)), b.location));
      continue;
    }
    if (b.reason === 'unbacked') continue;
    const replaced = env.replacements().get(b.value);
    if (replaced !== undefined) {
      const rhs = substitute(replaced, toSource, env.simplifyContext);
      push(make('equality', compare('==', src, rhs), env.replacementLocation(b.value) ?? b.location));
    } else if (sourceOf(b.value) !== b.source) {
      push(make('duck', compare('==', src, symbolExpr(sourceOf(b.value))), b.location));
    }
  }

  for (const info of env.symbols()) {
    if (info.kind !== 'backed' || info.sources.length === 0) continue;
    const src = symbolExpr(info.sources[0]!);
    const where = info.rangeLocation ?? info.location;
    // A replaced symbol keeps the part of its own range that its replacement does not already imply.
    const replaced = env.replacements().get(info.name);
    const implied = replaced ? env.exprRange(replaced) : { lo: -Infinity, hi: Infinity };
    if (info.range.lo > implied.lo) push(make('range', compare('>=', src, constant(info.range.lo)), where));
    if (info.range.hi < implied.hi) push(make('range', compare('<=', src, constant(info.range.hi)), where));
  }

  for (const g of env.guards()) {
    if (g.absorbed) continue;
    push(make('guard', overSources(env.normalizeBool(g.expr)), g.location));
  }
  return out;
}

export interface GuardFunction {
  /** Parameter names, the roots of the sources (`L`, `G`), sorted. */
  readonly params: readonly string[];
  /** `(L) => { … }` returning the index of the first failing guard, or -1 when all pass. */
  readonly source: string;
}

/**
 * One straight-line JavaScript function checking every guard, in order. Each source is read once, just
 * before the first guard that needs it, so a failing guard stops before later sources are touched.
 */
export function guardFunctionSource(guards: readonly ProducedGuard[]): GuardFunction {
  const scratch = new Map<string, string>();
  const body: string[] = [];
  guards.forEach((g, i) => {
    for (const s of g.sources) {
      if (scratch.has(s)) continue;
      if (!isSafeAccessor(s)) throw new JsEmitError(`unsafe guard source ${JSON.stringify(s)}`);
      scratch.set(s, `v${scratch.size}`);
      body.push(`  const v${scratch.size - 1} = ${s};`);
    }
    const at = g.location ? `  // ${g.location.replace(/[\r\n\u2028\u2029]/g, ' ')}` : '';
    body.push(`  if (!(${guardToJs(g, (s) => scratch.get(s)!)})) return ${i};${at}`);
  });
  const params = [...new Set([...scratch.keys()].map((s) => /^[A-Za-z_$][\w$]*/.exec(s)![0]))].sort();
  return { params, source: [`(${params.join(', ')}) => {`, ...body, '  return -1;', '}'].join('\n') };
}

/** Backed symbols that are still free (not replaced), each with the input source it is read from. */
export function symbolSources(env: ShapeEnv): { symbol: string; source: string }[] {
  return env
    .symbols()
    .filter((s) => s.kind === 'backed' && s.sources.length > 0 && !env.replacements().has(s.name))
    .map((s) => ({ symbol: s.name, source: s.sources[0]! }));
}

export interface ProducedAssert {
  /** Over symbols (`u0 >= 0`): asserts run inside the compiled code, where unbacked values exist. */
  readonly expr: BoolExpr;
  readonly text: string;
  readonly symbols: readonly string[];
  readonly location: string | undefined;
  readonly message: string | undefined;
}

/**
 * The runtime asserts, each as recorded (already normalized by what was known before it). They are not
 * re-simplified with what was learned later: an assert must not be simplified by the range or replacement
 * it establishes itself (`u0 > 0` would become True). Only replacements of backed symbols are applied:
 * produceGuards re-establishes those as equality guards, whatever taught them.
 */
export function produceRuntimeAsserts(env: ShapeEnv): ProducedAssert[] {
  const backedReplacement = (a: Atom): Expr | undefined =>
    a.kind === 'symbol' && env.symbolInfo(a.name)?.kind === 'backed' ? env.replacements().get(a.name) : undefined;
  return env.runtimeAsserts().map((a) => {
    const expr = substituteBool(a.expr, backedReplacement, env.simplifyContext);
    return { expr, text: expr.key, symbols: [...boolFreeSymbols(expr)].sort(), location: a.location, message: a.message };
  });
}

/** JavaScript statement that throws when the assert fails, e.g. for the compiled code's prologue. */
export function assertToJs(a: ProducedAssert, symbolToJs: SymbolToJs = (s) => s): string {
  const what = JSON.stringify(`runtime assert ${a.text} failed${a.location ? ` (${a.location})` : ''}`);
  return `if (!(${boolToJs(a.expr, symbolToJs)})) throw new Error(${what});`;
}



// JSON form of a ShapeEnv, the basis of export: a graph's symbols with their hints, sources and ranges, the
// replacements, and the guards and runtime asserts with their user locations. Infinite range ends are null.
import { boolFromJson, boolToJson, type BoolJson, type ExprJson } from './expr/json.js';
import type { DimDynamism, SymbolInfo } from './symbol-table.js';
import type { RecordedFact } from './shape-env.js';

export interface SymbolJson {
  name: string;
  kind: 'backed' | 'unbacked';
  hint: number | null;
  sources: string[];
  range: [number | null, number | null];
  sizeLike: boolean;
  origin: string | null;
  location: string | null;
  rangeLocation: string | null;
}

export interface FactJson {
  expr: BoolJson;
  location: string | null;
  absorbed: boolean;
  message: string | null;
}

export interface ShapeEnvJson {
  version: 1;
  options: { duckShape: boolean; specializeZeroOne: boolean };
  symbols: SymbolJson[];
  bindings: { source: string; value: number | string; reason: DimDynamism | 'zero-one'; location: string | null }[];
  replacements: { symbol: string; value: ExprJson; origin: 'guard' | 'assert'; location: string | null }[];
  guards: FactJson[];
  asserts: FactJson[];
  counters: { backed: number; unbacked: number; nested: number };
}

const end = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function symbolToJson(s: SymbolInfo): SymbolJson {
  return {
    name: s.name,
    kind: s.kind,
    hint: s.hint ?? null,
    sources: [...s.sources],
    range: [end(s.range.lo), end(s.range.hi)],
    sizeLike: s.sizeLike,
    origin: s.origin ?? null,
    location: s.location ?? null,
    rangeLocation: s.rangeLocation ?? null,
  };
}

export function symbolFromJson(j: SymbolJson): SymbolInfo {
  return {
    name: j.name,
    kind: j.kind,
    hint: j.hint ?? undefined,
    sources: [...j.sources],
    range: { lo: j.range[0] ?? -Infinity, hi: j.range[1] ?? Infinity },
    sizeLike: j.sizeLike,
    origin: j.origin ?? undefined,
    location: j.location ?? undefined,
    rangeLocation: j.rangeLocation ?? undefined,
  };
}

export function factToJson(f: RecordedFact): FactJson {
  return { expr: boolToJson(f.expr), location: f.location ?? null, absorbed: f.absorbed, message: f.message ?? null };
}

export function factFromJson(j: FactJson): RecordedFact {
  return { expr: boolFromJson(j.expr), location: j.location ?? undefined, absorbed: j.absorbed, message: j.message ?? undefined };
}

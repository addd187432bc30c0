// The flatten cache: the structures recently seen with one set of options, and generated flatten code for
// those seen more than once. A call first tries the compiled candidates (most recently used first; a
// mismatch usually fails at the root's constructor or length, so a wrong guess is cheap), then falls back
// to the generic walk, whose spec is interned so that equal structures share one TreeSpec instance.
import { flattenGeneric } from '../flatten.js';
import type { ResolvedOptions } from '../options.js';
import { registryVersion } from '../registry.js';
import type { TreeSpec } from '../spec.js';
import { compileFlatten, type CompiledFlatten } from './flatten-code.js';

const SPECIALIZE_AFTER_SIGHTINGS = 2;
/**
 * A miss costs one failed root guard per candidate (a few ns each), so the list can be long enough for the
 * argument structures of a model's distinct ops; callers with more should keep a spec per call site and use
 * `spec.tryFlatten`.
 */
const MAX_CANDIDATES = 16;
const MAX_INTERNED = 512;

interface Sighting {
  spec: TreeSpec;
  count: number;
  /** Kept after eviction from the candidates, so that a structure coming back is not compiled again. */
  compiled: CompiledFlatten | null | undefined;
}

/** Generated code made by tryFlatten for one spec and one set of options. */
export interface SpecMatcher {
  readonly version: number;
  readonly flatten: CompiledFlatten | null;
}

interface Candidate {
  spec: TreeSpec;
  flatten: CompiledFlatten;
}

class SpecCache {
  private readonly interned = new Map<number, Sighting[]>();
  private internedCount = 0;
  private readonly candidates: Candidate[] = [];
  private version = registryVersion();

  constructor(private readonly options: ResolvedOptions) {}

  flatten(tree: unknown): [unknown[], TreeSpec] {
    if (this.version !== registryVersion()) this.reset();
    const candidates = this.candidates;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const leaves = new Array<unknown>(candidate.spec.numLeaves);
      if (this.tryCandidate(candidate, tree, leaves)) {
        if (i > 0) [candidates[i - 1], candidates[i]] = [candidate, candidates[i - 1]!];
        return [leaves, candidate.spec];
      }
    }
    const result = flattenGeneric(tree, this.options, false);
    return [result.leaves, this.intern(result.spec)];
  }

  /** A throw inside generated code (a getter, a Proxy trap) is re-raised with its path by the generic walk. */
  private tryCandidate(candidate: Candidate, tree: unknown, leaves: unknown[]): boolean {
    try {
      return candidate.flatten(tree, leaves, 0);
    } catch {
      return false;
    }
  }

  private intern(spec: TreeSpec): TreeSpec {
    const hash = spec.hash();
    const bucket = this.interned.get(hash);
    if (bucket !== undefined) {
      for (const sighting of bucket) {
        if (!sighting.spec.equals(spec)) continue;
        if (++sighting.count >= SPECIALIZE_AFTER_SIGHTINGS) this.promote(sighting);
        return sighting.spec;
      }
    }
    if (this.internedCount >= MAX_INTERNED) {
      this.interned.clear();
      this.internedCount = 0;
    }
    this.internedCount++;
    const sighting: Sighting = { spec, count: 1, compiled: undefined };
    if (bucket !== undefined && this.interned.has(hash)) bucket.push(sighting);
    else this.interned.set(hash, [sighting]);
    return spec;
  }

  /**
   * Makes a structure seen again a candidate. It usually is not one yet (else the generic walk would not
   * have run), but guards are stricter than the walk on odd inputs (an own `constructor` key, a prototype
   * with enumerable keys), so check rather than fill the list with copies.
   */
  private promote(sighting: Sighting): void {
    if (sighting.compiled === undefined) sighting.compiled = compileFlatten(sighting.spec, this.options);
    if (sighting.compiled === null) return;
    for (const candidate of this.candidates) if (candidate.spec === sighting.spec) return;
    this.candidates.unshift({ spec: sighting.spec, flatten: sighting.compiled });
    if (this.candidates.length > MAX_CANDIDATES) this.candidates.pop();
  }

  private reset(): void {
    this.interned.clear();
    this.internedCount = 0;
    this.candidates.length = 0;
    this.version = registryVersion();
  }
}

const defaultCaches = new Map<string, SpecCache>();

/** Flattens through the cache for these options; options with isLeaf always take the generic walk. */
export function flattenCached(tree: unknown, options: ResolvedOptions): [unknown[], TreeSpec] {
  if (options.isLeaf !== undefined) {
    const result = flattenGeneric(tree, options, false);
    return [result.leaves, result.spec];
  }
  return cacheFor(options).flatten(tree);
}

let lastOptions: ResolvedOptions | undefined;
let lastCache: SpecCache | undefined;

function cacheFor(options: ResolvedOptions): SpecCache {
  if (options === lastOptions) return lastCache!;
  const key = options.key;
  let cache = defaultCaches.get(key);
  if (cache === undefined) {
    cache = new SpecCache(options);
    defaultCaches.set(key, cache);
  }
  lastOptions = options;
  lastCache = cache;
  return cache;
}

/**
 * The leaves of `tree` if it has exactly `spec`'s structure under `options`, else null. For callers that
 * keep the spec of a call site: generated code for the spec is made on its second use, with no cache
 * lookup at all.
 */
export function flattenAs(spec: TreeSpec, tree: unknown, options: ResolvedOptions): unknown[] | null {
  if (options.isLeaf === undefined) {
    const key = options.key;
    const matchers = (spec.compiledMatchers ??= new Map());
    let matcher = matchers.get(key);
    if (matcher === undefined && ++spec.matchCalls >= SPECIALIZE_AFTER_SIGHTINGS) {
      matcher = { version: registryVersion(), flatten: compileFlatten(spec, options) };
      matchers.set(key, matcher);
    }
    if (matcher !== undefined && matcher.flatten !== null && matcher.version === registryVersion()) {
      const leaves = new Array<unknown>(spec.numLeaves);
      try {
        if (matcher.flatten(tree, leaves, 0)) return leaves;
      } catch {
        // Re-read by the generic walk below, which reports the error with its key path.
      }
    } else if (matcher !== undefined && matcher.version !== registryVersion()) {
      matchers.delete(key);
    }
  }
  const result = flattenGeneric(tree, options, false);
  return result.spec.equals(spec) ? result.leaves : null;
}

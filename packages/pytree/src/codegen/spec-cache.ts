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
const MAX_CANDIDATES = 8;
const MAX_INTERNED = 512;

interface Sighting {
  spec: TreeSpec;
  count: number;
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
        if (++sighting.count === SPECIALIZE_AFTER_SIGHTINGS) this.addCandidate(sighting.spec);
        return sighting.spec;
      }
    }
    if (this.internedCount >= MAX_INTERNED) {
      this.interned.clear();
      this.internedCount = 0;
    }
    this.internedCount++;
    if (bucket !== undefined && this.interned.has(hash)) bucket.push({ spec, count: 1 });
    else this.interned.set(hash, [{ spec, count: 1 }]);
    return spec;
  }

  private addCandidate(spec: TreeSpec): void {
    const flatten = compileFlatten(spec, this.options);
    if (flatten === null) return;
    this.candidates.unshift({ spec, flatten });
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
  const key = `${options.namespace}\u0000${options.noneIsLeaf}\u0000${options.sortKeys}\u0000${options.maxDepth}`;
  let cache = defaultCaches.get(key);
  if (cache === undefined) {
    cache = new SpecCache(options);
    defaultCaches.set(key, cache);
  }
  lastOptions = options;
  lastCache = cache;
  return cache;
}

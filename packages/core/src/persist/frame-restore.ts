// compile()'s side of the frame level of the persistent cache: a kept trace for this call (a whole frame, or
// the code before a graph break with where the frame splits), a split entry made from it, and offering a
// traced split to the cache. frame-cache.ts reads and writes the records themselves.
import type { CompiledTrace, SplitEntry } from '../cache.js';
import type { Compiler } from '../compiler.js';
import type { PassedGraph } from '../entry.js';
import type { PersistentCacheKey } from '../hooks.js';
import { log } from '../logs/index.js';
import { formatLocation } from '../trace/errors.js';
import { restoreSplit } from '../trace/resume/split.js';
import type { KeptSplit, SplitContext } from '../trace/resume/split.js';
import { loadFrame, storeFrame } from './frame-cache.js';
import type { FrameRecord, KeptTrace, LiveFrame, NotKept } from './frame-cache.js';
import { notePersist } from './notes.js';

/** A split entry made from a persistent cache's record, or undefined (logged) when the frame must be traced. */
export function restoredSplit(context: SplitContext, kept: NonNullable<RestoredTrace['split']>, key: PersistentCacheKey, tag: string): SplitEntry | undefined {
  const made = restoreSplit({ ...context, trace: kept.trace, passed: kept.passed, at: kept.kept.at, record: kept.kept.record });
  if ('why' in made) {
    log('cache', tag, `kept split of ${key.label} not used (${made.why ?? 'no layout'}); tracing it again`);
    return undefined;
  }
  notePersist(made.entry, tag, `${key.label} loaded from the persistent cache (guards re-checked; splits at the graph break at ${formatLocation(kept.kept.record.location)})`);
  return made.entry;
}

/** Offers a split frame's record (the graph before the break and where it split) to the persistent cache. */
export function storeSplit(compiler: Compiler, key: PersistentCacheKey, record: FrameRecord | NotKept | undefined, entry: SplitEntry, kept: readonly FrameRecord[], tag: string): void {
  storeFrame(compiler, key, record, entry, kept);
  const where = `it splits at the graph break at ${formatLocation(entry.break.location)}`;
  notePersist(entry, tag, record && 'notKept' in record ? `${key.label} not kept in the persistent cache: ${record.notKept} (${where})` : `${key.label} offered to the persistent cache (${where})`);
}

/** A trace kept by a persistent cache whose guards pass for this call, with its extra outputs (none). */
export function restoreTrace(compiler: Compiler, key: PersistentCacheKey, fn: Function, captureNames: readonly string[], live: LiveFrame, tag: string): RestoredTrace {
  const found = loadFrame(compiler, key, fn, captureNames, live);
  if (!found) return { kept: [] };
  if ('stale' in found) {
    log('cache', tag, `kept entries for ${key.label} not used (${found.stale}); tracing it again`);
    return { kept: found.kept };
  }
  // A split is logged once its layout is made again (restoredSplit).
  if (found.split) return { split: { trace: found.trace, passed: found.passed, kept: found.split }, kept: [] };
  log('cache', tag, `${key.label} loaded from the persistent cache (guards re-checked)`);
  // Not spread: the trace's graph is a getter (a kept graph is decoded only when read).
  return { trace: found.trace, passed: found.passed, kept: [] };
}

/**
 * A persistent cache's answer: a trace to use (`split`: the code before a graph break, and where the frame
 * splits), or the records kept for the key (stored again with the new one).
 */
export interface RestoredTrace {
  readonly trace?: KeptTrace;
  readonly passed?: PassedGraph | undefined;
  readonly split?: { readonly trace: KeptTrace; readonly passed: PassedGraph | undefined; readonly kept: KeptSplit };
  readonly kept: readonly FrameRecord[];
}


// What compile() tells others about a frame: the hook events (frameCompiled, graphBreak) and their payloads,
// warnings for plugins that fail in a hook (once per plugin, hook and code location), and the break record
// a failed trace leaves (the reason the frame splits or runs eagerly).
import { BackendUnavailableError, UnknownBackendError } from './backends/registry.js';
import type { BreakRecord, CacheEntry, CodeCache } from './cache.js';
import { compileTag, logSink } from './logs/index.js';
import { FrameSkipped, GraphBreak } from './trace/errors.js';
import type { Compiler } from './compiler.js';
import { PluginError } from './hooks.js';
import type { FrameCompileInfo, FrameEvent } from './hooks.js';
import type { FrameState } from './frame-state.js';

/** The location is read when a tap asks for it: finding it costs a fresh process the Debugger domain. */
export const frameEvent = (cache: CodeCache, compileId: number): FrameEvent => ({
  name: cache.name,
  get location() {
    return cache.location;
  },
  tag: compileTag(cache.frameId, compileId),
});

const announceWarned = new WeakSet<CodeCache>();

/**
 * Tells plugins about a new entry (hooks.frameCompiled). The entry is already in place, so a plugin failing
 * here changes nothing that runs: one warning per code location, and the call goes on.
 */
export function announceEntry(compiler: Compiler, cache: CodeCache, entry: CacheEntry, compileId: number, reason: string | undefined): void {
  if (!compiler.hooks.frameCompiled.isUsed()) return;
  try {
    compiler.hooks.frameCompiled.call(compileInfo(entry, frameEvent(cache, compileId), reason));
  } catch (err) {
    if (announceWarned.has(cache)) return;
    announceWarned.add(cache);
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    logSink.write(`[kiln] warning: a plugin failed in hook 'frameCompiled' after '${cache.name}' (${cache.location}) compiled: ${message}; the compiled code runs as usual`);
  }
}

/** The public account of a new cache entry (hooks.frameCompiled): no runners or guard functions. */
function compileInfo(entry: CacheEntry, frame: FrameEvent, recompileReason: string | undefined): FrameCompileInfo {
  const guards = entry.guards.map((g) => ({ text: g.text, location: g.location }));
  const common = { frame, kind: entry.kind, recompileReason, guards, compileMs: entry.compileMs };
  if (entry.kind === 'eager') return entry.noOps ? { ...common, noOps: true } : { ...common, graphBreak: entry.break };
  return {
    ...common,
    apiGraphText: entry.apiGraphText,
    graph: entry.graph,
    backend: entry.backend,
    backendReport: entry.backendReport,
    phasesMs: entry.compilePhasesMs,
    graphBreak: entry.kind === 'split' ? entry.break : undefined,
  };
}

/**
 * Plugin failures already warned about (`location\0plugin\0hook\0what`): per code location, not per cache, so
 * explain() (a private cache) and compile() with other options of the same function do not warn again.
 */
const pluginWarned = new Set<string>();

/** A plugin that fails in a hook: one warning per plugin, hook and code location (by default the frame runs eagerly). */
export function warnPluginOnce(cache: CodeCache, err: PluginError, what = 'runs eagerly'): void {
  const key = `${cache.location}\u0000${err.plugin}\u0000${err.hook}\u0000${what}`;
  if (pluginWarned.has(key)) return;
  pluginWarned.add(key);
  logSink.write(`[kiln] warning: '${cache.name}' (${cache.location}) ${what}: ${err.message.split('\n')[0]}`);
}

/** Runs `body`; a plugin's error is warned about (once) and rethrown, so the caller falls back as for any failure. */
export function warnIfPlugin<T>(cache: CodeCache, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof PluginError) warnPluginOnce(cache, err);
    throw err;
  }
}

/**
 * Tells plugins about a graph break (hooks.graphBreak). The break is handled already, so a plugin failing
 * here changes nothing that runs: one warning per plugin and code location (fullgraph never gets here).
 */
export function tellBreak(state: FrameState, record: BreakRecord, event: FrameEvent): void {
  try {
    state.compiler.hooks.graphBreak.call(record, event);
  } catch (err) {
    if (!(err instanceof PluginError)) throw err;
    warnPluginOnce(state.cache, err, 'breaks as usual, but a plugin failed on its graph break');
  }
}

export function breakRecord(err: unknown): BreakRecord | undefined {
  if (err instanceof PluginError) return { reason: err.message.split('\n')[0]!, location: err.thrownAt, hint: err.hint };
  if (err instanceof GraphBreak) return { reason: err.reason, location: err.location, hint: err.hint };
  if (err instanceof FrameSkipped) return { reason: err.reason, location: err.location, hint: undefined };
  // A backend the caller named that cannot run here is their configuration to fix, not a silent fallback.
  if (err instanceof BackendUnavailableError || err instanceof UnknownBackendError) return undefined;
  if (process.env.KILN_TRACER_STRICT) return undefined;
  // A tracer bug must never surface as a wrong result: the frame runs eagerly and the reason says why.
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return { reason: `internal tracer error: ${message}`, location: undefined, hint: 'please report this with the function' };
}

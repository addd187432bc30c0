// One typed, frozen tapable hooks object per compiler. Each hook says who calls it and what a returned value
// means. Built-in behaviour (the policy, the eager backend) registers through the same hooks as plugins;
// ordering comes from named stages, never from registration order.
import { HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { BreakRecord } from './cache.js';
import type { GuardEntry } from './guards/builder.js';
import type { Graph, Node } from '@kiln/graph';
import type { Backend } from '@kiln/lower';
import type { PolicyDecision } from './trace/policy-adapter.js';

/** Stages for `tap({ name, stage })`: plugins run before the built-ins by default. */
export const HOOK_STAGES = { plugin: 0, builtin: 100 } as const;

export interface FrameEvent {
  readonly name: string;
  readonly location: string;
  readonly tag: string;
}

export function createHooks() {
  return Object.freeze({
    /** Called once per compiler after the config is validated; read-only. */
    configResolved: new SyncHook<[Readonly<Record<string, unknown>>]>(['config']),
    /** Called by the tracer before it starts a frame. */
    frameStart: new SyncHook<[FrameEvent]>(['frame']),
    /** Asked at every call site; the first tap returning a decision wins (the policy taps at `builtin`). */
    policyDecision: new SyncBailHook<[Function, string], PolicyDecision | undefined>(['fn', 'name']),
    /** Asked before a call is traced: return `{ value }` to supply the call's tracker yourself. */
    callTracker: new SyncBailHook<[Function, readonly unknown[]], { value: unknown } | undefined>(['fn', 'args']),
    /** Called with each captured API graph (read-only: use graphPasses to change it). */
    graphCaptured: new SyncHook<[Graph, FrameEvent]>(['graph', 'frame']),
    /** Graph → graph passes, in stage order; each tap returns the (possibly new) graph. */
    graphPasses: new SyncWaterfallHook<[Graph]>(['graph']),
    /** Graph → graph decomposition to core ops (runs after graphPasses). */
    decomposition: new SyncWaterfallHook<[Graph]>(['graph']),
    /**
     * Collects the backends this compiler can use: each backend plugin returns the list with its own added
     * (`backendPlugin(backend)` from @kiln/lower does it). Read at each compile; `auto` picks by priority.
     */
    backends: new SyncWaterfallHook<[Backend[]]>(['backends']),
    /**
     * Keyed by backend name: asked for each call node before that backend's lowering table. Return `'eager'`
     * to run the node on its eager kernel as one step of the program (the rest stays fused); first answer wins.
     */
    lowerOp: new HookMap(() => new SyncBailHook<[Node], 'eager' | undefined>(['node'])),
    /** Called with an entry's guards once they are compiled. */
    guardBuilt: new SyncHook<[readonly GuardEntry[], string]>(['guards', 'source']),
    /** A call whose guards passed. Hot path: keep taps cheap. */
    cacheHit: new SyncHook<[FrameEvent]>(['frame']),
    /** A call no entry admits (before the recompile or the eager fallback). */
    cacheMiss: new SyncHook<[FrameEvent, string | undefined]>(['frame', 'reason']),
    /** A new entry is being compiled because of `reason`. */
    recompile: new SyncHook<[FrameEvent, string]>(['frame', 'reason']),
    /** The frame falls back to eager (or raises, with fullgraph). */
    graphBreak: new SyncHook<[BreakRecord, FrameEvent]>(['record', 'frame']),
  });
}

export type CompilerHooks = ReturnType<typeof createHooks>;

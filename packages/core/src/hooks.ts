// One typed, frozen tapable hooks object per compiler. Each hook says who calls it and what a returned value
// means. Built-in behaviour (the policy, the eager backend) registers through the same hooks as plugins;
// ordering comes from named stages, never from registration order.
import { HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import { KilnError } from '@kiln/tensor';
import type { BreakRecord } from './cache.js';
import type { GuardEntry } from './guards/builder.js';
import type { Graph, Node, SourceLocation } from '@kiln/graph';
import type { PolicyDecision } from './trace/policy-adapter.js';
import type { Backend, BackendReport, CompiledGraph, OpLowering } from '@kiln/lower';
import type { ExportedProgramInfo } from './exported-program.js';
import { callWithoutCodegen } from './hooks-calls.js';

/**
 * Stages for `tap({ name, stage })`, lowest first: a tap without a stage is at `plugin` (0), so plugins run
 * before the built-ins, which tap at `builtin` (bail hooks: a plugin's answer wins).
 */
export const HOOK_STAGES = { plugin: 0, builtin: 100 } as const;

/**
 * The built-in passes on `graphPasses`, each its own tap named `kiln:<pass>`, at these stages (in this order).
 * A plugin pass taps at a stage in between (`{ stage: PASS_STAGES.cse + 1 }` runs after CSE, before DCE) or by
 * name at the same stage (`{ stage: PASS_STAGES.dce, before: 'kiln:dce' }`: tapable orders by stage first);
 * without a stage it runs first, on the graph as captured. Passes before
 * `decompose` see the API graph (public ops as written); passes after it see the core graph.
 */
export const PASS_STAGES = { constantFold: 100, cse: 200, dce: 300, decompose: 400 } as const;

/** An op table the audit lists as a coverage column (see `hooks.auditTables`). */
export interface AuditTable {
  readonly name: string;
  readonly ops: readonly string[];
  /** What a missing op means for this table (printed as the reason in the audit's missing column). */
  readonly missingMeans?: string;
}

export interface FrameEvent {
  readonly name: string;
  readonly location: string;
  readonly tag: string;
}

/** What one compile of a frame produced (the `frameCompiled` hook's argument), for reports and profilers. */
export interface FrameCompileInfo {
  readonly frame: FrameEvent;
  /**
   * `graph`: the whole frame compiled; `split`: the graph before a break (a resume function, a frame of its
   * own, continues after it); `eager`: the frame breaks and runs eagerly under these guards.
   */
  readonly kind: 'graph' | 'split' | 'eager';
  /** Why this compile happened: the previous entry's first failing guard (undefined for the first compile). */
  readonly recompileReason: string | undefined;
  readonly guards: readonly { readonly text: string; readonly location?: string | undefined }[];
  /** The graph as captured (public API calls as written), printed before the passes; not for `eager`. */
  readonly apiGraphText?: string | undefined;
  /** The core graph the backend compiled (after passes and decomposition); not for `eager`. */
  readonly graph?: Graph | undefined;
  readonly backend?: string | undefined;
  /** The backend's account: kernels, eager steps with reasons, fusions, generated code. */
  readonly backendReport?: BackendReport | undefined;
  /** ms per phase: `trace`, `passes`, then the backend's own (`lower`, `wasm` / `wgsl`). */
  readonly phasesMs?: Readonly<Record<string, number>> | undefined;
  readonly compileMs: number;
  /** The break that ends the graph (`split`) or makes the frame run eagerly (`eager`). */
  readonly graphBreak?: BreakRecord | undefined;
  /** `eager` because the trace held no tensor op: nothing to compile, no graph break (see no-ops.ts). */
  readonly noOps?: boolean | undefined;
}

/**
 * A plugin's hook tap threw: names the plugin and the hook; the original error is the `cause` (with its
 * stack). A compile-time hook failing makes the frame run eagerly with a warning naming the plugin.
 */
export class PluginError extends KilnError {
  /** Where the plugin's error was made (the top of its stack), shown in the message, warnings and explain. */
  readonly thrownAt: SourceLocation | undefined;

  constructor(
    readonly plugin: string,
    readonly hook: string,
    cause: unknown,
  ) {
    const at = topOfStack(cause);
    super(`plugin '${plugin}' failed in hook '${hook}': ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}${at ? ` (thrown at ${at.file}:${at.line})` : ''}`, `the error is the plugin's, not Kiln's: fix or remove the plugin (its stack is in .cause)`, { cause });
    this.thrownAt = at;
  }
}

/** The first `file:line:column` frame of an error's stack (a warning cannot show `.cause`; this line can). */
function topOfStack(err: unknown): SourceLocation | undefined {
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  const m = /^\s+at (?:.*?\()?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/m.exec(stack);
  if (!m) return undefined;
  const path = m[1]!.replace(/^file:\/\//, '');
  return { file: path.slice(path.lastIndexOf('/') + 1), line: Number(m[2]), column: Number(m[3]), path };
}

type Tap = { name: string; fn: Function };
type AnyHook = { intercept(interceptor: { register?: (tap: Tap) => Tap }): void; isUsed(): boolean; taps: readonly Tap[]; interceptors: readonly unknown[] };

/** Wraps every tap a plugin adds (built-ins tap as `kiln:…`) so that what it throws names it and the hook. */
function attributeTaps<H>(hookName: string, hook: H): H {
  (hook as unknown as AnyHook).intercept({
    register: (tap: Tap) => {
      if (tap.name.startsWith('kiln:')) return tap;
      const fn = tap.fn;
      return {
        ...tap,
        fn(this: unknown, ...args: unknown[]) {
          try {
            return fn.apply(this, args);
          } catch (err) {
            throw err instanceof PluginError ? err : new PluginError(tap.name, hookName, err);
          }
        },
      };
    },
  });
  // tapable counts any interceptor as use, and the call path asks `isUsed()` before building a hook's
  // argument (cacheHit runs on every compiled call): this register-only interceptor must not make an
  // untapped hook look used (it cost ≈ 1 µs per compiled call).
  const h = hook as unknown as AnyHook;
  h.isUsed = () => h.taps.length > 0 || h.interceptors.length > 1;
  return hook;
}

/**
 * What a persistent cache entry is keyed on. `text` is the whole key (Kiln and V8 versions, config, backend
 * and capabilities, the frame's source or the graph): a cache hashes it to find the entry and compares it in
 * full on load. `kind`: `frame` (a traced frame: graph, guards, how to find its constants again) or
 * `backend` (what a backend made of one graph).
 */
export interface PersistentCacheKey {
  readonly kind: 'frame' | 'backend';
  readonly text: string;
  /** For logs: the frame or backend it is about. */
  readonly label: string;
}

export function createHooks() {
  const hooks = {
    /** Called once per compiler after the config is validated; read-only. */
    configResolved: new SyncHook<[Readonly<Record<string, unknown>>]>(['config']),
    /** Called by the tracer before it starts a frame. */
    frameStart: new SyncHook<[FrameEvent]>(['frame']),
    /** Asked at every call site; the first tap returning a decision wins (the policy taps at `builtin`). */
    policyDecision: new SyncBailHook<[Function, string], PolicyDecision | undefined>(['fn', 'name']),
    /** Called with each captured API graph (read-only: use graphPasses to change it). */
    graphCaptured: new SyncHook<[Graph, FrameEvent]>(['graph', 'frame']),
    /**
     * Graph → graph passes, in stage order (PASS_STAGES: constant folding, CSE, DCE, decomposition to core
     * ops); each tap returns the (possibly new) graph, and the backend compiles what the last one returns.
     */
    graphPasses: new SyncWaterfallHook<[Graph]>(['graph']),
    /**
     * Collects the backends this compiler can use: each backend plugin returns the list with its own added
     * (`backendPlugin(backend)` from @kiln/lower does it). Read at each compile; `auto` picks by priority.
     */
    backends: new SyncWaterfallHook<[Backend[]]>(['backends']),
    /**
     * Keyed by backend name: asked for each call node as that backend lowers the graph, before its built-in
     * rules. Return a rule (`{ pointwise }`: a custom op's formula, or an override of a built-in op) to lower
     * the node with it, `'eager'` to run it on its eager kernel as one step of the program; first answer wins.
     */
    lowerOp: new HookMap(() => new SyncBailHook<[Node], OpLowering | 'eager' | undefined>(['node'])),
    /**
     * Collects extra op tables for `kiln audit`'s coverage columns, beside the backends' lowering tables: each
     * tap returns the list with its own `{ name, ops }` added (@kiln/export adds `onnx`, the ops with an ONNX
     * mapping). Read by the audit command only.
     */
    auditTables: new SyncWaterfallHook<[AuditTable[]]>(['tables']),
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
    /**
     * Each graph a backend compiled (a frame's, or a half of a training graph), before it runs: a tap may
     * return it wrapped (a profiler times `run` and calls `timeSteps()`); the entry runs what the last returns.
     */
    compiledGraph: new SyncWaterfallHook<[CompiledGraph, FrameEvent]>(['compiled', 'frame']),
    /** A compile of a frame finished and its cache entry is in place (graphs, guards, timings, backend report). */
    frameCompiled: new SyncHook<[FrameCompileInfo]>(['info']),
    /**
     * A persistent compile cache (@kiln/plugin-cache): asked before a frame is traced and before a graph is
     * compiled by its backend; the first tap returning the payload stored under exactly this key wins. Core
     * still re-checks a frame's guards against the live function, and a payload it cannot read is a miss.
     */
    compileCacheLoad: new SyncBailHook<[PersistentCacheKey], Uint8Array | undefined>(['key']),
    /** Offered what a compile made that a later process may reuse, under its key (see compileCacheLoad). */
    compileCacheStore: new SyncHook<[PersistentCacheKey, Uint8Array]>(['key', 'payload']),
    /** An exporter (@kiln/export's exportProgram) made a program with this compiler: its plain-data account. */
    programExported: new SyncHook<[ExportedProgramInfo]>(['program']),
  };
  for (const [name, hook] of Object.entries(hooks)) {
    if (hook instanceof HookMap) hook.intercept({ factory: (key, made) => attributeTaps(`${name}.for(${JSON.stringify(key)})`, callWithoutCodegen(made)) });
    else attributeTaps(name, callWithoutCodegen(hook));
  }
  return Object.freeze(hooks);
}

export type CompilerHooks = ReturnType<typeof createHooks>;

// The one backend contract. A backend is a plugin object: a name, what it can compute (capabilities), a
// priority for `auto`, an optional asynchronous init that may say "unavailable, because …", and
// compile(graph, ctx). The compiler reaches backends only through its hooks (`hooks.backends`); this
// package holds the contract so that backends never depend on the tracer.
import type { Graph, Node } from '@kiln/graph';
import type { Device } from '@kiln/tensor';
import type { LoopDType } from '../loop-ir/loop-ir.js';
import type { PointwiseRule } from '../lowering/pointwise-rules.js';

/** What lowering may ask a backend to compute. Lowering reads these; a node outside them runs as an eager step. */
export interface BackendCapabilities {
  /** Where the backend's results live (`cpu`: JS or wasm memory; a device tensor otherwise). */
  readonly device: Device;
  /** Dtypes its kernels compute. A node computing in another dtype runs on its eager kernel. */
  readonly dtypes: readonly LoopDType[];
  /** Whether float64 values compute in float64 (false: float64 nodes run as eager steps). */
  readonly float64: boolean;
  /** How a bool element is stored in the backend's buffers. */
  readonly boolStorage: 'uint8' | 'int32';
  /** The most dims one kernel indexes; a node with more runs as an eager step. */
  readonly maxDims: number;
  /** The most threads (or workgroup invocations) one kernel uses. */
  readonly maxThreads: number;
}

export type BackendAvailability = { readonly available: true } | { readonly available: false; readonly reason: string };

/** A node lowering gave to eager, with the reason (explain prints it). */
export interface EagerStepReport {
  readonly op: string;
  /** The node's name in the core graph (`%7`), when known. */
  readonly node?: string;
  readonly reason: string;
}

/** What the backend did with one graph, for `explain` and the bench. */
export interface BackendReport {
  readonly backend: string;
  readonly kernels: number;
  /** Nodes that run on their eager kernel as one step of the program (the rest stays fused), with why. */
  readonly eagerSteps: readonly EagerStepReport[];
  /**
   * Set when lowering could not express the graph's structure (a multi-output eager node, a runtime assert
   * no step can place), so the interpreter ran it whole. Capabilities and codegen failures never do this.
   */
  readonly wholeGraphFallback?: string;
  /** Fusion rules that fired, by name, with how many times (`epilogue-into-matmul ×1`). */
  readonly fusions?: Readonly<Record<string, number>>;
  readonly code?: string;
  /**
   * The generated kernels as text (the CPU backend: the wasm module's size and disassembly; WebGPU: each
   * kernel's WGSL), built on request so that a compile does not pay for it (reports and logs call it).
   */
  readonly generatedCode?: () => string;
  /** Calls and time per step of the program since `CompiledGraph.timeSteps()` was called (a profiler's view). */
  readonly stepTimes?: () => readonly StepTiming[];
  readonly compileMs: number;
  /** The backend's own compile phases in ms (the CPU backend: `lower`, `wasm`). */
  readonly phasesMs?: Readonly<Record<string, number>>;
}

/**
 * A compiled graph: takes the graph's inputs in placeholder order and returns its outputs. `run` stays
 * synchronous on every backend: an asynchronous device enqueues its work and returns device-resident
 * tensors (their `device` names it), whose bytes are read back asynchronously by the tensor layer. The CPU
 * path returns ordinary tensors.
 */
export interface CompiledGraph {
  run(inputs: readonly unknown[]): unknown[];
  readonly report: BackendReport;
  /**
   * Optional: from now on, time each step of every call (a profiler asks; it costs two clock reads per step),
   * read back through `report.stepTimes()`. Backends on an asynchronous device may leave it out.
   */
  timeSteps?(): void;
}

/** One step of a program as a profiler sees it: a generated kernel, a node run on its eager kernel, a check. */
export interface StepTiming {
  /** The kernel's name (`reduce0`), or `%node op` for an eager step. */
  readonly name: string;
  readonly kind: 'kernel' | 'eager' | 'check';
  /** The graph ops the step computes (a fused kernel holds several). */
  readonly ops: readonly string[];
  readonly calls: number;
  readonly ms: number;
}

/**
 * A plugin's lowering for one op on one backend (the per-op lowering hook): return a rule to lower the node
 * with it, `'eager'` to run the node on its eager kernel as one step, or undefined to leave it to the
 * lowering table.
 */
export type OpLoweringOverride = (node: Node) => OpLowering | 'eager' | undefined;

/**
 * How a plugin lowers one op on a backend that consumes the loop IR: a pointwise formula over loop-IR values
 * (`loop.mul`, `loop.unary`, …), fused with its neighbours like a built-in pointwise op.
 */
export interface OpLowering {
  readonly pointwise: PointwiseRule;
}

/** What the compiler hands `compile`: the backend's own capabilities and the plugins' per-op overrides. */
export interface BackendCompileContext {
  readonly capabilities: BackendCapabilities;
  /** Asked for each call node before the lowering table (first answer wins). */
  readonly overrideLowering: OpLoweringOverride;
}

export interface Backend {
  readonly name: string;
  /** `auto` picks the available backend with the highest priority (the interpreter, `eager`, is 0). */
  readonly priority: number;
  readonly capabilities: BackendCapabilities;
  /**
   * Device setup, run once per process before the backend's first compile. A synchronous answer is used
   * at once; a Promise makes the backend count as unavailable to `auto` until it resolves (await
   * `compiler.ready()` to wait for it).
   */
  init?(): BackendAvailability | Promise<BackendAvailability>;
  compile(graph: Graph, ctx: BackendCompileContext): CompiledGraph;
  /** Registry ops this backend generates code for (the policy audit's backend-coverage column). */
  loweredOps?(): string[];
  /**
   * Optional: lets a persistent compile cache keep what `compile` made for a later process. `save` returns
   * structured-clone data (plain objects, arrays, Maps, typed arrays) or undefined when this result cannot
   * be kept; `load` rebuilds the compiled graph from it for the same graph, capabilities and Kiln version
   * (the cache keys on those), or returns undefined to have the graph compiled afresh. `load` gets the graph
   * as a function that makes it on its first call: a cache keeps the graph as data and a cached compile
   * never needs it unless the program does (its eager steps' first run, a report), so call it only then.
   */
  readonly persist?: BackendPersistence;
}

export interface BackendPersistence {
  /** Changes whenever the backend's code does (codeStamp(import.meta.url) of its entry module): part of the key. */
  readonly stamp: () => string;
  save(compiled: CompiledGraph): unknown;
  load(saved: unknown, graph: () => Graph): CompiledGraph | undefined;
}

/** Capabilities of a backend that computes nothing itself (the interpreter): every node is eager. */
export const EAGER_CAPABILITIES: BackendCapabilities = Object.freeze<BackendCapabilities>({
  device: 'cpu', dtypes: [], float64: true, boolStorage: 'uint8', maxDims: Infinity, maxThreads: 1,
});

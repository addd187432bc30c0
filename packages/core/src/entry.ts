// What every cache entry built from a finished trace shares, made in one place: compiled guards, the graph
// through the passes and the decomposition, the backend's runner, input/output gatherers and check()
// asserts. compile() adds what a whole-frame entry needs; the graph-break split adds its resume machinery.
import { Tensor, isHostDevice, noGrad } from '@kiln/tensor';
import { selectBackend } from './backends/registry.js';
import { compileThroughCache, graphOf } from './persist/backend-cache.js';
import type { KeptGraph } from './persist/backend-cache.js';
import type { CompiledTrace } from './cache.js';
import type { Compiler } from './compiler.js';
import { compileGatherer, compileGuards } from './guards/codegen.js';
import type { FrameEvent } from './hooks.js';
import type { Graph } from '@kiln/graph';
import { printGraph } from '@kiln/graph';
import { compiledAsserts } from './trace/checks.js';
import { differentiableRunner } from './autograd/compiled-function.js';
import type { FrameTrace } from './trace/trace-frame.js';

/**
 * The entry's runner: the selected backend compiles the graph with its capabilities and the lowerOp hook.
 * `source` names the caller in errors (`compile`, `loadProgram`); `event` is the frame a compile belongs to
 * (the `compiledGraph` hook's plugins see it; a loaded program has none). A graph a persistent cache kept is
 * decoded only if the backend's program is not kept too (or the program needs it).
 */
export function compileOnBackend(compiler: Compiler, name: string, graph: Graph | KeptGraph, source = 'compile', event?: FrameEvent) {
  const backend = selectBackend(compiler.backends(), name, source);
  const lowerOp = compiler.hooks.lowerOp.get(backend.name);
  const compile = () => backend.compile(graphOf(graph), {
    capabilities: backend.capabilities,
    overrideLowering: (node) => (lowerOp?.isUsed() ? lowerOp.call(node) : undefined),
  });
  // A plugin's per-op lowering is code no key can spell: such graphs always compile afresh.
  const compiled = lowerOp?.isUsed() ? compile() : compileThroughCache(compiler, backend, graph, compile);
  const { compiledGraph } = compiler.hooks;
  return { backend: backend.name, compiled: compiledGraph.isUsed() && event ? compiledGraph.call(compiled, event) : compiled };
}

/**
 * The backend for the graph before a graph break. The statement run eagerly at the break may read that
 * graph's values synchronously (`t.max().item()`, `toArray()`), which a device backend's results cannot
 * give: when the frame's backend computes on a device whose memory is not the host's and no tensor argument
 * is on such a device already (eager code would hold host tensors there), the graph runs on the best
 * available host backend instead. Slower, never wrong; the resumed frame after the break uses the frame's.
 */
export function backendBeforeBreak(compiler: Compiler, name: string, args: readonly unknown[]): string {
  const chosen = selectBackend(compiler.backends(), name, 'compile');
  if (isHostDevice(chosen.capabilities.device) || args.some((a) => a instanceof Tensor && !isHostDevice(a.device))) return name;
  return selectBackend(compiler.backends().filter((b) => isHostDevice(b.capabilities.device)), 'auto', 'compile').name;
}

function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) if (n.kind === 'call' && n.target !== 'getitem') counts[n.target] = (counts[n.target] ?? 0) + 1;
  return counts;
}

/**
 * A graph the built-in passes already made of the trace's graph (a persistent cache keeps it): used only when
 * no plugin watches captured graphs or adds passes, so nothing a plugin would see is skipped.
 */
export interface PassedGraph {
  /** Decoded only when read: the entry's `graph` reads it on first access. */
  readonly graph: KeptGraph;
  readonly apiGraphText: string;
  readonly apiOpCounts: Readonly<Record<string, number>>;
  /** The trace's guards, compiled already (the cache ran them to choose the entry). */
  readonly compiledGuards?: ReturnType<typeof compileGuards>;
}

/** Whether every graph hook tap is Kiln's own (then a kept PassedGraph stands for running the passes). */
export function onlyBuiltinGraphHooks(compiler: Compiler): boolean {
  const { graphCaptured, graphPasses } = compiler.hooks;
  return !graphCaptured.isUsed() && graphPasses.taps.every((t) => t.name.startsWith('kiln:'));
}

/** Compiles a finished trace: guards, hooks (guard built, graph captured, passes, decomposition), backend. */
export function compileTrace(compiler: Compiler, trace: FrameTrace, backendName: string, event: FrameEvent, passed?: PassedGraph): CompiledTrace {
  const { hooks } = compiler;
  const { fn: guard, source } = passed?.compiledGuards ?? compileGuards(trace.guards, trace.constants);
  hooks.guardBuilt.call(trace.guards, source);
  if (!passed) hooks.graphCaptured.call(trace.graph, event);
  // Printed and counted before the passes, which edit the captured graph in place.
  const apiGraphText = passed?.apiGraphText ?? printGraph(trace.graph);
  const apiOpCounts = passed?.apiOpCounts ?? opCounts(trace.graph);
  const t0 = performance.now();
  const graph = passed?.graph ?? hooks.graphPasses.call(trace.graph);
  const t1 = performance.now();
  const { backend, compiled } = compileOnBackend(compiler, backendName, graph, 'compile', event);
  const backendReport = compiled.report;
  // Inputs that require grad go through the joint forward/backward graphs, compiled on the same backend.
  // An optimizer step's graph runs as eager code runs it, under noGrad; any other goes through the joint
  // forward/backward graphs when inputs require grad.
  const run = trace.noGrad ? (inputs: unknown[]) => noGrad(() => compiled.run(inputs)) : differentiableRunner(() => graphOf(graph), (inputs: unknown[]) => compiled.run(inputs), (g) => {
    const half = compileOnBackend(compiler, backend, g, 'compile', event).compiled;
    return Object.assign((inputs: unknown[]) => half.run(inputs), { report: half.report });
  }, event.tag);
  return {
    graphOf: () => graphOf(graph),
    guards: trace.guards,
    guard,
    guardSource: source,
    mutableReads: trace.mutableReads,
    decisions: trace.decisions,
    apiGraphText,
    apiOpCounts,
    backend,
    backendReport,
    compilePhasesMs: { passes: t1 - t0, ...(backendReport?.phasesMs ?? { backend: performance.now() - t1 }) },
    gatherInputs: compileGatherer(trace.inputSources, trace.constants),
    gatherOutputs: compileGatherer(trace.outputSources, trace.constants),
    output: trace.output,
    run,
    ...compiledAsserts(trace.asserts),
  };
}

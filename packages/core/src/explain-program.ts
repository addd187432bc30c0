// explain(program): what explain() shows for an exported program (any value carrying ExportedProgramInfo,
// see exported-program.ts): its signature, state, dims with ranges and asserts in the exporter's printed
// form, and what the chosen backend makes of its graph (kernels, eager steps, fusions, code), compiled here
// as loadProgram would. There is no trace, so no guards, breaks or call decisions.
import { printGraph } from '@kiln/graph';
import type { Graph } from '@kiln/graph';
import { describeBackends } from './backends/registry.js';
import { getDefaultCompiler } from './compiler.js';
import type { CompileOptions } from './compile.js';
import { compileOnBackend } from './entry.js';
import type { ExplainOutput } from './explain.js';
import type { ExportedProgramInfo } from './exported-program.js';

function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) if (n.kind === 'call' && n.target !== 'getitem') counts[n.target] = (counts[n.target] ?? 0) + 1;
  return counts;
}

export function explainProgram(program: ExportedProgramInfo, options: CompileOptions): Omit<ExplainOutput, 'toString'> {
  const compiler = options.compiler ?? getDefaultCompiler();
  const t0 = performance.now();
  const { backend, compiled } = compileOnBackend(compiler, options.backend ?? compiler.config.backend, program.graph, 'explain');
  const compileMs = performance.now() - t0;
  const r = compiled.report;
  return {
    result: undefined,
    exported: [program],
    graphs: [program.apiGraphText ?? printGraph(program.graph)],
    graphOrigins: [`exported program '${program.name}'`],
    coreGraphs: [printGraph(program.graph)],
    backends: [{
      backend,
      kernels: r.kernels,
      eagerSteps: r.eagerSteps,
      ...(r.fusions ? { fusions: r.fusions } : {}),
      ...(r.wholeGraphFallback ? { wholeGraphFallback: r.wholeGraphFallback } : {}),
      ...(r.code ? { code: r.code } : {}),
    }],
    availableBackends: describeBackends(compiler.backends()),
    graphCount: 1,
    breakCount: 0,
    breaks: [],
    noOpFrames: [],
    recompiles: [],
    persistentCache: [],
    guards: [],
    opCounts: opCounts(program.graph),
    compileTimesMs: [compileMs],
    compilePhasesMs: [r.phasesMs],
    decisions: [],
    skippedCallees: [],
    training: [],
    // An exported graph is functional: its writes to inputs are extra outputs, shown in its signature.
    inPlaceWrites: [[]],
  };
}

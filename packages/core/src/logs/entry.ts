// What KILN_LOGS prints for each compiled entry, in one place for whole frames and split frames (the graph
// before a break): the graph, its code, the guards, the guard function, the generated kernels, and the
// tracer's summary (`dynamo`, with each call-site decision and phase time at `+dynamo`).
import { printGraph } from '@kiln/graph';
import type { Graph } from '@kiln/graph';
import type { BackendReport } from '@kiln/lower';
import type { GuardEntry } from '../guards/builder.js';
import type { CallDecision } from '../trace/frame.js';
import { formatLocation } from '../trace/errors.js';
import { graphCode } from './graph-code.js';
import { log, logDetail, logEnabled, logDebug } from './index.js';
import { plural } from './plural.js';

export interface LoggedEntry {
  readonly graph: Graph;
  readonly guards: readonly GuardEntry[];
  readonly guardSource: string;
  readonly backend: string;
  readonly backendReport: BackendReport | undefined;
  readonly decisions: readonly CallDecision[];
  readonly compilePhasesMs?: Readonly<Record<string, number>>;
}

/** `what`: `graph for 'f' (f.ts:3)` or `graph before the break in 'f'` (built only when logged: a location costs a fresh process the Debugger domain). */
export function logEntry(tag: string, name: string, what: () => string, entry: LoggedEntry, compileMs: number): void {
  log('graph', tag, () => `${what()}:\n${printGraph(entry.graph)}`);
  log('graph_code', tag, () => graphCode(entry.graph, name));
  log('guards', tag, () => `guards for '${name}':\n${entry.guards.map((g) => `  ${g.text}`).join('\n')}`);
  log('verbose_guards', tag, () => entry.guardSource);
  log('output_code', tag, () => outputCode(entry));
  if (logEnabled('dynamo')) {
    const ops = entry.graph.nodes.filter((n) => n.kind === 'call').length;
    log('dynamo', tag, `compiled '${name}': ${plural(ops, 'op')}, ${plural(entry.guards.length, 'guard')}, backend ${entry.backend}${entry.backendReport ? ` (${plural(entry.backendReport.kernels, 'kernel')})` : ''} in ${compileMs.toFixed(1)} ms`);
  }
  if (logDebug('dynamo')) {
    for (const d of entry.decisions) logDetail('dynamo', tag, `call ${d.callee}${d.location ? ` (${formatLocation(d.location)})` : ''}: ${d.kind} by ${d.rule}: ${d.reason}`);
    const phases = Object.entries(entry.compilePhasesMs ?? {}).map(([p, ms]) => `${p} ${ms.toFixed(1)} ms`);
    if (phases.length) logDetail('dynamo', tag, `phases: ${phases.join(', ')}`);
  }
}

/**
 * KILN_LOGS=output_code: what the backend generated, in the backend's own printed form (wasm backends: the
 * wasm module as WAT, each function noted with its kernel; WebGPU: each kernel's WGSL), then the nodes that
 * run as eager steps. A backend that prints no generated code shows its program (`code`) instead.
 */
function outputCode(entry: LoggedEntry): string {
  const r = entry.backendReport;
  const eager = r?.eagerSteps.length ? `\n// eager steps: ${r.eagerSteps.map((s) => `${s.op}${s.node ? ` (${s.node})` : ''}: ${s.reason}`).join('; ')}` : '';
  const code = r?.generatedCode?.() ?? r?.code;
  if (!r || !code) return `// backend ${entry.backend} generated no code (${r?.wholeGraphFallback ? `not lowered: ${r.wholeGraphFallback}` : 'it interprets the graph'})${eager}`;
  return `// backend ${entry.backend}: ${plural(r.kernels, 'kernel')}\n${code}${eager}`;
}

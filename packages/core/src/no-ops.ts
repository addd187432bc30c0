// A frame whose trace holds no tensor op (a resume function that only returns a float, a helper that only
// reads fields) has nothing to compile: building its graph, passes and kernels cost about 4 ms and calling it
// bought nothing. As PT2 skips such a frame ("skipping because no content in function call"), the entry runs
// the function eagerly — always correct, it is the user's own code — under the trace's guards, so inputs
// that would trace differently (a branch that holds ops, another length) fail a guard and compile anew.
import type { Graph } from '@kiln/graph';
import type { EagerEntry } from './cache.js';
import { compileGuards } from './guards/codegen.js';
import type { FrameTrace } from './trace/trace-frame.js';

export const NO_OPS_REASON = 'no tensor ops in the frame: nothing to compile, it runs eagerly under these guards';

export const hasTensorOps = (graph: Graph): boolean => graph.nodes.some((n) => n.kind === 'call');

/** The eager entry for a trace without tensor ops (see above). */
export function noOpsEntry(trace: FrameTrace, compileId: number, start: number): EagerEntry {
  const { fn: guard, source } = compileGuards(trace.guards, trace.constants);
  return {
    kind: 'eager',
    compileId,
    guards: trace.guards,
    guard,
    guardSource: source,
    mutableReads: trace.mutableReads,
    decisions: trace.decisions,
    compileMs: performance.now() - start,
    break: { reason: NO_OPS_REASON, location: undefined, hint: undefined },
    noOps: true,
  };
}

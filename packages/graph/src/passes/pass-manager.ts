import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/print.js';
import { verify } from '../ir/verify.js';
import { constantFold } from './constant-fold.js';
import { cse } from './cse.js';
import { dce } from './dce.js';

/** A named graph → graph rewrite; returns whether it changed anything. */
export interface GraphPass {
  name: string;
  run(graph: Graph): boolean;
}

/** In the order compilers run them (each its own `graphPasses` tap, `kiln:<name>`, see PASS_STAGES). */
export const builtinPasses: readonly (GraphPass & { name: 'constantFold' | 'cse' | 'dce' })[] = [
  { name: 'constantFold', run: constantFold },
  { name: 'cse', run: cse },
  { name: 'dce', run: dce },
];

export interface PassManagerOptions {
  /** Verify the graph after every pass (on in tests; costs a walk per pass). */
  verifyEach?: boolean;
  /** Called with the printed graph after each pass (`KILN_LOGS=graph` dumps through this). */
  dump?: (passName: string, printed: string) => void;
}

/** Runs passes in order, each named, optionally verifying and dumping the graph after each one. */
export function runPasses(graph: Graph, passes: readonly GraphPass[] = builtinPasses, options: PassManagerOptions = {}): Graph {
  for (const pass of passes) {
    const changed = pass.run(graph);
    if (options.verifyEach) verify(graph, `after pass ${pass.name}`);
    if (options.dump) options.dump(pass.name, changed ? printGraph(graph) : '(unchanged)');
  }
  return graph;
}

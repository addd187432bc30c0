// Shape propagation over a 1,000-node core graph with symbolic sizes: time per node, and the share of it
// spent inside mathjs (goal: < 20% of trace time, < 20 µs per node). Printed, never asserted.
import { machineLine } from './machine.js';
import * as k from '@kiln/tensor';
import { mathjsStats, resetMathjsStats } from '@kiln/shapes';
import { traceOps } from '@kiln/graph';
console.log(machineLine());

const NODES = 1000;

/** A chain mixing broadcasting, views and reshapes, so sizes go through real symbolic arithmetic. */
function chain(x: k.Tensor, y: k.Tensor): k.Tensor {
  let h = x;
  for (let i = 0; h !== undefined && i < NODES / 5; i++) {
    h = h.add(y).mul(0.5).transpose(0, 1).transpose(0, 1).reshape([-1, h.shape[1]!]);
  }
  return h;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const x = k.randn([6, 8]);
const y = k.randn([8]);
const times: number[] = [];
const mathjsShares: number[] = [];
let nodes = 0;
for (let run = 0; run < 7; run++) {
  resetMathjsStats();
  const t0 = performance.now();
  const { apiGraph } = traceOps(chain, [x, y]);
  const elapsed = performance.now() - t0;
  nodes = apiGraph.nodes.length;
  times.push(elapsed);
  mathjsShares.push(mathjsStats().milliseconds / elapsed);
}
const perNodeUs = (median(times) * 1000) / nodes;
console.log(`shape propagation, ${nodes}-node API graph + its core graph, symbolic sizes (median of ${times.length} runs)`);
console.log(`  total ${median(times).toFixed(1)} ms: ${perNodeUs.toFixed(2)} µs per API node, ${(perNodeUs / 2).toFixed(2)} µs per recorded node (both graphs are built; goal < 20 µs per node)`);
console.log(`  share inside mathjs: ${(median(mathjsShares) * 100).toFixed(1)}% (goal < 20%)`);
console.log(`  mathjs stats of the last run: ${JSON.stringify(mathjsStats())}`);

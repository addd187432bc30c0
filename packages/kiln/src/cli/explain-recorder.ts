// `kiln explain FILE`: a plugin that records every frame the program compiles (graphs, breaks with reasons,
// recompiles with the failing guard, eager fallbacks), printed as a summary when the program ends.
import type { Compiler, KilnPlugin } from '@kiln/core';

interface FrameSummary {
  readonly name: string;
  readonly location: string;
  graphs: number;
  ops: number;
  readonly breaks: string[];
  readonly recompiles: string[];
}

export function explainRecorder(): KilnPlugin & { summary(): string } {
  const frames = new Map<string, FrameSummary>();
  const frameOf = (e: { name: string; location: string }) => {
    const key = `${e.name}@${e.location}`;
    let f = frames.get(key);
    if (!f) frames.set(key, (f = { name: e.name, location: e.location, graphs: 0, ops: 0, breaks: [], recompiles: [] }));
    return f;
  };
  return {
    name: 'kiln:cli-explain',
    apply(compiler: Compiler) {
      compiler.hooks.graphCaptured.tap('kiln-cli-explain', (graph, frame) => {
        const f = frameOf(frame);
        f.graphs++;
        f.ops += graph.nodes.filter((n) => n.kind === 'call').length;
      });
      compiler.hooks.graphBreak.tap('kiln-cli-explain', (record, frame) => {
        const where = record.location ? ` at ${record.location.file}:${record.location.line}` : '';
        frameOf(frame).breaks.push(`${frame.tag} ${record.reason}${where}`);
      });
      compiler.hooks.recompile.tap('kiln-cli-explain', (frame, reason) => void frameOf(frame).recompiles.push(`${frame.tag} ${reason}`));
    },
    summary() {
      if (frames.size === 0) return 'kiln explain: the program compiled nothing (no compile() call ran)\n';
      const lines = [`kiln explain: ${frames.size} compiled function(s)`];
      for (const f of frames.values()) {
        lines.push(`${f.name} (${f.location}): ${f.graphs} graph(s), ${f.ops} op(s), ${f.breaks.length} graph break(s), ${f.recompiles.length} recompile(s)`);
        for (const b of f.breaks) lines.push(`  break ${b}`);
        for (const r of f.recompiles) lines.push(`  recompile ${r}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

// `kiln explain FILE`: records explain() for every function the program compiles (core's recordExplains),
// printed when the program ends: per function, the full output explain(fn)(...args) gives for one call —
// graphs (API and core), guards, graph breaks with lines and hints, recompiles with the failing values,
// kernels and eager steps, call decisions, op counts and compile times.
import { plural, recordExplains } from '@kiln/core';
import type { Compiler, ExplainSession, KilnPlugin } from '@kiln/core';

export function explainRecorder(): KilnPlugin & { printout(): string } {
  let session: ExplainSession | undefined;
  return {
    name: 'kiln:cli-explain',
    apply(compiler: Compiler) {
      session = recordExplains(compiler);
    },
    printout() {
      const functions = session?.functions() ?? [];
      session?.stop();
      if (functions.length === 0) return 'kiln explain: the program compiled nothing (no compile() call ran)\n';
      const lines = [`kiln explain: ${plural(functions.length, 'compiled function')}`];
      for (const f of functions) {
        const { graphCount, breakCount, recompiles } = f.explained;
        lines.push('', `=== ${f.name} (${f.location}): ${plural(graphCount, 'graph')}, ${plural(breakCount, 'graph break')}, ${plural(recompiles.length, 'recompile')}`, String(f.explained));
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

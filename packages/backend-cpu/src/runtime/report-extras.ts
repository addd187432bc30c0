// What a CPU program's report offers on request (made lazily, and rebuilt for a program loaded from a
// persistent cache, whose saved report holds plain data only): the module as WAT, with each exported function
// noted with the kernel it is and the graph ops it computes, and per-step times.
import type { Graph } from '@kiln/graph';
import type { BackendReport, LoweredProgram } from '@kiln/lower';
import { printWat } from '../codegen/wasm/print.js';
import type { CompiledModule } from './compile.js';
import type { ProgramRunner } from './program.js';

type Extras = Pick<BackendReport, 'generatedCode' | 'stepTimes'>;

/** @param graph the compiled graph, asked for only when the report is read (a cached program's is made then). */
export function reportExtras(graph: () => Graph, program: LoweredProgram, module: CompiledModule, runner: ProgramRunner): Required<Extras> {
  let opTargets: Map<string, string> | undefined;
  const opsOf = (kernel: string): string[] => {
    opTargets ??= new Map(graph().nodes.map((n) => [n.name, n.target]));
    return [...(program.kernelNodes?.get(kernel) ?? [])].map((n) => opTargets!.get(n) ?? n);
  };
  const count = module.kernels.size;
  return {
    generatedCode: () => {
      const notes = new Map(module.emitted.map((e) => [e.exportName, `kernel ${e.kernel.name} (${e.kernel.kind}): ${opsOf(e.kernel.name).join(', ') || 'no graph op'}`]));
      return `;; wasm module: ${module.wasm.byteLength} bytes, ${count} kernel${count === 1 ? '' : 's'}\n${printWat(module.wasm, { notes })}`;
    },
    stepTimes: () => runner.stepTimes(opsOf),
  };
}

/** The report without its functions (a persistent cache stores plain data). */
export function plainReport(report: BackendReport): Omit<BackendReport, keyof Extras> {
  const { generatedCode: _code, stepTimes: _times, ...plain } = report;
  return plain;
}

// Times compiled programs through the compiler's `compiledGraph` hook: each program's run() is wrapped
// (calls, wall time), and the backend is asked to time each step (`timeSteps()`, read back through
// `report.stepTimes()`). Frames that run eagerly are not compiled programs and are not timed.
import type { Compiler, FrameEvent } from '@kiln/core';
import type { BackendReport, CompiledGraph, StepTiming } from '@kiln/lower';

export interface ProgramProfile {
  /** `[frame/compile] name (file:line)`, with `#2`… for further programs of one compile (training halves). */
  readonly label: string;
  readonly tag: string;
  readonly backend: string;
  readonly calls: number;
  /** Wall time of run(): the steps, copies in and out, dispatch. On an asynchronous device, enqueue time. */
  readonly ms: number;
  readonly steps: readonly StepTiming[];
  /** Why `steps` is empty (the backend does not time steps). */
  readonly stepNote: string;
}

interface ProgramClock {
  readonly tag: string;
  readonly label: string;
  readonly report: BackendReport;
  readonly stepsTimed: boolean;
  calls: number;
  ms: number;
}

const PLUGIN_NAME = '@kiln/plugin-profile';

export class ProgramTimer {
  private readonly clocks: ProgramClock[] = [];

  attach(compiler: Compiler): void {
    compiler.hooks.compiledGraph.tap(PLUGIN_NAME, (compiled, frame) => this.wrap(compiled, frame));
  }

  private wrap(compiled: CompiledGraph, frame: FrameEvent): CompiledGraph {
    compiled.timeSteps?.();
    const sameTag = this.clocks.filter((c) => c.tag === frame.tag).length;
    const clock: ProgramClock = {
      tag: frame.tag,
      label: `${frame.tag} ${frame.name} (${frame.location})${sameTag ? ` #${sameTag + 1}` : ''}`,
      report: compiled.report,
      stepsTimed: typeof compiled.timeSteps === 'function' && typeof compiled.report.stepTimes === 'function',
      calls: 0,
      ms: 0,
    };
    this.clocks.push(clock);
    const inner = compiled.run.bind(compiled);
    return {
      ...compiled,
      run(inputs) {
        const t0 = performance.now();
        try {
          return inner(inputs);
        } finally {
          clock.ms += performance.now() - t0;
          clock.calls++;
        }
      },
    };
  }

  programs(): ProgramProfile[] {
    return this.clocks.map((c) => ({
      label: c.label,
      tag: c.tag,
      backend: c.report.backend,
      calls: c.calls,
      ms: c.ms,
      steps: c.stepsTimed ? c.report.stepTimes!().filter((s) => s.calls > 0) : [],
      stepNote: c.stepsTimed ? 'no step ran' : `the ${c.report.backend} backend does not time steps${c.report.wholeGraphFallback ? ' (the graph runs on the interpreter)' : ''}`,
    }));
  }
}

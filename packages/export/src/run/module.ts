// A runnable exported program: compiled once for one backend through the backend contract (no tracer, no
// guards), its arguments checked against the input specs on every call, its results rebuilt in the
// declared structure.
import { compileGraphOn } from '@kiln/core';
import type { Compiler } from '@kiln/core';
import { treeUnflatten } from '@kiln/pytree';
import type { Tensor } from '@kiln/tensor';
import type { ExportedProgram } from '../program.js';
import { checkInputs } from './check-inputs.js';

export interface ProgramModuleOptions {
  /** A registered backend (`cpu`, `webgpu`, `eager`…) or `auto` (the default: the best available). */
  readonly backend?: string;
  /** Whose backends and per-op lowering hooks apply (default: the default compiler). */
  readonly compiler?: Compiler;
}

/** Calls the program like the exported function; `.program` and `.backend` say what runs where. */
export interface ProgramModule {
  (...args: unknown[]): unknown;
  readonly program: ExportedProgram;
  readonly backend: string;
}

export function programModule(program: ExportedProgram, options: ProgramModuleOptions = {}): ProgramModule {
  const { backend, compiled } = compileGraphOn(program.graph, options.backend ?? 'auto', options.compiler);
  const state = new Map(program.state.map((s) => [s.placeholder, program.stateDict.get(s.name)!]));
  const placeholders = program.graph.placeholders().map((p) => p.name);
  const call = (...args: unknown[]): unknown => {
    const { tensors, byName } = checkInputs(program, args);
    const inputs = placeholders.map((name) => {
      const t = (tensors.get(name) ?? state.get(name)) as Tensor;
      return t.isContiguous() ? t : t.contiguous();
    });
    const results = compiled.run(inputs);
    const leaves = program.outputs.map((o) => {
      switch (o.kind) {
        case 'tensor':
        case 'size':
          return results[o.index];
        case 'constant':
          return o.value;
        case 'input':
          // Returned as itself, as the function returns its argument (or the model's own tensor).
          return byName.get(o.target) ?? program.stateDict.get(o.target);
        default:
          return o satisfies never;
      }
    });
    return treeUnflatten(program.outputTree, leaves);
  };
  return Object.assign(call, { program, backend }) as ProgramModule;
}

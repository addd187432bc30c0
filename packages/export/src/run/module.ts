// A runnable exported program: compiled once for one backend through the backend contract (no tracer, no
// guards), its arguments checked against the input specs on every call, its results rebuilt in the
// declared structure.
import { compileGraphOn } from '@kiln/core';
import type { Compiler } from '@kiln/core';
import { treeUnflatten } from '@kiln/pytree';
import { writeBack } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import type { ExportedProgram } from '../program.js';
import { InputAliasError } from '../errors.js';
import { checkInputs } from './check-inputs.js';

export interface ProgramModuleOptions {
  /** A registered backend (`cpu`, `webgpu`, `eager`…) or `auto` (the default: the best available). */
  readonly backend?: string;
  /** Whose backends and per-op lowering hooks apply (default: the default compiler). */
  readonly compiler?: Compiler;
}

/**
 * Calls the program like the exported function; `.program` and `.backend` say what runs where. `.state`
 * holds the module's state tensors by state name: a buffer the program writes in place (a running mean) is
 * the module's own copy, updated by every call, as a model's buffer is by the eager function.
 */
export interface ProgramModule {
  (...args: unknown[]): unknown;
  readonly program: ExportedProgram;
  readonly backend: string;
  readonly state: ReadonlyMap<string, Tensor>;
}

export function programModule(program: ExportedProgram, options: ProgramModuleOptions = {}): ProgramModule {
  const { backend, compiled } = compileGraphOn(program.graph, options.backend ?? 'auto', options.compiler);
  const written = new Set(program.mutations.filter((m) => m.kind === 'state').map((m) => m.target));
  // Written state is copied, so calls change this module's buffers and never the program's snapshot.
  const ownState = new Map(program.state.map((s) => [s.name, written.has(s.name) ? program.stateDict.get(s.name)!.clone() : program.stateDict.get(s.name)!]));
  const state = new Map(program.state.map((s) => [s.placeholder, ownState.get(s.name)!]));
  const placeholders = program.graph.placeholders().map((p) => p.name);
  const call = (...args: unknown[]): unknown => {
    const { tensors, byName } = checkInputs(program, args);
    if (program.mutations.length > 0) checkWrittenInputsAlone(program, byName, ownState);
    const inputs = placeholders.map((name) => {
      const t = (tensors.get(name) ?? state.get(name)) as Tensor;
      return t.isContiguous() ? t : t.contiguous();
    });
    const results = compiled.run(inputs);
    // The graph is functional: in-place writes come back as outputs, copied into their targets now (after
    // every input was read), in program order, as eager code would have left them.
    for (const m of program.mutations) writeBack(m.kind === 'input' ? byName.get(m.target)! : ownState.get(m.target)!, results[m.index] as Tensor);
    const leaves = program.outputs.map((o) => {
      switch (o.kind) {
        case 'tensor':
        case 'size':
          return results[o.index];
        case 'constant':
          return o.value;
        case 'input':
          // Returned as itself, as the function returns its argument (or the model's own tensor).
          return byName.get(o.target) ?? ownState.get(o.target);
        default:
          return o satisfies never;
      }
    });
    return treeUnflatten(program.outputTree, leaves);
  };
  return Object.assign(call, { program, backend, state: ownState as ReadonlyMap<string, Tensor> }) as ProgramModule;
}

/** A written input must not share storage with any other input or state tensor (see InputAliasError). */
function checkWrittenInputsAlone(program: ExportedProgram, byName: ReadonlyMap<string, Tensor>, state: ReadonlyMap<string, Tensor>): void {
  const others = [...byName, ...state];
  for (const m of program.mutations) {
    if (m.kind !== 'input') continue;
    const written = byName.get(m.target)!;
    const shared = others.find(([name, t]) => name !== m.target && t.storage === written.storage);
    if (shared) {
      throw new InputAliasError(
        `input '${m.target}' is written in place${m.location ? ` (${m.location})` : ''} and shares its memory with ${byName.has(shared[0]) ? 'input' : 'state'} '${shared[0]}'; the exported program reads every input before it writes`,
        `pass separate tensors (${shared[0]}.clone()), or use the function itself or compile() for aliased arguments`,
      );
    }
  }
}

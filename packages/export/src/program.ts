// The exported program: what `exportProgram` returns, `saveProgram` writes and `loadProgram` reads. Its shape
// is a contract with every consumer (the loader, ONNX export, `kiln aot`): fields are only ever added.
// Sizes are written over the trace's symbols (`s0`), and `dims` says which user-named dimension each symbol
// stands for, with its range.
import type { Graph } from '@kiln/graph';
import type { TreeSpec } from '@kiln/pytree';
import type { BoolJson, ExprJson } from '@kiln/shapes';
import type { DType, Tensor } from '@kiln/tensor';
import type { EXPORTED_PROGRAM_INFO, ExportedProgramInfo } from '@kiln/core';

/**
 * The on-disk format's name and version (`program.json`'s `format` / `formatVersion`). Version 2 added
 * `mutations`; a program without mutations is still written as version 1, so older readers load it, and one
 * with mutations as 2, so an older reader refuses it instead of running it without its write-backs.
 */
export const PROGRAM_FORMAT = 'kiln.exported-program';
export const PROGRAM_FORMAT_VERSION = 2;

/**
 * One dimension of an input or output: a number (static), the symbol of a dynamic dim (`{ sym: 's0' }`),
 * or a size the trace found to be an expression of other dims (`{ expr, text: '2*s0' }`).
 */
export type SizeSpec = number | { readonly sym: string } | { readonly expr: ExprJson; readonly text: string };

/** A tensor leaf of the arguments: the graph placeholder it feeds (null when the graph never reads it). */
export interface TensorInputSpec {
  readonly kind: 'tensor';
  /** The user's name: the parameter name and the path inside it (`x`, `batch.tokens`, `pair[1]`). */
  readonly name: string;
  readonly placeholder: string | null;
  readonly dtype: DType;
  readonly shape: readonly SizeSpec[];
}

/** A non-tensor leaf of the arguments: the trace specialized it, so a call must pass the same value. */
export interface ConstantInputSpec {
  readonly kind: 'constant';
  readonly name: string;
  readonly value: number | string | boolean;
}

export type UserInputSpec = TensorInputSpec | ConstantInputSpec;

/**
 * A tensor the function reached through a closure or `this`, lifted to a graph input. `name` is state-dict
 * style (`layers.0.weight` from `this.layers[0].weight`, `model.layers.0.weight` from a closure's `model`).
 * `parameter`: it required grad when exported; `buffer`: any other tensor read from an object or a binding;
 * `constant`: a tensor reached through a helper function's own closure.
 */
export interface StateSpec {
  readonly kind: 'parameter' | 'buffer' | 'constant';
  readonly name: string;
  readonly placeholder: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * A leaf of the return value: graph output `index` (a tensor, or a size such as `x.shape[0]`), a constant,
 * or an input or state tensor returned as itself (`target` is its name).
 */
export type OutputSpec =
  | { readonly kind: 'tensor'; readonly index: number; readonly dtype: DType; readonly shape: readonly SizeSpec[] }
  | { readonly kind: 'size'; readonly index: number }
  | { readonly kind: 'constant'; readonly value: number | string | boolean | null }
  | { readonly kind: 'input'; readonly target: string };

/**
 * An in-place write the function makes to a tensor it did not create (torch.export's user-input and buffer
 * mutations): `x.add_(1)` on an argument (`kind: 'input'`, `target` its user name) or
 * `this.runningMean.mul_(0.9)` on lifted state (`kind: 'state'`, `target` its state name). The graph stays
 * functional: the new value is graph output `index`, and the runner copies it into the target after the
 * call, so a program changes its caller's tensors as the function does. `location` is the write's line.
 */
export interface MutationSpec {
  readonly kind: 'input' | 'state';
  readonly target: string;
  readonly index: number;
  readonly location?: string;
}

/**
 * A dynamic dimension: the symbol the graph uses, the name the user gave it (`Dim('batch')`) or its first
 * place (`x.shape[0]`), its inclusive range (max `Infinity` when unbounded) and every input dim it sizes.
 */
export interface DimSpec {
  readonly symbol: string;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Input dims it stands for, by user name (`x.shape[0]`, `mask.shape[1]`). */
  readonly places: readonly string[];
}

/**
 * A fact about input sizes the trace relied on, checked before every call: `relation` (a guard of the trace:
 * `s0 < s1`, `Mod(s0, 4) == 0`) or `check` (a `check()` in the user's code). `text` uses the dims' names.
 */
export interface AssertSpec {
  readonly kind: 'relation' | 'check';
  readonly expr: BoolJson;
  readonly text: string;
  /** The user's line that made the trace rely on it (`model.ts:12`). */
  readonly location?: string;
  readonly message?: string;
}

export interface ExportedProgram {
  /** The version of Kiln that exported it. */
  readonly kilnVersion: string;
  /** The core graph: placeholders are the state tensors and user tensors, named by `state` / `inputs`. */
  readonly graph: Graph;
  /** The structure of the argument list (an array, one entry per argument); its leaves are `inputs`. */
  readonly inputTree: TreeSpec;
  readonly inputs: readonly UserInputSpec[];
  /** The structure of the return value; its leaves are `outputs`. */
  readonly outputTree: TreeSpec;
  readonly outputs: readonly OutputSpec[];
  /** Lifted tensors in placeholder order, with their values in `stateDict`. */
  readonly state: readonly StateSpec[];
  readonly stateDict: ReadonlyMap<string, Tensor>;
  readonly dims: readonly DimSpec[];
  readonly asserts: readonly AssertSpec[];
  /** In-place writes to inputs and state, in program order (graph outputs the runner writes back). */
  readonly mutations: readonly MutationSpec[];
  /** The function's name and where it was defined, for explain and error messages. */
  readonly source: { readonly name: string; readonly location?: string };
  /** What core's explain(program) and the compile report read (non-enumerable; not part of the saved format). */
  readonly [EXPORTED_PROGRAM_INFO]: ExportedProgramInfo;
}

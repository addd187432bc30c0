// The types an op is defined with (OpConfig, what `defineOp` takes) and described by (OpDef, what the
// registry keeps), and the meta-function contract they share: what a meta function reads and returns.
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import type { Shape, Size } from '../size.js';
import type { ArgSpec, CallParams, KeywordParams, MetaArgs, NormalizedArgs, Schema } from './schema.js';
import type { DerivativeRule } from './derivative.js';
import type { FormulaFn, PointwiseFormula } from './formula.js';

/** What meta functions read from a tensor: a real `Tensor` and a fake one both have it. */
export interface TensorMetaLike {
  readonly shape: Shape;
  readonly strides: Shape;
  readonly offset: Size;
  readonly dtype: DType;
  readonly ndim: number;
}

/** The output a meta function describes. Views also give strides and offset (into the input's storage). */
export interface MetaTensor {
  shape: Size[];
  dtype: DType;
  strides?: Size[];
  offset?: Size;
  /**
   * The result is a view of the first argument, for ops that are views only sometimes (`reshape` and
   * `flatten` when the strides allow it, as their eager kernels decide); ops marked `view` always are.
   */
  aliases?: boolean;
  /** The result is the first argument itself (`to` its own dtype, `contiguous` of contiguous data), as in eager. */
  same?: boolean;
}
/** Named outputs (`max(x, dim)` gives `{ values, indices }`) are an object of MetaTensors. */
export type MetaResult = MetaTensor | readonly MetaTensor[] | { readonly [name: string]: MetaTensor } | { scalar: DType } | { value: unknown };

/** Given to meta functions: lets data-dependent ops ask for a fresh size symbol (null in eager mode). */
export interface MetaContext {
  dataDependentSize(op: string, what: string): Size | null;
  dataDependentScalar(op: string, dtype: DType): unknown;
}

export const OP_CATEGORIES = [
  'creation', 'random', 'pointwise', 'reduction', 'view', 'shape', 'linalg', 'indexing', 'normalization',
  'inplace', 'conversion', 'data-dependent', 'opaque',
] as const;
export type OpCategory = (typeof OP_CATEGORIES)[number];

export interface OpConfig<P extends readonly ArgSpec[], K extends readonly ArgSpec[], R, M extends boolean> {
  name: string;
  category: OpCategory;
  positional: P;
  keywordOnly?: K;
  /** Also a Tensor method (`a.add(b)` for `add(a, b)`). */
  method: M;
  /** Also a public function. False for methods such as `item` and `toArray`. */
  publicFunction?: boolean;
  meta?: (args: MetaArgs<[...P, ...K]>, ctx: MetaContext) => MetaResult;
  /** The eager CPU kernel; `out` is what `meta` returned. */
  kernel?: (args: NormalizedArgs<[...P, ...K]>, out: any) => R;
  /**
   * For pointwise ops: the op as a scalar formula over primitive ops (`([x]) => scalar.mul(x,
   * scalar.sigmoid(x))`), the one definition both the eager kernel (when `kernel` is left out) and every
   * loop-IR backend's lowering are derived from. `meta` may be left out too: the tensor operands broadcast,
   * and the result is their promoted dtype, integers and bool promoted to float32.
   */
  formula?: FormulaFn;
  /** For composite ops: the same result written with other ops (the core graph uses it). */
  decompose?: (args: NormalizedArgs<[...P, ...K]>) => R;
  /** Mutates its first argument (in-place ops). */
  mutatesSelf?: boolean;
  /** Reads the global random generator when none is passed. */
  random?: boolean;
  /** Output size or value depends on tensor data (`nonzero`, `item`). */
  dataDependent?: boolean;
  /** Output aliases the first argument's storage. */
  view?: boolean;
  /**
   * The op's gradient (reverse mode), written with other ops so that it is itself differentiable and
   * traceable. Composite ops may leave it out: autograd then differentiates their decomposition.
   * 'nonDifferentiable' for ops whose output does not depend smoothly on the input values (comparisons,
   * argmax, zerosLike): the output carries no history.
   */
  derivative?: DerivativeRule<NormalizedArgs<[...P, ...K]>>;
}

export interface OpDef {
  readonly name: string;
  readonly category: OpCategory;
  readonly schema: Schema;
  readonly method: boolean;
  readonly publicFunction: boolean;
  readonly meta: ((args: readonly unknown[], ctx: MetaContext) => MetaResult) | undefined;
  readonly kernel: ((args: readonly unknown[], out: unknown) => unknown) | undefined;
  readonly decompose: ((args: readonly unknown[]) => unknown) | undefined;
  /** A pointwise op's scalar formula (registry/formula.ts): its eager kernel and its lowering come from it. */
  readonly formula: PointwiseFormula | undefined;
  readonly mutatesSelf: boolean;
  readonly random: boolean;
  readonly dataDependent: boolean;
  readonly view: boolean;
  readonly derivative: DerivativeRule | undefined;
  /** Ops without a decomposition form the core op set. */
  readonly isCore: boolean;
  /**
   * Where the `requiresGrad` creation option sits in the normalized arguments, -1 when the op has none:
   * autograd reads it on every call, so it is found once here rather than per call.
   */
  readonly requiresGradArg: number;
  /** The user-facing function (schema checking, then dispatch). */
  readonly fn: (...args: unknown[]) => unknown;
}

/**
 * `opName` and `isCoreOp` exist at the type level only (the op table's core ops as a union: `CoreOpName`,
 * which lowering tables are keyed by); `op.name` and `op.isCore` are the values.
 */
export type OpFunction<P extends readonly ArgSpec[], K extends readonly ArgSpec[], R, M extends boolean, N extends string = string, C extends boolean = boolean, X = {}> = ((
  ...args: CallParams<P, KeywordParams<[...P, ...K]> & X>
) => R) & { readonly op: OpDef; readonly isMethod: M; readonly opName?: N; readonly isCoreOp?: C };

/** Options every op of a category takes beside its schema's: creation and random ops take `{ device }`. */
export type CategoryOptions<G extends OpCategory> = G extends 'creation' | 'random' ? { device?: Device } : {};

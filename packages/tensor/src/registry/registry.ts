import { argsDevice, copyDevice, deviceImpl, hasDevices, takeDeviceOption } from '../device.js';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import type { Shape, Size } from '../size.js';
import type { ArgSpec, CallParams, KeywordParams, MetaArgs, NormalizedArgs, Schema } from './schema.js';
import { formatSchema, normalizeArgs } from './schema.js';
import type { DerivativeRule } from './derivative.js';
import type { FormulaFn, PointwiseFormula } from './formula.js';
import type { Tensor } from '../tensor.js';
import { makeFormula } from './formula.js';

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

/**
 * Interception point for everything that is not plain eager execution: fake tensors, graph tracing. The
 * active mode receives every op call with normalized arguments and returns its result.
 */
export interface DispatchMode {
  dispatch(op: OpDef, args: unknown[]): unknown;
  /** Autograd records the tape above this mode too (the joint forward+backward graph tracer); off by default. */
  readonly autograd?: boolean;
}

const ops = new Map<string, OpDef>();
let activeMode: DispatchMode | null = null;
let isTensorValue: (x: unknown) => boolean = () => false;

/**
 * The eager kernel and default meta of formula ops, installed by kernels/formula.ts (which needs the Tensor
 * class: importing it here would make a cycle). Looked up at call time, after every module has loaded.
 */
export interface FormulaLayer {
  kernel(formula: PointwiseFormula, args: readonly unknown[], out: unknown): unknown;
  meta(formula: PointwiseFormula, op: string, args: readonly unknown[]): MetaResult;
}
let formulaLayer: FormulaLayer | null = null;

export function setFormulaLayer(layer: FormulaLayer): void {
  formulaLayer = layer;
}

/** Set once by tensor.ts, which owns the class (keeps the registry free of an import cycle). */
export function setTensorPredicate(pred: (x: unknown) => boolean): void {
  isTensorValue = pred;
}

/** Runs `fn` with `mode` receiving every op call; modes nest, the innermost wins. */
export function withDispatchMode<T>(mode: DispatchMode, fn: () => T): T {
  const previous = activeMode;
  activeMode = mode;
  try {
    return fn();
  } finally {
    activeMode = previous;
  }
}

export const currentDispatchMode = (): DispatchMode | null => activeMode;

export const eagerMetaContext: MetaContext = {
  dataDependentSize: () => null,
  dataDependentScalar: () => null,
};

/**
 * Autograd sits above the dispatch modes, as PyTorch's Autograd dispatch key sits above the backends: it sees
 * every eager call (and calls under a mode that asks for it), records the tape, and calls `dispatchBelowAutograd`.
 * Installed by autograd/ (the registry cannot import it: autograd's derivatives call ops).
 */
type AutogradLayer = (op: OpDef, args: unknown[]) => unknown;
let autogradLayer: AutogradLayer | null = null;

export function setAutogradLayer(layer: AutogradLayer): void {
  autogradLayer = layer;
}

/**
 * Runs an op below the autograd layer: the active mode, the device its tensors live on (webgpu), or the
 * eager implementation. The device scan is skipped while no device is registered.
 */
export function dispatchBelowAutograd(op: OpDef, args: unknown[]): unknown {
  if (activeMode !== null) return activeMode.dispatch(op, args);
  if (hasDevices()) {
    const device = op.name === 'copy_' ? copyDevice(args) : argsDevice(op.name, args, isTensorValue);
    if (device !== undefined) return deviceImpl(device).dispatch(op, args);
  }
  return runEager(op, args);
}

/** Runs an op's eager implementation on normalized arguments. */
export function runEager(op: OpDef, args: readonly unknown[]): unknown {
  // An opaque op's meta is a fake-tensor run of the user's function: eager calls go straight to the function.
  if (op.kernel) return op.kernel(args, op.meta && op.category !== 'opaque' ? op.meta(args, eagerMetaContext) : undefined);
  return op.decompose!(args);
}

/** A composite op (it has a decomposition): not a core op. */
export function defineOp<
  const P extends readonly ArgSpec[],
  const K extends readonly ArgSpec[] = [],
  R = unknown,
  const M extends boolean = boolean,
  const N extends string = string,
  const G extends OpCategory = OpCategory,
>(config: OpConfig<P, K, R, M> & { name: N; category: G; decompose: (args: NormalizedArgs<[...P, ...K]>) => R }): OpFunction<P, K, R, M, N, false, CategoryOptions<G>>;
/** A pointwise op defined by its formula alone: the kernel is derived from it, and it returns a tensor. */
export function defineOp<
  const P extends readonly ArgSpec[],
  const K extends readonly ArgSpec[] = [],
  const M extends boolean = boolean,
  const N extends string = string,
>(config: OpConfig<P, K, Tensor, M> & { name: N; formula: FormulaFn; kernel?: undefined; decompose?: undefined }): OpFunction<P, K, Tensor, M, N, true>;
/** A core op: a kernel and no decomposition. */
export function defineOp<
  const P extends readonly ArgSpec[],
  const K extends readonly ArgSpec[] = [],
  R = unknown,
  const M extends boolean = boolean,
  const N extends string = string,
  const G extends OpCategory = OpCategory,
>(config: OpConfig<P, K, R, M> & { name: N; category: G; decompose?: undefined }): OpFunction<P, K, R, M, N, true, CategoryOptions<G>>;
export function defineOp<
  const P extends readonly ArgSpec[],
  const K extends readonly ArgSpec[] = [],
  R = unknown,
  const M extends boolean = boolean,
>(config: OpConfig<P, K, R, M>): OpFunction<P, K, R, M> {
  if (ops.has(config.name)) throw new KilnError(`op '${config.name}' is defined twice`);
  if (!config.kernel && !config.decompose && !config.formula) {
    throw new KilnError(`op '${config.name}' needs a kernel, a formula or a decomposition`);
  }
  if (config.formula && config.category !== 'pointwise') {
    throw new KilnError(`op '${config.name}': only pointwise ops have a formula (its category is '${config.category}')`);
  }
  const schema: Schema = { positional: config.positional, keywordOnly: config.keywordOnly ?? [] };
  const name = config.name;
  const formula = config.formula && makeFormula(name, formulaArity(schema), config.formula);
  const formulaKernel = formula && ((args: readonly unknown[], out: unknown) => formulaLayer!.kernel(formula, args, out));
  const formulaMeta = formula && ((args: readonly unknown[]) => formulaLayer!.meta(formula, name, args));
  const makesTensors = config.category === 'creation' || config.category === 'random';
  const fn = (...raw: unknown[]): unknown => {
    // Creation ops take `{ device }` beside their options: made on the CPU, then moved (one upload).
    if (makesTensors) {
      const device = takeDeviceOption(raw, isTensorValue);
      if (device !== undefined) return (fn(...raw) as { toDevice(d: string): unknown }).toDevice(device);
    }
    const args = normalizeArgs(name, schema, raw, isTensorValue);
    if (autogradLayer !== null && (activeMode === null || activeMode.autograd === true)) return autogradLayer(def, args);
    return dispatchBelowAutograd(def, args);
  };
  const def: OpDef = {
    name,
    category: config.category,
    schema,
    method: config.method,
    publicFunction: config.publicFunction ?? true,
    meta: (config.meta ?? formulaMeta) as OpDef['meta'],
    kernel: (config.kernel ?? formulaKernel) as OpDef['kernel'],
    decompose: config.decompose as OpDef['decompose'],
    formula,
    mutatesSelf: config.mutatesSelf ?? false,
    random: config.random ?? false,
    dataDependent: config.dataDependent ?? false,
    view: config.view ?? false,
    derivative: config.derivative as OpDef['derivative'],
    isCore: !config.decompose,
    requiresGradArg: ((k) => (k < 0 ? -1 : schema.positional.length + k))(schema.keywordOnly.findIndex((a) => a.name === 'requiresGrad')),
    fn,
  };
  ops.set(name, def);
  return Object.assign(fn, { op: def, isMethod: config.method }) as unknown as OpFunction<P, K, R, M>;
}

/** A formula's tensor operands: the leading positional arguments that take a tensor. */
function formulaArity(schema: Schema): number {
  let n = 0;
  while (n < schema.positional.length && (schema.positional[n]!.type === 'Tensor' || schema.positional[n]!.type === 'TensorOrScalar')) n++;
  return n;
}

export function getOp(name: string): OpDef | undefined {
  return ops.get(name);
}

export function allOps(): readonly OpDef[] {
  return [...ops.values()];
}

/** One row per op, for the policy audit and `kiln ops`. */
export function listOps() {
  return allOps().map((op) => ({
    name: op.name,
    schema: formatSchema(op.name, op.schema),
    category: op.category,
    method: op.method,
    publicFunction: op.publicFunction,
    hasMeta: op.meta !== undefined,
    hasKernel: op.kernel !== undefined,
    hasDecomposition: op.decompose !== undefined,
    hasFormula: op.formula !== undefined,
    isCore: op.isCore,
    mutatesSelf: op.mutatesSelf,
    random: op.random,
    dataDependent: op.dataDependent,
    view: op.view,
    derivative: derivativeKind(op),
  }));
}

/** How autograd differentiates an op: its own formula, through its decomposition, not at all, or it cannot. */
export type DerivativeKind = 'formula' | 'decomposition' | 'nonDifferentiable' | 'missing';

const TENSOR_ARG_TYPES = new Set(['Tensor', 'Tensor?', 'TensorOrScalar', 'Tensor[]']);

export function derivativeKind(op: OpDef): DerivativeKind {
  const takesTensor = [...op.schema.positional, ...op.schema.keywordOnly].some((a) => TENSOR_ARG_TYPES.has(a.type));
  if (op.derivative === 'nonDifferentiable' || !takesTensor) return 'nonDifferentiable';
  if (op.derivative) return 'formula';
  return op.decompose ? 'decomposition' : 'missing';
}

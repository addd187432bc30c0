// The op registry: `defineOp` turns an op's config into its user-facing function and its OpDef, and every
// call goes through one dispatch chain (autograd layer, then the active dispatch mode, a device, or eager).
// The types ops are defined with live in op-types.ts (re-exported here for the op files); the table view
// of the registry (`listOps`, `derivativeKind`) is in op-listing.ts.
import { argsDevice, copyDevice, deviceImpl, hasDevices, takeDeviceOption } from '../device.js';
import { KilnError } from '../errors.js';
import type { ArgSpec, NormalizedArgs, Schema } from './schema.js';
import { normalizeArgs } from './schema.js';
import type { FormulaFn, PointwiseFormula } from './formula.js';
import type { Tensor } from '../tensor.js';
import { makeFormula } from './formula.js';
import type { CategoryOptions, MetaContext, MetaResult, OpCategory, OpConfig, OpDef, OpFunction } from './op-types.js';

export { OP_CATEGORIES } from './op-types.js';
export type { CategoryOptions, MetaContext, MetaResult, MetaTensor, OpCategory, OpConfig, OpDef, OpFunction, TensorMetaLike } from './op-types.js';

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

let builtinOps: ReadonlySet<OpDef> | undefined;
/**
 * Called once, at the end of @kiln/tensor's index module: every op defined by then is Kiln's own (any other
 * module that defines an op imports this package, so it runs after that point).
 */
export function sealBuiltinOps(): void {
  builtinOps ??= new Set(ops.values());
}

/** Whether `op` is one of @kiln/tensor's own ops (covered by Kiln's code stamp), not a plugin's or the user's. */
export const isBuiltinOp = (op: OpDef): boolean => builtinOps?.has(op) === true;

export function allOps(): readonly OpDef[] {
  return [...ops.values()];
}

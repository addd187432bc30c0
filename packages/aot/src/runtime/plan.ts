// The plan an AOT module carries: everything its runtime needs to run one lowered program, as plain JSON
// data (no loop IR, no graph, no code). The compiler side (compile/) writes it; the runtime reads it.
import type { GraphAssert } from '@kiln/graph';
import type { IndexRangeCheck, LoopDType, ParamBinding, ProgramOutput, SizeExpr } from '@kiln/lower';
import type { KernelSignature, KernelSizeCheck } from '@kiln/backend-cpu';

export const AOT_PLAN_FORMAT = 'kiln-aot-plan';
export const AOT_PLAN_VERSION = 1;

/** A dim of an input: static, a dynamic dim's symbol (`s0`), or an expression of symbols (`2*s0`). */
export type AotDim = number | { readonly sym: string } | { readonly expr: SizeExpr; readonly text: string };

/** One tensor leaf of the call's arguments, named as the user named it (`x`, `batch.ids`). */
export interface AotInputSpec {
  readonly name: string;
  readonly dtype: LoopDType;
  readonly shape: readonly AotDim[];
}

/** A dynamic dim: its user name (`batch`) and its inclusive range (`max: null` is unbounded). */
export interface AotSymbolRange {
  readonly name: string;
  readonly min: number;
  readonly max: number | null;
}

/** A fact about the input sizes the exported trace relied on, checked before every call. */
export interface AotPrecondition {
  readonly text: string;
  readonly condition: AotCondition;
  readonly location?: string;
  readonly message?: string;
}

/** Where the program's input `i` comes from: argument `user` of the call, or a tensor of the weights blob. */
export type AotProgramInput = { readonly user: number } | { readonly weight: string; readonly shape: readonly number[] };

export interface AotBuffer {
  readonly name: string;
  readonly dtype: LoopDType;
  readonly numel: SizeExpr;
  /** Filled from program input `input` on every call (a weight input is copied in once, at load). */
  readonly input?: number;
  /** Input buffers: the shape the argument must have, over the size parameters. */
  readonly shape?: readonly SizeExpr[];
  /** A captured constant, copied in once at load from the weights blob tensor of this name. */
  readonly weight?: string;
}

export interface AotKernelStep {
  readonly kind: 'kernel';
  readonly name: string;
  /** The wasm export (`k0`, `k1`…): generated, never a user string. */
  readonly exportName: string;
  readonly signature: KernelSignature;
  readonly macs: SizeExpr;
  readonly sizes: KernelSizeCheck;
}

/** A runtime assert's condition over the size parameters: relations of a size expression to 0. */
export type AotCondition =
  | boolean
  | { readonly rel: '==' | '!=' | '<' | '<='; readonly diff: SizeExpr }
  | { readonly not: AotCondition }
  | { readonly and: readonly AotCondition[] }
  | { readonly or: readonly AotCondition[] };

/** A runtime assert of the program (check(), a Dim's constraint): raises CheckFailedError when false. */
export interface AotAssertStep {
  readonly kind: 'assert';
  readonly assert: Omit<GraphAssert, 'cond'>;
  readonly condition: AotCondition;
}

export type AotStep = AotKernelStep | IndexRangeCheck | AotAssertStep;

/**
 * The outputs' (or arguments') structure: `{ leaf: i }` is program output i (for arguments: tensor input
 * i), `{ arg: i }` tensor argument i returned as itself; arrays and `{ object: [[key, value]…] }` nest; any
 * other JSON value is itself.
 */
export type AotOutputTemplate =
  | { readonly leaf: number }
  | { readonly arg: number }
  | readonly AotOutputTemplate[]
  | { readonly object: readonly (readonly [string, AotOutputTemplate])[] }
  | { readonly value: unknown };

/**
 * An in-place write of the exported function (`@kiln/export`'s mutations): program output `output` is the
 * new value of tensor argument `arg` (written into the caller's array or tensor after the call) or of the
 * weight held in buffer `buffer` (the loaded module's own copy, updated for the next call).
 */
export type AotMutation = { readonly arg: number; readonly output: number } | { readonly buffer: string; readonly output: number };

export interface AotPlanCommon {
  readonly format: typeof AOT_PLAN_FORMAT;
  readonly version: typeof AOT_PLAN_VERSION;
  readonly kilnVersion: string;
  /** A display name for errors (`model`): validated at compile time to be printable, used only in messages. */
  readonly name: string;
  /** The arguments' structure: leaves are `inputs`, `{ value }` a constant the call must pass as is. */
  readonly argsTree: AotOutputTemplate;
  readonly inputs: readonly AotInputSpec[];
  /** Dynamic dims by symbol. */
  readonly symbols: Readonly<Record<string, AotSymbolRange>>;
  readonly preconditions: readonly AotPrecondition[];
  readonly programInputs: readonly AotProgramInput[];
  readonly outputs: readonly ProgramOutput[];
  /** The outputs' structure, over the outputs in order. */
  readonly outputTree: AotOutputTemplate;
  readonly buffers: readonly AotBuffer[];
  readonly params: readonly ParamBinding[];
  /** In-place writes to arguments and state, applied in order after the call. */
  readonly mutations: readonly AotMutation[];
}

export interface CpuPlan extends AotPlanCommon {
  readonly backend: 'cpu';
  readonly steps: readonly AotStep[];
  /** Per step: buffers to allocate before it and to release after it (the memory plan, made at compile time). */
  readonly allocBefore: readonly (readonly string[])[];
  readonly freeAfter: readonly (readonly string[])[];
  readonly setsImpreciseFlag: boolean;
}

/** A WGSL kernel (backend-webgpu's WgslKernel: code and how to dispatch it, all data). */
export interface AotShaderStep {
  readonly kind: 'kernel';
  readonly name: string;
  readonly code: string;
  /** Program buffers bound at @binding(i + 1); binding 0 holds the parameters. */
  readonly buffers: readonly string[];
  readonly workgroups: SizeExpr;
  readonly layers: SizeExpr;
  readonly params: readonly string[];
  readonly grid?: readonly [SizeExpr, SizeExpr];
}

export interface WebGpuPlan extends AotPlanCommon {
  readonly backend: 'webgpu';
  readonly steps: readonly (AotShaderStep | IndexRangeCheck | AotAssertStep)[];
}

export type AotPlan = CpuPlan | WebGpuPlan;

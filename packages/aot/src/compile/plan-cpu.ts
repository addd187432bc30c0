// An AotSource → the CPU plan, the wasm module and the weights: lowering and wasm codegen as the CPU
// backend does them (the same lowerForCodegen and compileKernels), then everything the runtime needs as
// data. A node the CPU code generator leaves to an eager kernel is an error here: the module has no eager
// kernels to run it with.
import { Arena, CpuCodegenError, DEFAULT_MATMUL_BLOCKING, compileKernels, cpuBackend, kernelMacs, kernelSizeCheck, type CompiledModule, type MatmulBlocking } from '@kiln/backend-cpu';
import type { Kernel, LoweredProgram, SizeExpr } from '@kiln/lower';
import { lowerForCodegen, planMemory } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import { sizeFromExprJson } from '@kiln/lower';
import { expr as shapesExpr, type SymInt } from '@kiln/shapes';
import type { BoolJson } from '@kiln/shapes';
import { AOT_PLAN_FORMAT, AOT_PLAN_VERSION, type AotBuffer, type AotCondition, type AotInputSpec, type AotStep, type CpuPlan } from '../runtime/plan.js';
import type { AotSource } from './source.js';

/** A program that cannot become a standalone module (an op without a kernel, an input it cannot take). */
export class AotCompileError extends KilnError {}

export interface CpuArtifacts {
  readonly plan: CpuPlan;
  readonly wasm: Uint8Array;
  /** Tensors of the weights blob, by name. */
  readonly weights: ReadonlyMap<string, Tensor>;
}

export function planForCpu(source: AotSource, kilnVersion: string, blocking: MatmulBlocking = DEFAULT_MATMUL_BLOCKING): CpuArtifacts {
  let order: Kernel[] = [];
  const { program, generated } = lowerForCodegen(
    source.graph,
    { capabilities: cpuBackend.capabilities, overrideLowering: () => undefined },
    (kernels) => {
      order = kernels;
      // A fresh arena: the module only needs the wasm bytes and the kernel signatures.
      return compileKernels(kernels, new Arena(), { matmulBlocking: blocking });
    },
    (err) => (err instanceof CpuCodegenError ? { kernel: err.kernel, message: err.message } : undefined),
    'CPU',
  );
  const eager = program.steps.flatMap((s) => (s.kind === 'fallback' ? [`${s.op}${s.node ? ` (node %${s.node})` : ''}: ${s.reason}`] : []));
  if (eager.length) {
    throw new AotCompileError(
      `${source.name}: ${eager.length} node(s) would run with eager kernels, which a standalone module does not have:\n  ${eager.join('\n  ')}`,
      'run this program with loadProgram() or compile(), or rewrite these ops with ones the CPU backend generates code for',
    );
  }
  const weights = new Map<string, Tensor>();
  const inputs = userInputs(source);
  const programInputs = source.inputs.map((input, i) => {
    if (input.kind === 'user') return { user: inputs.findIndex((u) => u.index === i) };
    weights.set(input.name, input.value);
    return { weight: input.name, shape: [...input.value.shape] };
  });
  const buffers: AotBuffer[] = program.buffers.map((b) => {
    const constant = (b as { constant?: Tensor }).constant;
    if (!constant) return { name: b.name, dtype: b.dtype, numel: b.numel, ...(b.input !== undefined ? { input: b.input, shape: b.shape ?? [] } : {}) };
    const weight = `constant.${b.name}`;
    weights.set(weight, constant);
    return { name: b.name, dtype: b.dtype, numel: b.numel, weight };
  });
  const { allocBefore, freeAfter } = planMemory(program);
  return {
    plan: {
      format: AOT_PLAN_FORMAT,
      version: AOT_PLAN_VERSION,
      kilnVersion,
      backend: 'cpu',
      name: source.name,
      inputs: inputs.map((u) => u.spec),
      symbols: source.symbols,
      programInputs,
      buffers,
      params: program.params,
      steps: steps(program, order, generated),
      allocBefore,
      freeAfter,
      outputs: program.outputs,
      outputTree: source.outputTree,
      setsImpreciseFlag: generated.setsImpreciseFlag,
    },
    wasm: generated.wasm,
    weights,
  };
}

function steps(program: LoweredProgram, order: readonly Kernel[], generated: CompiledModule): AotStep[] {
  return program.steps.map((step) => {
    if (step.kind === 'fallback') throw new Error('unreachable: fallbacks were rejected above');
    if (step.kind === 'check' && step.check === 'indexRange') return step;
    if (step.kind === 'check') {
      const { cond, ...assert } = step.assert;
      if (cond === undefined) throw new AotCompileError(`runtime assert ${assert.expr} has no condition as data (a graph serialized by an older Kiln)`, 'export the program again');
      return { kind: 'assert', assert, condition: condition(cond) };
    }
    const k = step.kernel;
    return { kind: 'kernel', name: k.name, exportName: `k${order.indexOf(k)}`, signature: generated.kernels.get(k.name)!.signature, macs: kernelMacs(k), sizes: kernelSizeCheck(k) };
  });
}

/** The call's arguments: the user inputs, each with its dtype and shape (dims as numbers or symbol names). */
function userInputs(source: AotSource): { index: number; spec: AotInputSpec }[] {
  const placeholders = source.graph.placeholders();
  return source.inputs.flatMap((input, index) => {
    if (input.kind !== 'user') return [];
    const val = placeholders[index]?.meta.val as { dtype?: string; shape?: readonly unknown[] } | undefined;
    if (!val?.shape || !['float32', 'int32', 'bool'].includes(val.dtype ?? '')) {
      throw new AotCompileError(`${source.name}: input '${input.name}' is not a float32, int32 or bool tensor`, 'AOT modules take tensors only; pass scalars as 0-d tensors');
    }
    const shape = val.shape.map((d, dim) => {
      const size = normalizedSize(d);
      if (typeof size === 'number') return size;
      // A symbol pinned to one value (`[4, 4]`: a dim the export kept static) is that number.
      if ('param' in size) return source.symbols[size.param]?.min === source.symbols[size.param]?.max ? source.symbols[size.param]!.min : size.param;
      throw new AotCompileError(`${source.name}: input '${input.name}' dim ${dim} is an expression of other dims`, 'export it with a dim of its own');
    });
    return [{ index, spec: { name: input.name, dtype: val.dtype as AotInputSpec['dtype'], shape } }];
  });
}

/** A runtime assert's condition with its sides as loop-IR size expressions (evaluated without symbolic algebra). */
function condition(c: BoolJson): AotCondition {
  if (typeof c === 'boolean') return c;
  if ('rel' in c) return { rel: c.rel, diff: sizeFromExprJson(c.diff) };
  if ('not' in c) return { not: condition(c.not) };
  if ('and' in c) return { and: c.and.map(condition) };
  return { or: c.or.map(condition) };
}

/** A dim as the shape env last simplified it: `s3` that a guard pinned to 3 is 3, `s2` unified with `s0` is `s0`. */
function normalizedSize(d: unknown): SizeExpr {
  if (typeof d === 'number') return d;
  const sym = d as SymInt;
  return sizeFromExprJson(shapesExpr.exprToJson(sym.env.normalize(sym.expr)));
}

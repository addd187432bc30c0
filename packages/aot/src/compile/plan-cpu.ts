// An AotSource → the CPU plan, the wasm module and the weights: lowering and wasm codegen as the CPU
// backend does them (the same lowerForCodegen and compileKernels), then everything the runtime needs as
// data. A node the CPU code generator leaves to an eager kernel is an error here: the module has no eager
// kernels to run it with.
import { Arena, CpuCodegenError, DEFAULT_MATMUL_BLOCKING, compileKernels, cpuBackend, kernelMacs, kernelSizeCheck, type CompiledModule, type MatmulBlocking } from '@kiln/backend-cpu';
import type { Kernel, LoweredProgram } from '@kiln/lower';
import { lowerForCodegen, planMemory } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import { AOT_PLAN_FORMAT, AOT_PLAN_VERSION, type AotBuffer, type AotStep, type CpuPlan } from '../runtime/plan.js';
import { AotCompileError, aotCondition, type AotSource } from './source.js';

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
  const programInputs = source.placeholders.map((p) => {
    if ('user' in p) return { user: p.user };
    weights.set(p.weight, p.value);
    return { weight: p.weight, shape: [...p.value.shape] };
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
      argsTree: source.argsTree,
      inputs: source.inputs,
      symbols: source.symbols,
      preconditions: source.preconditions,
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
      return { kind: 'assert', assert, condition: aotCondition(cond) };
    }
    const k = step.kernel;
    return { kind: 'kernel', name: k.name, exportName: `k${order.indexOf(k)}`, signature: generated.kernels.get(k.name)!.signature, macs: kernelMacs(k), sizes: kernelSizeCheck(k) };
  });
}


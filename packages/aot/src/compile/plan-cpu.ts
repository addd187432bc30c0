// An AotSource → the CPU plan, the wasm module and the weights: lowering and wasm codegen as the CPU
// backend does them (the same lowerForCodegen and compileKernels), then everything the runtime needs as
// data. A node the CPU code generator leaves to an eager kernel becomes an eager step the module runs with
// its own copy of that kernel (runtime/eager-kernels.ts), or an error naming the op where there is none.
import { Arena, CpuCodegenError, DEFAULT_MATMUL_BLOCKING, compileKernels, cpuBackend, kernelSizeCheck, type MatmulBlocking } from '@kiln/backend-cpu';
import type { Kernel } from '@kiln/lower';
import { lowerForCodegen, planMemory } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import type { CpuPlan } from '../runtime/plan.js';
import type { AotSource } from './source.js';
import { checkStep, commonPlan, rejectEagerSteps } from './plan-common.js';
import { standaloneKernel } from './eager-ops.js';

export interface CpuArtifacts {
  readonly plan: CpuPlan;
  readonly wasm: Uint8Array;
  /** Tensors of the weights blob, by name. */
  readonly weights: ReadonlyMap<string, Tensor>;
}

/**
 * `blocking`: the matmul blocking baked into the module. The default one, not this machine's autotuned
 * choice: the module runs on machines nobody measured.
 */
export function planForCpu(source: AotSource, blocking: MatmulBlocking = DEFAULT_MATMUL_BLOCKING): CpuArtifacts {
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
  rejectEagerSteps(source, program, 'CPU', (step) => standaloneKernel(step) !== undefined);
  const { common, weights } = commonPlan(source, program);
  const { allocBefore, freeAfter } = planMemory(program);
  const steps = program.steps.map((step) => {
    if (step.kind === 'fallback') {
      const { reason: _reason, ...eager } = step;
      return eager;
    }
    if (step.kind !== 'kernel') return checkStep(step);
    const k = step.kernel;
    return { kind: 'kernel' as const, name: k.name, exportName: `k${order.indexOf(k)}`, signature: generated.kernels.get(k.name)!.signature, sizes: kernelSizeCheck(k) };
  });
  return {
    plan: { ...common, backend: 'cpu', steps, allocBefore, freeAfter, setsImpreciseFlag: generated.setsImpreciseFlag },
    wasm: generated.wasm,
    weights,
  };
}

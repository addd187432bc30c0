// An AotSource → the WebGPU plan: lowering and WGSL generation as the WebGPU backend does them
// (lowerForWebGpu: no device needed), each kernel's shader text and dispatch sizes kept as data.
import { lowerForWebGpu } from '@kiln/backend-webgpu';
import type { Tensor } from '@kiln/tensor';
import type { WebGpuPlan } from '../runtime/plan.js';
import type { AotSource } from './source.js';
import { checkStep, commonPlan, rejectEagerSteps } from './plan-common.js';

export function planForWebGpu(source: AotSource): { plan: WebGpuPlan; weights: ReadonlyMap<string, Tensor> } {
  const { program, kernels } = lowerForWebGpu(source.graph);
  rejectEagerSteps(source, program, 'WebGPU');
  const { common, weights } = commonPlan(source, program);
  const steps = program.steps.map((step, i) => {
    if (step.kind !== 'kernel') return checkStep(step);
    const k = kernels.get(i)!;
    return { kind: 'kernel' as const, name: k.name, code: k.code, buffers: k.buffers, workgroups: k.workgroups, layers: k.layers, params: k.params, ...(k.grid ? { grid: k.grid } : {}) };
  });
  return { plan: { ...common, backend: 'webgpu', steps }, weights };
}

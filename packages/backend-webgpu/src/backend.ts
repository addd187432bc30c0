/// <reference types="@webgpu/types" />
// The WebGPU backend: core graph → lowered program → one WGSL shader per kernel → an asynchronous runner.
import type { Graph } from '@kiln/graph';
import { lowerGraph, printProgram } from '@kiln/lower';
import { kernelShader } from './codegen/index.js';
import type { WgslKernel } from './codegen/index.js';
import type { GpuContext } from './runtime/device.js';
import { WebGpuProgram } from './runtime/program.js';

export interface WebGpuCompiled {
  readonly program: WebGpuProgram;
  readonly shaders: readonly WgslKernel[];
  readonly code: string;
  /** Reads outputs back to the CPU (asynchronous). */
  run(inputs: readonly unknown[]): Promise<unknown[]>;
}

export function compileGraphForWebGpu(graph: Graph, gpu: GpuContext): WebGpuCompiled {
  const lowered = lowerGraph(graph);
  const shaders = new Map<number, { kernel: WgslKernel; pipeline: Promise<GPUComputePipeline> }>();
  lowered.steps.forEach((step, i) => {
    if (step.kind !== 'kernel') return;
    const kernel = kernelShader(step.kernel);
    const pipeline = gpu.pipeline(kernel.code);
    pipeline.catch(() => {}); // awaited (and reported) by the first run
    shaders.set(i, { kernel, pipeline });
  });
  const program = new WebGpuProgram(lowered, gpu, shaders);
  return {
    program,
    shaders: [...shaders.values()].map((s) => s.kernel),
    code: printProgram(lowered),
    run: (inputs) => program.run(inputs),
  };
}

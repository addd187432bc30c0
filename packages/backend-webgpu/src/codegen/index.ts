// Loop-IR kernels → WGSL compute shaders.
import type { Kernel } from '@kiln/lower';
import { pointwiseShader } from './pointwise.js';
import { reductionShader } from './reduction.js';
import { matmulShader } from './matmul.js';
import type { WgslKernel } from './shader.js';

export function kernelShader(kernel: Kernel): WgslKernel {
  switch (kernel.kind) {
    case 'pointwise': return pointwiseShader(kernel);
    case 'reduction': return reductionShader(kernel);
    case 'extern': return matmulShader(kernel);
    default: return kernel satisfies never;
  }
}

export type { WgslKernel } from './shader.js';
export { WebGpuCodegenError } from './errors.js';

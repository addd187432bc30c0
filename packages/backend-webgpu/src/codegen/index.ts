// Loop-IR kernels → WGSL compute shaders.
import type { Kernel } from '@kiln/lower';
import { pointwiseShader } from './pointwise.js';
import { reductionShader } from './reduction.js';
import { matmulShader } from './matmul.js';
import type { ShaderOptions, WgslKernel } from './shader.js';

export function kernelShader(kernel: Kernel, options: ShaderOptions = {}): WgslKernel {
  switch (kernel.kind) {
    case 'pointwise': return pointwiseShader(kernel, options);
    case 'reduction': return reductionShader(kernel, options);
    case 'extern': return matmulShader(kernel, options);
    default: return kernel satisfies never;
  }
}

export type { ShaderOptions, WgslKernel } from './shader.js';
export { WebGpuCodegenError } from './errors.js';

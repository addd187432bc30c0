import { KilnError } from '@kiln/tensor';

/** A kernel the WGSL code generator cannot emit: the backend runs that node with its eager kernel instead. */
export class WebGpuCodegenError extends KilnError {
  constructor(readonly kernel: string, message: string) {
    super(`WebGPU codegen, kernel ${kernel}: ${message}`, 'the node runs with its eager kernel; report it if it matters for speed');
  }
}

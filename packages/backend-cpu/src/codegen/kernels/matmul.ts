import type { MatmulKernel } from '@kiln/core';
import type { FunctionBuilder } from '../wasm/function.js';
import type { KernelSignature } from './frame.js';
export function emitMatmul(k: MatmulKernel, exportName: string): { f: FunctionBuilder; signature: KernelSignature } {
  throw new Error('todo');
}

import type { ReductionKernel } from '@kiln/core';
import type { MathLibrary } from '../math/library.js';
import type { FunctionBuilder } from '../wasm/function.js';
import type { KernelSignature } from './frame.js';
export function emitReduction(k: ReductionKernel, exportName: string, math: MathLibrary): { f: FunctionBuilder; signature: KernelSignature } {
  throw new Error('todo');
}

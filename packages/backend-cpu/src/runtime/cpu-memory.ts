// The arena as the executor's device memory (@kiln/lower's DeviceMemory): blocks are byte offsets into the
// wasm memory, kernels are called with the sizes checked first, and resident inputs are read in place.
import type { DeviceMemory, Kernel, LoweredProgram, LoopDType, ProgramBuffer } from '@kiln/lower';
import { BYTES_PER_ELEMENT } from '@kiln/lower';
import type { Tensor, TypedArray } from '@kiln/tensor';
import type { Arena } from './arena.js';
import type { CompiledKernel, CompiledModule } from './compile.js';
import type { ResidentPool } from './resident.js';
import { checkKernelSizes, type KernelSizeCheck } from './size-limits.js';
import type { ProgramStats } from './program.js';

/** The arena as the executor's device memory: blocks are byte offsets into the wasm memory. */
export class CpuMemory implements DeviceMemory<number> {
  /** Per step: its compiled kernel and the sizes to check against the int32 range before it runs. */
  private readonly kernels: (CompiledKernel | undefined)[];
  private readonly sizeChecks: (KernelSizeCheck | undefined)[];

  constructor(
    program: LoweredProgram, module: CompiledModule, private readonly arena: Arena, private readonly pool: ResidentPool, private readonly stats: ProgramStats,
  ) {
    this.kernels = program.steps.map((s) => (s.kind === 'kernel' ? module.kernels.get(s.kernel.name) : undefined));
    this.sizeChecks = this.kernels.map((k) => k?.sizeCheck);
  }

  allocate(elements: number, dtype: LoopDType): number {
    return this.arena.alloc(Math.max(elements * BYTES_PER_ELEMENT[dtype], 1));
  }

  free(block: number): void {
    this.arena.release(block);
  }

  upload(data: TypedArray, _dtype: LoopDType, into: number): void {
    new Uint8Array(this.arena.memory.buffer, into, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  download(block: number, dtype: LoopDType, n: number): TypedArray {
    return this.arena.view(dtype, block, n);
  }

  dispatch(step: number, _kernel: Kernel, blocks: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>): void {
    const sizes = this.sizeChecks[step];
    if (sizes) checkKernelSizes(sizes, params);
    if (this.kernels[step]!.call(blocks, params) > 1) this.stats.threadedKernelCalls++;
  }

  /** A contiguous tensor resident in this arena is read in place; `inputs` holds it, so its block outlives the call. */
  inputBlock(t: Tensor, buffer: ProgramBuffer): number | undefined {
    return t.isContiguous() ? this.pool.pointerOf(t.storage, t.offset, buffer.dtype) : undefined;
  }
}

// Running compiled kernels on JS typed arrays: copy inputs into the arena, call, copy outputs back.
// The copies are the price of JS-owned tensors; `RunStats` reports their share so it can be measured.
import type { Arena, TypedArray } from './arena.js';
import type { CompiledKernel } from './compile.js';

export interface RunStats {
  copyInMs: number;
  kernelMs: number;
  copyOutMs: number;
}

export interface ArrayArgs {
  readonly inputs: Readonly<Record<string, TypedArray>>;
  /** Output arrays, written in place. */
  readonly outputs: Readonly<Record<string, TypedArray>>;
  readonly params?: Readonly<Record<string, number>>;
}

const bytesOf = (a: TypedArray) => a.byteLength;

export function runOnArrays(kernel: CompiledKernel, arena: Arena, args: ArrayArgs, stats?: RunStats): void {
  const t0 = performance.now();
  const pointers: Record<string, number> = {};
  const held: number[] = [];
  try {
    for (const [name, arr] of Object.entries(args.inputs)) {
      const ptr = arena.alloc(bytesOf(arr));
      held.push(ptr);
      pointers[name] = ptr;
      new Uint8Array(arena.memory.buffer, ptr, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    }
    for (const [name, arr] of Object.entries(args.outputs)) {
      const ptr = arena.alloc(bytesOf(arr));
      held.push(ptr);
      pointers[name] = ptr;
    }
    const t1 = performance.now();
    kernel.call(pointers, args.params);
    const t2 = performance.now();
    for (const [name, arr] of Object.entries(args.outputs)) {
      new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(
        new Uint8Array(arena.memory.buffer, pointers[name]!, arr.byteLength),
      );
    }
    const t3 = performance.now();
    if (stats) {
      stats.copyInMs += t1 - t0;
      stats.kernelMs += t2 - t1;
      stats.copyOutMs += t3 - t2;
    }
  } finally {
    for (const p of held.reverse()) arena.release(p);
  }
}

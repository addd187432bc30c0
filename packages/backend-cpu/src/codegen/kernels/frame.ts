// The frame every kernel function shares: signature (buffer pointers, then size parameters, all i32 byte
// addresses or integers), locals for them, and the dtype environment of its buffers.
import type { Kernel, LoopDType, SizeExpr } from '@kiln/lower';
import { bufferMap, type DTypeEnv } from '@kiln/lower';
import { FunctionBuilder, type Local } from '../wasm/function.js';
import type { KernelFrame } from './addressing.js';

export interface KernelSignature {
  /** Buffer names in argument order: inputs, then outputs. */
  readonly buffers: readonly string[];
  /** Size parameter names in argument order, after the buffers. */
  readonly params: readonly string[];
  /** Bytes of scratch memory the kernel needs (matmul packing), passed as a last pointer if > 0. */
  readonly scratchBytes: number;
  /**
   * A kernel threads can share: it takes two more arguments after the scratch pointer (if any), a range
   * [begin, end) of its split axis, so each thread runs its own share of one call. The axis is the output
   * columns for a matmul (multiples of `align`, the register tile's width), the outermost loop otherwise
   * (rows of a reduction, of a pointwise nest, or elements of a one-axis pointwise kernel); `extent` is its
   * full size. Every share computes what one thread would, in the same order, so results are identical.
   * `work` (multiply-adds for a matmul, elements of the iteration space otherwise) decides whether a call
   * is large enough to pay for the hand-off. A matmul's epilogue is then a separate export, run once after
   * every range is done, with the arguments `buffers` (names of the caller's buffers, in order) and the
   * size parameters.
   */
  readonly split?: {
    readonly extent: SizeExpr;
    readonly align: number;
    readonly work: SizeExpr;
    readonly unit: 'macs' | 'elements';
    /** Chunks per thread a split call is cut into, where the runtime's default does not fit (see dispatch.ts). */
    readonly chunksPerThread?: number;
    readonly epilogue?: { readonly exportName: string; readonly buffers: readonly string[] };
  };
}

export function kernelFrame(
  k: Kernel,
  exportName: string,
  scratch = false,
  extra = 0,
): {
  frame: KernelFrame; env: DTypeEnv; signature: Omit<KernelSignature, 'scratchBytes'>; scratchPtr?: Local<'i32'>;
  extra: Local<'i32'>[];
} {
  const buffers = [...k.inputs, ...k.outputs].map((b) => b.name);
  const base = buffers.length + k.params.length + (scratch ? 1 : 0);
  const n = base + extra;
  const f = new FunctionBuilder(exportName, new Array(n).fill('i32'), []);
  const pointers = new Map<string, Local<'i32'>>();
  buffers.forEach((b, i) => pointers.set(b, f.params[i] as Local<'i32'>));
  const params = new Map<string, Local<'i32'>>();
  k.params.forEach((p, i) => params.set(p, f.params[buffers.length + i] as Local<'i32'>));
  const dtypes = new Map<string, LoopDType>([...k.inputs, ...k.outputs].map((b) => [b.name, b.dtype]));
  const env: DTypeEnv = { kernel: k.name, buffers: bufferMap(k.inputs, k.outputs), accs: [] };
  return {
    frame: { f, params, pointers, dtypes },
    env,
    signature: { buffers, params: k.params },
    ...(scratch ? { scratchPtr: f.params[base - 1] as Local<'i32'> } : {}),
    extra: f.params.slice(base) as Local<'i32'>[],
  };
}

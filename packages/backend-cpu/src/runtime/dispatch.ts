// How a compiled kernel is called: arguments in signature order, scratch allocated once per thread, and
// for matmuls the output columns split between threads when the arena has them and the product is big
// enough to pay for the hand-off (≈ 10–30 µs), then the epilogue once on the calling thread.
import type { Kernel, SizeExpr } from '@kiln/lower';
import { evalSize, sizeProduct } from '@kiln/lower';
import type { KernelSignature } from '../codegen/kernels/frame.js';
import type { Arena } from './arena.js';

type Fn = (...args: number[]) => void;

/** Multiply-adds below which a matmul stays on one thread (a 160³ product takes ≈ 0.15 ms). */
export const THREADING_MIN_MACS = 1 << 22;

export interface Exports {
  fn: (name: string) => Fn;
  index: (name: string) => number;
  moduleId: number | undefined;
}

/** A kernel's multiply-adds (0 but for matmul): whether a call is worth splitting between threads. */
export function kernelMacs(kernel: Kernel): SizeExpr {
  return kernel.kind === 'extern' ? sizeProduct([...kernel.batch, kernel.m, kernel.n, kernel.k]) : 0;
}

/**
 * The call of one exported kernel function. Takes only data (signature, `macs`), not the loop IR, so the
 * standalone runtime of AOT modules calls kernels through it too.
 */
export function makeCall(
  macs: SizeExpr, signature: KernelSignature, exportName: string, exports: Exports, arena: Arena,
): (pointers: Readonly<Record<string, number>>, params?: Readonly<Record<string, number>>) => void {
  const fn = exports.fn(exportName);
  const scratch: number[] = [];
  const scratchFor = (thread: number) => (scratch[thread] ||= arena.alloc(signature.scratchBytes));
  const base = (pointers: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>) => {
    const args: number[] = [];
    for (const b of signature.buffers) args.push(pointers[b] ?? missing('buffer', b));
    for (const p of signature.params) args.push(params[p] ?? missing('size parameter', p));
    return args;
  };
  const split = signature.split;
  if (!split) {
    return (pointers, params = {}) => {
      const args = base(pointers, params);
      if (signature.scratchBytes > 0) args.push(scratchFor(0));
      fn(...args);
    };
  }
  const epilogue = split.epilogue ? exports.fn(split.epilogue.exportName) : undefined;
  return (pointers, params = {}) => {
    const args = base(pointers, params);
    const columns = evalSize(split.columns, params);
    const pool = arena.threads;
    const threads = pool ? Math.min(pool.size, Math.floor(columns / split.align)) : 1;
    if (pool && exports.moduleId !== undefined && threads > 1 && evalSize(macs, params) >= THREADING_MIN_MACS) {
      // equal shares of whole NR-column strips
      const strips = columns / split.align;
      const bounds = Array.from({ length: threads + 1 }, (_, t) => (t === threads ? columns : Math.round((strips * t) / threads) * split.align));
      const shares = Array.from({ length: threads }, (_, t) => ({
        exportIndex: exports.index(exportName),
        args: [...args, scratchFor(t), bounds[t]!, bounds[t + 1]!],
      }));
      pool.run(exports.moduleId, shares, (share) => fn(...share.args));
    } else {
      fn(...args, scratchFor(0), 0, columns);
    }
    if (epilogue) {
      const epiArgs: number[] = [];
      for (const b of split.epilogue!.buffers) epiArgs.push(pointers[b] ?? missing('buffer', b));
      for (const p of signature.params) epiArgs.push(params[p]!);
      epilogue(...epiArgs);
    }
  };
}

function missing(what: string, name: string): never {
  throw new TypeError(`backend-cpu: no ${what} '${name}' passed to the kernel`);
}

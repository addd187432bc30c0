// How a compiled kernel is called: arguments in signature order, the arena's scratch block for its thread, and for
// a kernel with a split axis (KernelSignature.split) that axis shared between threads when the arena has them
// and the call is big enough to pay for the hand-off (≈ 10–30 µs to wake a worker), then a matmul's
// epilogue once on the calling thread.
import type { SizeExpr } from '@kiln/lower';
import { evalSize } from '@kiln/lower';
import type { KernelSignature } from '../codegen/kernels/frame.js';
import type { Arena } from './arena.js';
import { SplitChoice } from './split-choice.js';
import { chunkBounds } from './chunk-ranges.js';

type Fn = (...args: number[]) => void;

/** Multiply-adds below which a matmul stays on one thread (a 160³ product takes ≈ 0.15 ms). */
export const THREADING_MIN_MACS = 1 << 22;
/**
 * Elements (of a pointwise kernel's iteration space, or a reduction's input) below which a kernel stays on
 * one thread: 256K elements take ≈ 0.1–0.3 ms, ten times a worker's wake-up.
 */
export const THREADING_MIN_ELEMENTS = 1 << 18;

const MIN_WORK = { macs: THREADING_MIN_MACS, elements: THREADING_MIN_ELEMENTS } as const;

export interface Exports {
  fn: (name: string) => Fn;
  index: (name: string) => number;
  /**
   * The module's id in the arena's thread pool, registering it there on first use (so only modules that
   * run a large kernel are ever sent to the workers); absent where kernels never run on threads (AOT).
   */
  threaded?: () => number;
}

/** A kernel call: runs it, and answers on how many threads it ran (1 unless its split axis was shared). */
export type KernelCall = (pointers: Readonly<Record<string, number>>, params?: Readonly<Record<string, number>>) => number;

/**
 * The call of one exported kernel function. Takes only data (the signature), not the loop IR, so the
 * standalone runtime of AOT modules calls kernels through it too.
 */
export function makeCall(signature: KernelSignature, exportName: string, exports: Exports, arena: Arena): KernelCall {
  const fn = exports.fn(exportName);
  const scratchFor = (thread: number) => arena.scratch(thread, signature.scratchBytes);
  const base = (pointers: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>) => {
    const args: number[] = [];
    for (const b of signature.buffers) args.push(pointers[b] ?? missing('buffer', b));
    for (const p of signature.params) args.push(params[p] ?? missing('size parameter', p));
    if (signature.scratchBytes > 0) args.push(scratchFor(0));
    return args;
  };
  const split = signature.split;
  if (!split) {
    return (pointers, params = {}) => {
      fn(...base(pointers, params));
      return 1;
    };
  }
  const pool = exports.threaded ? arena.threads : undefined;
  const epilogue = split.epilogue ? exports.fn(split.epilogue.exportName) : undefined;
  // A static extent and work (most kernels) are evaluated once: the small-call path then adds no work.
  const extentOf = constantOr(split.extent);
  const workOf = constantOr(split.work);
  const minWork = MIN_WORK[split.unit];
  const exportIndex = exports.index(exportName);
  const runEpilogue = (pointers: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>) => {
    const epiArgs: number[] = [];
    for (const b of split.epilogue!.buffers) epiArgs.push(pointers[b] ?? missing('buffer', b));
    for (const p of signature.params) epiArgs.push(params[p]!);
    epilogue!(...epiArgs);
  };
  // No pool, or a static kernel too small ever to split (most small graphs): the plain call, with no
  // per-call work size, thread count or split choice on the compiled-call path.
  if (!pool || (typeof split.work === 'number' && split.work < minWork)) {
    return (pointers, params = {}) => {
      fn(...base(pointers, params), 0, extentOf(params));
      if (epilogue) runEpilogue(pointers, params);
      return 1;
    };
  }
  const choice = new SplitChoice();
  // the last call's chunk bounds, kept for the next call of the same extent (building them took ≈ 6 µs)
  let cut = { extent: -1, threads: 0, bounds: [] as number[] };
  /** Runs the call split into chunks; answers how many workers were offered some (0 while they boot). */
  const runSplit = (args: number[], extent: number, threads: number): number => {
    if (cut.extent !== extent || cut.threads !== threads) cut = { extent, threads, bounds: chunkBounds(split, extent, threads) };
    const bounds = cut.bounds;
    const argsFor = signature.scratchBytes > 0 ? (t: number) => [...args.slice(0, -1), scratchFor(t)] : () => args;
    return pool!.run(exports.threaded!(), exportIndex, argsFor, bounds, (begin, end) => fn(...args, begin, end));
  };
  return (pointers, params = {}) => {
    const args = base(pointers, params);
    const extent = extentOf(params);
    const work = pool ? workOf(params) : 0;
    let threads = pool && work >= minWork ? Math.min(pool.threads, Math.floor(extent / split.align)) : 1;
    if (threads > 1 && pool!.adaptive) {
      // by measurement: split only where that is faster on this machine now (runtime/split-choice.ts)
      const splitNow = choice.next();
      const t0 = performance.now();
      const offered = splitNow ? runSplit(args, extent, threads) : (fn(...args, 0, extent), 0);
      if (offered > 0 || !splitNow) choice.record(splitNow, performance.now() - t0, work, pool!.lastOfferSpinning);
      if (!splitNow) threads = 1;
    } else if (threads > 1) {
      runSplit(args, extent, threads);
    } else {
      fn(...args, 0, extent);
    }
    if (epilogue) runEpilogue(pointers, params);
    return threads;
  };
}

function constantOr(e: SizeExpr): (params: Readonly<Record<string, number>>) => number {
  return typeof e === 'number' ? () => e : (params) => evalSize(e, params);
}

function missing(what: string, name: string): never {
  throw new TypeError(`backend-cpu: no ${what} '${name}' passed to the kernel`);
}

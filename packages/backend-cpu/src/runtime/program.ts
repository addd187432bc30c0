// Runs a lowered program on the wasm arena through @kiln/lower's ProgramExecutor, which owns the step order,
// the memory plan (allocate before the writing step, free after the last reader), checks, parameters and
// eager steps; the arena's side of it is cpu-memory.ts, and this file is what is CPU-only: inputs read in place
// when they are resident in the arena (a copied input stays there as its tensor's storage), outputs handed
// back as resident tensors over their arena blocks (or copied into new JS arrays when small or over the
// resident budget; recyclable ones recomputed if read after an eviction), the eager recompute a kernel can
// flag, and the eager run of a call the arena cannot hold.
import type { Execution, LoweredProgram, LoopDType, StepTiming } from '@kiln/lower';
import { BYTES_PER_ELEMENT, ProgramExecutor, evalSize } from '@kiln/lower';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { Storage, Tensor as TensorClass, contiguousStridesOf, copyElements } from '@kiln/tensor';
import { ArenaOutOfMemoryError, type Arena } from './arena.js';
import type { CompiledModule } from './compile.js';
import { ResidentBlock, residentPool, type ResidentPool } from './resident.js';
import { residentSettings, warmHeapFor } from './resident-options.js';
import { CpuMemory } from './cpu-memory.js';
import { recipeFor, type RecycleCounts } from './recipe.js';
import { KernelSizeLimitError } from './size-limits.js';
import { runEagerInstead, type EagerRun } from './eager-fallback.js';
import { FixedLayoutCall } from './fixed-call.js';

/** Time spent copying versus computing, summed over calls (the bench reports the copy share). */
export interface ProgramStats {
  calls: number;
  copyInMs: number;
  computeMs: number;
  copyOutMs: number;
  /** Calls whose results came from the eager kernels because a kernel flagged an input (see `eager`). */
  recomputed: number;
  /**
   * Calls run with the eager kernels because the arena could not serve them (ArenaOutOfMemoryError) or a
   * size was past the kernels' int32 range (KernelSizeLimitError).
   */
  eagerCalls: number;
  /** Kernel calls split between threads (large enough to pay; see runtime/dispatch.ts), counted on every call. */
  threadedKernelCalls: number;
}

export class ProgramRunner {
  readonly stats: ProgramStats = { calls: 0, copyInMs: 0, computeMs: 0, copyOutMs: 0, recomputed: 0, eagerCalls: 0, threadedKernelCalls: 0 };
  private readonly constantPointers = new Map<string, number>();
  private readonly pool: ResidentPool;
  private readonly executor: ProgramExecutor<number>;
  private warnedEager = false;
  /** The small-call path (runtime/fixed-call.ts); off while calls are measured or their steps timed. */
  private fixed: FixedLayoutCall | undefined;
  measure = false;
  /**
   * Whether this program's output may be recyclable (see `recyclableRecipe`): one tensor output, pointwise
   * and row kernels only (a recomputation costs about what the copy it saves does; a matmul's would cost
   * far more), no eager step (random, data-dependent) and no input written.
   */
  private readonly recyclable: boolean;
  readonly recycleCounts: RecycleCounts = { evicted: 0, recomputed: 0 };
  /** Bytes of the output block of the last call (makeRoom frees this much before the next allocates it). */
  private lastOutputBytes = 0;
  /** Whether a kernel of the last call split between threads (the next call prewakes the workers). */
  private splitLastCall = false;

  /**
   * @param eager runs the call with the eager kernels instead (the graph on the interpreter). Used when a
   *   kernel flags an input its fast path cannot compute as eager does (sin/cos of |x| > 1e5, an overflowing
   *   float32 sum; see codegen/imprecise.ts), when the arena cannot hold the call's buffers, and when a size
   *   is past the kernels' int32 range. Programs never write their inputs, so it sees them unchanged.
   *   Without it those calls raise ArenaOutOfMemoryError / KernelSizeLimitError.
   */
  constructor(
    readonly program: LoweredProgram,
    readonly module: CompiledModule,
    readonly arena: Arena,
    private readonly eager?: EagerRun,
  ) {
    this.pool = residentPool(arena);
    this.executor = new ProgramExecutor(program, new CpuMemory(program, module, arena, this.pool, this.stats));
    // Constants (captured weights) are copied into the arena once, not on every call; if one does not fit,
    // those already copied are given back, so a failed compile leaves the arena as it was.
    try {
      for (const b of program.buffers) {
        const constant = (b as { constant?: Tensor }).constant;
        if (!constant) continue;
        const data = constant.toTypedArray();
        const ptr = arena.alloc(Math.max(data.byteLength, 1));
        new Uint8Array(arena.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        this.constantPointers.set(b.name, ptr);
      }
    } catch (err) {
      for (const ptr of this.constantPointers.values()) arena.release(ptr);
      throw err;
    }
    this.fixed = FixedLayoutCall.of(program, module, arena, this.pool, this.constantPointers);
    this.recyclable =
      program.outputs.length === 1 && program.outputs[0]!.kind === 'tensor' && this.executor.writtenInputs.size === 0 &&
      program.steps.every((s) => s.kind === 'kernel' && s.kernel.kind !== 'extern');
  }

  /**
   * Runs the program on its inputs (tensors and scalars, in graph order). A call the arena cannot hold, or
   * whose sizes are past the kernels' int32 range, runs with the eager kernels when the runner has them
   * (one warning per program); every block it took is given back first, so the arena is as before.
   */
  run(inputs: readonly unknown[]): unknown[] {
    if (this.splitLastCall) this.arena.threads?.prewake();
    if (this.pool.evicted > 0) recomputeEvictedInputs(inputs);
    if (this.lastOutputBytes > 0 && this.pool.canEvict && recomputing === 0) this.pool.makeRoom(this.lastOutputBytes, inputs);
    try {
      if (this.fixed && !this.measure && this.fixed.applies()) {
        return this.fixed.run(inputs, this.checksFlag) ?? this.recompute(inputs);
      }
      return this.runInArena(inputs);
    } catch (err) {
      if (!(err instanceof ArenaOutOfMemoryError || err instanceof KernelSizeLimitError) || !this.eager) throw err;
      this.stats.eagerCalls++;
      const warn = !this.warnedEager;
      this.warnedEager = true;
      return runEagerInstead(this.eager, inputs, err, warn);
    }
  }

  private runInArena(inputs: readonly unknown[]): unknown[] {
    const { program, arena, executor } = this;
    const t0 = this.measure ? performance.now() : 0;
    const x = executor.start(inputs, this.constantPointers.size ? Object.fromEntries(this.constantPointers) : {});
    try {
      executor.bindInputs(x);
      // Inputs just copied in that may stay in the arena as their tensors' storage (see keepsInput); they
      // move there only once the call succeeded.
      const keep = x.owned.length ? this.inputsToKeep(x) : undefined;
      const t1 = this.measure ? performance.now() : 0;
      const flagged = this.module.setsImpreciseFlag && this.eager;
      if (flagged) arena.flagWord()[0] = 0;
      const splits = this.stats.threadedKernelCalls;
      executor.run(x); // synchronous: CpuMemory never answers with a promise
      this.splitLastCall = this.stats.threadedKernelCalls > splits;
      if (flagged && arena.flagWord()[0] !== 0) {
        this.stats.recomputed++;
        return this.eager!(inputs);
      }
      const t2 = this.measure ? performance.now() : 0;
      // Inputs first: a kept input saves a copy on every later call with the same tensor, a resident output
      // one copy out, so when the burst budget (ResidentOptions.burstBytes) admits only some, inputs win.
      if (keep) {
        for (const { t, name, blockBytes } of keep) {
          if (!this.pool.admitsInput(blockBytes) || !executor.release(x, name)) continue;
          this.pool.moveIn(t.storage, x.blocks[name]!, blockBytes, t.numel, executor.buffers.get(name)!.dtype);
        }
      }
      let handedOut: Map<string, Storage> | undefined; // outputs returned twice share their block (copy-on-write)
      const outputs = program.outputs.map((o) => {
        if (o.kind === 'constant') return o.value;
        if (o.kind === 'size') return evalSize(o.value, x.params);
        const shape = executor.outputShape(o.shape, x);
        const numel = shape.reduce((a, b) => a * b, 1);
        const storage = handedOut?.get(o.buffer)?.cowClone() ?? this.adoptOutput(o.buffer, numel, o.dtype, x);
        if (storage) {
          (handedOut ??= new Map()).set(o.buffer, storage);
          return new TensorClass(storage, shape, contiguousStridesOf(shape), 0, o.dtype);
        }
        // One allocation that is not zero-filled, and one copy (copyElements: slice() and a zeroed array
        // filled with set() write the block twice). Nothing else references the copy, so a consuming read
        // hands it out as it is (Storage.ofCopy).
        const copy = Storage.ofCopy(copyElements(arena.view(o.dtype, x.blocks[o.buffer]!, numel)), o.dtype);
        return new TensorClass(copy, shape, contiguousStridesOf(shape), 0, o.dtype);
      });
      if (this.measure) {
        const t3 = performance.now();
        this.stats.calls++;
        this.stats.copyInMs += t1 - t0;
        this.stats.computeMs += t2 - t1;
        this.stats.copyOutMs += t3 - t2;
      }
      return outputs;
    } finally {
      executor.finish(x);
    }
  }

  /** Whether a call must check the word kernels set to ask for an eager recompute (see `eager`). */
  private get checksFlag(): boolean {
    return this.module.setsImpreciseFlag && this.eager !== undefined;
  }

  /** Whether calls take the fixed layout of a small static program (runtime/fixed-call.ts). */
  get fixedLayout(): boolean {
    return this.fixed !== undefined;
  }

  /** The call's results from the eager kernels, for a call a kernel flagged (see `eager`). */
  private recompute(inputs: readonly unknown[]): unknown[] {
    this.stats.recomputed++;
    return this.eager!(inputs);
  }

  /** Starts timing each step of later calls (a profiler asks; see stepTimes). */
  timeSteps(): void {
    this.fixed = undefined; // steps are timed by the executor
    this.executor.timeSteps();
  }

  /** Calls and ms per step since timeSteps(); `opsOf` names the graph ops a kernel computes. */
  stepTimes(opsOf: (kernel: string) => readonly string[]): StepTiming[] {
    return this.executor.stepTimes(opsOf);
  }

  /** The uploaded inputs that may stay in the arena as their tensors' storage. */
  private inputsToKeep(x: Execution<number>): { t: Tensor; name: string; blockBytes: number }[] {
    const keep: { t: Tensor; name: string; blockBytes: number }[] = [];
    for (const name of x.owned) {
      const b = this.executor.buffers.get(name)!;
      const t = x.inputs[b.input!] as Tensor;
      const blockBytes = Math.max(t.numel * BYTES_PER_ELEMENT[b.dtype], 1);
      if (this.keepsInput(t, name, blockBytes)) keep.push({ t, name, blockBytes });
    }
    return keep;
  }

  /**
   * Whether an input just copied in should stay in the arena as its tensor's storage, so later calls with
   * the same tensor read it in place: the tensor must cover its whole storage (no other bytes to keep in
   * JS), be in JS memory, not be written by a step, and the pool must admit the block.
   */
  private keepsInput(t: Tensor, name: string, blockBytes: number): boolean {
    return (
      t.offset === 0 && t.storage.external === null && t.isContiguous() && t.numel === t.storage.size &&
      !this.executor.writtenInputs.has(name) && this.pool.admitsInput(blockBytes)
    );
  }

  /**
   * Hands an output's block to the resident pool, taking it off this call's list of blocks to release, so
   * no later call can reuse it while a tensor reads it. Undefined (copy out) when the block is not this
   * call's own allocation (an input's or a constant's) or the pool does not admit it.
   */
  private adoptOutput(name: string, numel: number, dtype: LoopDType, x: Execution<number>): Storage | undefined {
    const buffer = this.executor.buffers.get(name);
    if (!buffer || buffer.input !== undefined || !x.owned.includes(name)) return undefined;
    const blockBytes = Math.max(evalSize(buffer.numel, x.params) * BYTES_PER_ELEMENT[dtype], 1);
    warmHeapFor(blockBytes); // a large output is read or copied out into fresh arrays
    this.lastOutputBytes = blockBytes >= residentSettings.minBytes ? blockBytes : 0;
    if (!this.pool.admits(blockBytes)) return undefined;
    this.executor.release(x, name);
    return this.pool.adopt(x.blocks[name]!, blockBytes, numel, dtype, this.recyclableRecipe(x.inputs));
  }

  /**
   * How to compute this call's output again, when it may be evicted (ResidentPool.makeRoom) rather than
   * copied out: the program qualifies (`recyclable`), its tensor inputs are resident in this pool and not
   * recyclable themselves (no chains of recomputations), and its outputs were seldom read after an eviction
   * (at most one in four, after the first few: a loop that keeps its results and reads them later pays a
   * kernel per read instead of a copy per call, so such a program goes back to copying out).
   */
  private recyclableRecipe(inputs: readonly unknown[]) {
    const counts = this.recycleCounts;
    if (!this.recyclable || !residentSettings.recompute || recomputing > 0 || counts.recomputed > 2 + counts.evicted / 4) return undefined;
    for (const t of inputs) {
      if (!(t instanceof TensorClass)) continue;
      const block = t.storage.external;
      if (!(block instanceof ResidentBlock) || block.pool !== this.pool || block.recipe || block.evicted) return undefined;
    }
    return recipeFor(inputs, (snapshots) => this.recomputeOutput(snapshots), counts);
  }

  /** The output of a call on `inputs` (snapshots of an evicted output's inputs) as a new JS array. */
  private recomputeOutput(inputs: readonly unknown[]): TypedArray {
    recomputing++;
    try {
      // runInArena, never the eager kernels: a read must see the bits the first call computed
      const [out] = this.runInArena(inputs) as [Tensor];
      return out.toTypedArray({ dispose: true });
    } finally {
      recomputing--;
    }
  }
}

/** Recomputations in progress: their outputs are not recyclable and they evict nothing. */
let recomputing = 0;

/**
 * Recomputes evicted inputs before a call takes any arena block: read in the middle of the call, their
 * recomputation would allocate under the call's views of the memory.
 */
function recomputeEvictedInputs(inputs: readonly unknown[]): void {
  for (const t of inputs) {
    if (!(t instanceof TensorClass)) continue;
    const block = t.storage.external;
    if (block instanceof ResidentBlock && block.evicted) block.view();
  }
}

// Runs a lowered program: binds size parameters from the inputs' shapes, copies inputs into the arena
// (or passes resident ones by pointer; a copied input stays there as its tensor's storage), runs kernels and eager fallbacks in order, frees each intermediate
// after its last reader (memory planning by liveness), and hands the outputs back as resident tensors over
// their arena blocks (or copies them into new JS arrays when small or over the resident budget).
import type { FallbackStep, LoweredProgram, LoopDType, StepTiming } from '@kiln/lower';
import { evalSize, paramValue, planMemory, printSize, resolveScalarArg, runCheck } from '@kiln/lower';
import type { SizeExpr } from '@kiln/lower';
import { withUserFrame } from '@kiln/graph';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, allocate, contiguousStridesOf, getOp } from '@kiln/tensor';
import { BYTES_PER_ELEMENT } from '@kiln/lower';
import { ArenaOutOfMemoryError, type Arena } from './arena.js';
import type { CompiledModule } from './compile.js';
import { residentPool, type ResidentPool } from './resident.js';
import { KernelSizeLimitError, checkKernelSizes, kernelSizeCheck, type KernelSizeCheck } from './size-limits.js';
import { runEagerInstead, type EagerRun } from './eager-fallback.js';

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
}

export class ProgramRunner {
  readonly stats: ProgramStats = { calls: 0, copyInMs: 0, computeMs: 0, copyOutMs: 0, recomputed: 0, eagerCalls: 0 };
  private readonly constantPointers = new Map<string, number>();
  /** Built once: the call path looks buffers up by name for every allocation. */
  private readonly buffersByName: ReadonlyMap<string, LoweredProgram['buffers'][number]>;
  /** Buffers each step writes (allocated just before it) and those dead after it (released right after). */
  private readonly allocBefore: string[][];
  private readonly freeAfter: string[][];
  /** Input buffers some step writes: never passed by pointer, so a caller's tensor is never changed. */
  private readonly writtenInputs = new Set<string>();
  private readonly pool: ResidentPool;
  /** Per step: the kernel's sizes to check against the int32 range before it runs (size-limits.ts). */
  private readonly sizeChecks: (KernelSizeCheck | undefined)[];
  private warnedEager = false;
  measure = false;
  /** Per step: calls and ms since timeSteps() (a profiler); undefined keeps the call path free of clock reads. */
  private stepClock: { readonly calls: number[]; readonly ms: number[] } | undefined;

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
    this.sizeChecks = program.steps.map((s) => (s.kind === 'kernel' ? kernelSizeCheck(s.kernel) : undefined));
    this.buffersByName = new Map(program.buffers.map((b) => [b.name, b]));
    const plan = planMemory(program);
    this.allocBefore = plan.allocBefore;
    this.freeAfter = plan.freeAfter;
    this.pool = residentPool(arena);
    // Lowering never writes an input (core replays in-place ops with an eager copy_ after the call), but
    // zero-copy inputs rely on it, so an input some step writes is always copied in.
    for (const step of program.steps) {
      const writes = step.kind === 'kernel' ? step.kernel.outputs.map((o) => o.name) : step.kind === 'fallback' && step.output ? [step.output.buffer] : [];
      for (const name of writes) if (program.buffers.find((b) => b.name === name)?.input !== undefined) this.writtenInputs.add(name);
    }
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
  }

  /**
   * Runs the program on its inputs (tensors and scalars, in graph order). A call the arena cannot hold, or
   * whose sizes are past the kernels' int32 range, runs with the eager kernels when the runner has them
   * (one warning per program); every block it took is given back first, so the arena is as before.
   */
  run(inputs: readonly unknown[]): unknown[] {
    try {
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
    const { program, arena } = this;
    const t0 = this.measure ? performance.now() : 0;
    const params: Record<string, number> = {};
    // Float scalar inputs as passed: kernels get their float32 bits, eager fallbacks the exact number.
    const floats: Record<string, number> = {};
    for (const p of program.params) {
      params[p.param] = paramValue(p, inputs);
      if ('scalar' in p && p.scalar === 'float32') floats[p.param] = inputs[p.input] as number;
    }
    const pointers: Record<string, number> = Object.fromEntries(this.constantPointers);
    const owned: string[] = [];
    // Inputs to keep in the arena (see keepsInput) move there only once the call succeeded.
    const keep: { t: Tensor; name: string; blockBytes: number }[] = [];
    try {
      for (const b of program.buffers) {
        if (b.input === undefined) continue;
        const t = inputs[b.input] as Tensor;
        checkInput(t, b.input, b.dtype, b.shape ?? []);
        const contiguous = t.isContiguous();
        // Resident in this arena: read in place. `inputs` holds the tensor, so its block outlives the call.
        const resident = contiguous && !this.writtenInputs.has(b.name) ? this.pool.pointerOf(t.storage, t.offset, b.dtype) : undefined;
        if (resident !== undefined) {
          pointers[b.name] = resident;
          continue;
        }
        const bytes = t.numel * BYTES_PER_ELEMENT[b.dtype];
        const blockBytes = Math.max(bytes, 1);
        const ptr = arena.alloc(blockBytes);
        pointers[b.name] = ptr;
        // The source is read only after alloc: growing the memory detaches views of it (a resident
        // tensor of another arena is unaffected, but its view is taken fresh anyway).
        const data = contiguous ? t.storage.data.subarray(t.offset, t.offset + t.numel) : t.toTypedArray();
        new Uint8Array(arena.memory.buffer, ptr, bytes).set(new Uint8Array(data.buffer, data.byteOffset, bytes));
        owned.push(b.name);
        if (this.keepsInput(t, b.name, blockBytes)) keep.push({ t, name: b.name, blockBytes });
      }
      const t1 = this.measure ? performance.now() : 0;
      const flagged = this.module.setsImpreciseFlag && this.eager;
      if (flagged) arena.flagWord()[0] = 0;
      program.steps.forEach((step, i) => {
        for (const name of this.allocBefore[i]!) {
          const b = this.buffersByName.get(name)!;
          pointers[name] = arena.alloc(Math.max(evalSize(b.numel, params) * BYTES_PER_ELEMENT[b.dtype], 1));
          owned.push(name);
        }
        const sizes = this.sizeChecks[i];
        if (sizes) checkKernelSizes(sizes, params);
        const started = this.stepClock ? performance.now() : 0;
        if (step.kind === 'kernel') this.module.kernels.get(step.kernel.name)!.call(pointers, params);
        // A check (index range before an indirect load) raises as the eager kernel would, at the user's line.
        else if (step.kind === 'check') {
          try {
            runCheck(step, params, (name, n) => arena.view('int32', pointers[name]!, n));
          } catch (err) {
            throw step.check === 'assert' ? err : withUserFrame(err, step.op, step.source); // an assert's error has its frame
          }
        } else this.runFallback(step, pointers, params, floats, owned);
        if (this.stepClock) {
          this.stepClock.ms[i]! += performance.now() - started;
          this.stepClock.calls[i]!++;
        }
        for (const name of this.freeAfter[i]!) {
          arena.release(pointers[name]!);
          owned.splice(owned.indexOf(name), 1);
        }
      });
      if (flagged && arena.flagWord()[0] !== 0) {
        this.stats.recomputed++;
        return this.eager!(inputs);
      }
      const t2 = this.measure ? performance.now() : 0;
      let handedOut: Map<string, Storage> | undefined; // outputs returned twice share their block (copy-on-write)
      const outputs = program.outputs.map((o) => {
        if (o.kind === 'constant') return o.value;
        if (o.kind === 'size') return evalSize(o.value, params);
        const shape = o.shape.map((s) => evalSize(s, params));
        const numel = shape.reduce((a, b) => a * b, 1);
        const storage = handedOut?.get(o.buffer)?.cowClone() ?? this.adoptOutput(o.buffer, numel, o.dtype, params, owned, pointers);
        if (storage) {
          (handedOut ??= new Map()).set(o.buffer, storage);
          return new TensorClass(storage, shape, contiguousStridesOf(shape), 0, o.dtype);
        }
        // slice(): one uninitialised allocation and one copy. A zeroed `new Float32Array(n)` filled with set()
        // writes the block twice, or faults in fresh pages (calloc maps them): 4 MB took 10–20% longer.
        return TensorClass.fromData(arena.view(o.dtype, pointers[o.buffer]!, numel).slice(), shape, o.dtype);
      });
      for (const { t, name, blockBytes } of keep) {
        if (!this.pool.admitsInput(blockBytes)) continue;
        owned.splice(owned.indexOf(name), 1);
        this.pool.moveIn(t.storage, pointers[name]!, blockBytes, t.numel, this.buffersByName.get(name)!.dtype);
      }
      if (this.measure) {
        const t3 = performance.now();
        this.stats.calls++;
        this.stats.copyInMs += t1 - t0;
        this.stats.computeMs += t2 - t1;
        this.stats.copyOutMs += t3 - t2;
      }
      return outputs;
    } finally {
      for (const name of owned) arena.release(pointers[name]!);
    }
  }

  /** Starts timing each step of later calls (see stepTimes). */
  timeSteps(): void {
    this.stepClock ??= { calls: this.program.steps.map(() => 0), ms: this.program.steps.map(() => 0) };
  }

  /** Calls and ms per step since timeSteps(); `opsOf` names the graph ops a kernel computes. */
  stepTimes(opsOf: (kernel: string) => readonly string[]): StepTiming[] {
    const clock = this.stepClock;
    if (!clock) return [];
    return this.program.steps.map((step, i) => {
      const [calls, ms] = [clock.calls[i]!, clock.ms[i]!];
      if (step.kind === 'kernel') return { name: step.kernel.name, kind: 'kernel', ops: opsOf(step.kernel.name), calls, ms };
      if (step.kind === 'check') return { name: step.check === 'assert' ? 'runtime assert' : `index check (${step.op})`, kind: 'check', ops: step.check === 'assert' ? [] : [step.op], calls, ms };
      return { name: `${step.node ? `%${step.node} ` : ''}${step.op}`, kind: 'eager', ops: [step.op], calls, ms };
    });
  }

  /**
   * Whether an input just copied in should stay in the arena as its tensor's storage, so later calls with
   * the same tensor read it in place: the tensor must cover its whole storage (no other bytes to keep in
   * JS), be in JS memory, not be written by a step, and the pool must admit the block.
   */
  private keepsInput(t: Tensor, name: string, blockBytes: number): boolean {
    return (
      t.offset === 0 && t.storage.external === null && t.isContiguous() && t.numel === t.storage.size &&
      !this.writtenInputs.has(name) && this.pool.admitsInput(blockBytes)
    );
  }

  /**
   * Hands an output's block to the resident pool, taking it off this call's list of blocks to release, so
   * no later call can reuse it while a tensor reads it. Undefined (copy out) when the block is not this
   * call's own allocation (an input's or a constant's) or the pool does not admit it.
   */
  private adoptOutput(
    name: string, numel: number, dtype: LoopDType, params: Record<string, number>, owned: string[], pointers: Record<string, number>,
  ): Storage | undefined {
    const index = owned.indexOf(name);
    const buffer = this.buffersByName.get(name);
    if (index < 0 || !buffer || buffer.input !== undefined) return undefined;
    const blockBytes = Math.max(evalSize(buffer.numel, params) * BYTES_PER_ELEMENT[dtype], 1);
    if (!this.pool.admits(blockBytes)) return undefined;
    owned.splice(index, 1);
    return this.pool.adopt(pointers[name]!, blockBytes, numel, dtype);
  }

  /** Runs one node with its eager kernel on tensors read out of the arena, and writes the result back. */
  private runFallback(step: FallbackStep, pointers: Record<string, number>, params: Record<string, number>, floats: Record<string, number>, owned: string[]): void {
    const toTensor = (a: unknown): unknown => {
      if (Array.isArray(a)) return a.map(toTensor);
      a = resolveScalarArg(a, params, floats);
      if (a && typeof a === 'object' && 'buffer' in a && 'strides' in a) {
        const d = a as { buffer: string; shape: []; strides: []; offset: number; dtype: LoopDType };
        const buffer = this.program.buffers.find((b) => b.name === d.buffer)!;
        const data = this.arena.view(d.dtype, pointers[d.buffer]!, evalSize(buffer.numel, params)).slice();
        const shape = d.shape.map((s) => evalSize(s, params));
        const strides = d.strides.map((s) => evalSize(s, params));
        return new TensorClass(new Storage(data as TypedArray, d.dtype), shape, strides, evalSize(d.offset, params), d.dtype);
      }
      return a;
    };
    const op = getOp(step.op)!;
    const kwargs = Object.fromEntries(Object.entries(step.kwargs).map(([key, v]) => [key, resolveScalarArg(v, params, floats)]));
    let result: Tensor | number | boolean;
    try {
      result = op.fn(...step.args.map(toTensor), kwargs) as Tensor | number | boolean;
    } catch (err) {
      throw withUserFrame(err, step.op, step.source);
    }
    // Data-dependent sizes become parameters before anything sized by them is allocated.
    for (const bind of step.binds) {
      params[bind.param] = bind.dim === 'value' ? Number(result) : (result as Tensor).shape[bind.dim]!;
    }
    if (!step.output) return;
    const data = (result as Tensor).toTypedArray();
    const ptr = this.arena.alloc(Math.max(data.byteLength, 1));
    pointers[step.output.buffer] = ptr;
    owned.push(step.output.buffer);
    new Uint8Array(this.arena.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
}

/** Guards normally keep wrong inputs away; this cheap check makes sure bytes are never misread anyway. */
function checkInput(t: Tensor, index: number, dtype: LoopDType, shape: readonly SizeExpr[]): void {
  const fits = t instanceof TensorClass && t.dtype === dtype && t.ndim === shape.length && shape.every((s, d) => typeof s !== 'number' || s === t.shape[d]);
  if (!fits) {
    throw new KilnError(
      `compiled program: input ${index} must be a ${dtype} tensor of rank ${shape.length} [${shape.map(printSize).join(', ')}], got ${t instanceof TensorClass ? `${t.dtype}[${t.shape.join(', ')}]` : typeof t}`,
      'recompile for these inputs (compile() does this through its guards)',
    );
  }
}

// The device-neutral program executor: runs a LoweredProgram's steps in order over a small device-memory
// interface (allocate, free, upload, download, dispatch). It owns what every backend would otherwise repeat:
// parameter values from the inputs, the input checks, the memory plan (allocate before the writing step,
// free after the last reader), check steps, and eager steps (arguments read back, the op's eager kernel run
// on the host, data-dependent sizes bound, the result uploaded). A backend implements only `DeviceMemory`
// and decides what its outputs become.
//
// The CPU path is hot (a compiled call is a few µs): everything per program is computed in the constructor,
// and a call makes one state object and no closures. On a synchronous device the step loop never makes a
// promise; where the device answers with one (a download, a pipeline still compiling), the loop continues
// from that step once it settles, so the same code serves the asynchronous GPU.
import { withUserFrame } from '@kiln/graph';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, getOp } from '@kiln/tensor';
import type { Kernel, LoopDType, SizeExpr } from '../loop-ir/loop-ir.js';
import { evalSize, printSize } from '../loop-ir/sizes.js';
import { planMemory } from './memory-plan.js';
import { paramValue, resolveScalarArg } from './params.js';
import type { CheckStep, FallbackStep, LoweredProgram, ProgramBuffer } from './program.js';
import type { StepTiming } from '../backend/contract.js';
import { runCheck } from './program.js';

/** What a device gives the executor; `B` is its handle to a block of device memory. */
export interface DeviceMemory<B> {
  /** A block for `elements` elements of `dtype` (0 elements still gets a block). */
  allocate(elements: number, dtype: LoopDType): B;
  free(block: B): void;
  /** Copies host elements into a block (the data is read only now: allocating may move device memory). */
  upload(data: TypedArray, dtype: LoopDType, into: B): void;
  /** The first `n` elements of a block on the host (a Promise on an asynchronous device). */
  download(block: B, dtype: LoopDType, n: number): TypedArray | Promise<TypedArray>;
  /** Runs the kernel of step `step` over the call's blocks, with the call's parameter values. */
  dispatch(step: number, kernel: Kernel, blocks: Readonly<Record<string, B>>, params: Readonly<Record<string, number>>): void | Promise<void>;
  /**
   * Optional: the block an input tensor can be read from in place (a tensor already in this device's
   * memory), or undefined to have it uploaded. Never asked for an input some step writes.
   */
  inputBlock?(t: Tensor, buffer: ProgramBuffer): B | undefined;
}

/** One call's state: made by `start`, passed to the other methods, released by `finish`. */
export interface Execution<B> {
  readonly inputs: readonly unknown[];
  /** The memory this call runs on (a device with per-call state, such as a GPU command encoder, gives one per call). */
  readonly device: DeviceMemory<B>;
  /** Parameter values (sizes, int scalars, float scalars as their float32 bits), data-dependent ones as bound. */
  readonly params: Record<string, number>;
  /** Float scalar inputs as passed (eager steps get the exact number). */
  readonly floats: Record<string, number>;
  readonly blocks: Record<string, B>;
  /** Buffers whose blocks this call allocated and still holds: `finish` frees them. */
  readonly owned: string[];
}

export class ProgramExecutor<B> {
  readonly buffers: ReadonlyMap<string, ProgramBuffer>;
  private readonly allocBefore: readonly (readonly string[])[];
  private readonly freeAfter: readonly (readonly string[])[];
  private readonly inputBuffers: readonly ProgramBuffer[];
  private readonly floatParams: readonly { readonly param: string; readonly input: number }[];
  /** Input buffers some step writes: always uploaded, so a caller's tensor is never changed. */
  readonly writtenInputs: ReadonlySet<string>;
  /** Per step: calls and ms since timeSteps() (a profiler); undefined keeps the hot loop free of clock reads. */
  private stepClock: { readonly calls: number[]; readonly ms: number[] } | undefined;

  /** `device`: the memory calls run on unless `start` is given another (then it may be left out). */
  constructor(readonly program: LoweredProgram, private readonly device?: DeviceMemory<B>) {
    this.buffers = new Map(program.buffers.map((b) => [b.name, b]));
    const plan = planMemory(program);
    this.allocBefore = plan.allocBefore;
    this.freeAfter = plan.freeAfter;
    this.inputBuffers = program.buffers.filter((b) => b.input !== undefined);
    this.floatParams = program.params.flatMap((p) => ('scalar' in p && p.scalar === 'float32' ? [{ param: p.param, input: p.input }] : []));
    const written = new Set<string>();
    for (const step of program.steps) {
      const writes = step.kind === 'kernel' ? step.kernel.outputs.map((o) => o.name) : step.kind === 'fallback' && step.output ? [step.output.buffer] : [];
      for (const name of writes) if (this.buffers.get(name)?.input !== undefined) written.add(name);
    }
    this.writtenInputs = written;
  }

  /** Binds the parameters of a call and presets `blocks` (constants, outputs a caller placed). */
  start(inputs: readonly unknown[], blocks: Record<string, B> = {}, device: DeviceMemory<B> = this.device!): Execution<B> {
    const params: Record<string, number> = {};
    for (const p of this.program.params) params[p.param] = paramValue(p, inputs);
    const floats: Record<string, number> = {};
    for (const p of this.floatParams) floats[p.param] = inputs[p.input] as number;
    return { inputs, device, params, floats, blocks, owned: [] };
  }

  /**
   * Checks each input tensor against its buffer (dtype, rank, static sizes) and gives it a block: the
   * device's in-place block, or an upload of its elements (into the block already set, or one the call owns).
   */
  bindInputs(x: Execution<B>): void {
    for (const b of this.inputBuffers) {
      const t = x.inputs[b.input!] as Tensor;
      checkInput(t, b.input!, b.dtype, b.shape ?? []);
      const inPlace = this.writtenInputs.has(b.name) ? undefined : x.device.inputBlock?.(t, b);
      if (inPlace !== undefined) {
        x.blocks[b.name] = inPlace;
        continue;
      }
      // A block the caller placed (an input that is also an output) is filled; otherwise the call owns one.
      let block = x.blocks[b.name];
      if (block === undefined) {
        block = x.blocks[b.name] = x.device.allocate(t.numel, b.dtype);
        x.owned.push(b.name);
      }
      // Read after allocating: growing a wasm memory detaches views of it (a tensor resident there).
      const data = t.isContiguous() ? t.storage.data.subarray(t.offset, t.offset + t.numel) : t.toTypedArray();
      x.device.upload(data as TypedArray, b.dtype, block);
    }
  }

  /** Runs every step in order; a Promise only when the device answered with one. */
  run(x: Execution<B>): void | Promise<void> {
    return this.runFrom(0, x);
  }

  private runFrom(first: number, x: Execution<B>): void | Promise<void> {
    const steps = this.program.steps;
    for (let i = first; i < steps.length; i++) {
      const started = this.stepClock ? performance.now() : 0;
      const pending = this.runStep(i, x);
      // A step that waits on the device is not timed: host time says nothing about the device's.
      if (pending !== undefined) return pending.then(() => (this.freeDead(i, x), this.runFrom(i + 1, x)));
      if (this.stepClock) {
        this.stepClock.ms[i]! += performance.now() - started;
        this.stepClock.calls[i]!++;
      }
      this.freeDead(i, x);
    }
    return undefined;
  }

  /** Starts timing each step of later calls (read back with stepTimes); it costs two clock reads per step. */
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

  private runStep(i: number, x: Execution<B>): Promise<void> | undefined {
    const step = this.program.steps[i]!;
    for (const name of this.allocBefore[i]!) {
      if (x.blocks[name] !== undefined) continue; // an output block the caller placed
      const b = this.buffers.get(name)!;
      x.blocks[name] = x.device.allocate(evalSize(b.numel, x.params), b.dtype);
      x.owned.push(name);
    }
    if (step.kind === 'kernel') return x.device.dispatch(i, step.kernel, x.blocks, x.params) ?? undefined;
    if (step.kind === 'check') return this.check(step, x);
    return this.eagerStep(step, x);
  }

  private freeDead(i: number, x: Execution<B>): void {
    for (const name of this.freeAfter[i]!) {
      x.device.free(x.blocks[name]!);
      x.owned.splice(x.owned.indexOf(name), 1);
    }
  }

  /** A check raises as the eager kernel would, at the user's line (an assert's error carries its own). */
  private check(step: CheckStep, x: Execution<B>): Promise<void> | undefined {
    const verify = (data: ArrayLike<number>) => {
      try {
        runCheck(step, x.params, () => data);
      } catch (err) {
        throw step.check === 'assert' ? err : withUserFrame(err, step.op, step.source);
      }
    };
    if (step.check === 'assert') return void verify([]);
    const data = x.device.download(x.blocks[step.buffer]!, 'int32', 2);
    return data instanceof Promise ? data.then(verify) : void verify(data);
  }

  /** Runs one node with its eager kernel on the host: tensor arguments read back, the result uploaded. */
  private eagerStep(step: FallbackStep, x: Execution<B>): Promise<void> | undefined {
    const pending: Promise<unknown>[] = [];
    const toArg = (a: unknown): unknown => {
      if (Array.isArray(a)) return a.map(toArg);
      a = resolveScalarArg(a, x.params, x.floats);
      if (!(a && typeof a === 'object' && 'buffer' in a && 'strides' in a)) return a;
      const d = a as { buffer: string; shape: readonly SizeExpr[]; strides: readonly SizeExpr[]; offset: SizeExpr; dtype: LoopDType };
      const n = evalSize(this.buffers.get(d.buffer)!.numel, x.params);
      const shape = d.shape.map((s) => evalSize(s, x.params));
      const strides = d.strides.map((s) => evalSize(s, x.params));
      const offset = evalSize(d.offset, x.params);
      const data = x.device.download(x.blocks[d.buffer]!, d.dtype, n);
      if (!(data instanceof Promise)) return new TensorClass(new Storage(data.slice() as TypedArray, d.dtype), shape, strides, offset, d.dtype);
      const slot = new PendingTensor();
      pending.push(data.then((bytes) => (slot.tensor = new TensorClass(new Storage(bytes as TypedArray, d.dtype), shape, strides, offset, d.dtype))));
      return slot;
    };
    const args = step.args.map(toArg);
    const run = () => this.finishEagerStep(step, x, pending.length ? args.map(fillSlots) : args);
    return pending.length ? Promise.all(pending).then(run) : void run();
  }

  private finishEagerStep(step: FallbackStep, x: Execution<B>, args: unknown[]): void {
    const kwargs: Record<string, unknown> = {};
    for (const key in step.kwargs) kwargs[key] = resolveScalarArg(step.kwargs[key], x.params, x.floats);
    let result: Tensor | number | boolean;
    try {
      result = getOp(step.op)!.fn(...args, kwargs) as Tensor | number | boolean;
    } catch (err) {
      throw withUserFrame(err, step.op, step.source);
    }
    // Data-dependent sizes become parameters before anything sized by them is allocated.
    for (const bind of step.binds) x.params[bind.param] = bind.dim === 'value' ? Number(result) : (result as Tensor).shape[bind.dim]!;
    if (!step.output) return;
    const name = step.output.buffer;
    let block = x.blocks[name];
    if (block === undefined) {
      block = x.blocks[name] = x.device.allocate((result as Tensor).numel, step.output.dtype);
      x.owned.push(name);
    }
    x.device.upload((result as Tensor).toTypedArray() as TypedArray, step.output.dtype, block);
  }

  /** The elements of an output buffer (its shape evaluated). */
  outputShape(shape: readonly SizeExpr[], x: Execution<B>): number[] {
    return shape.map((s) => evalSize(s, x.params));
  }

  /** Takes a block off the call's list (handed out as a result), so `finish` leaves it alone. */
  release(x: Execution<B>, name: string): boolean {
    const i = x.owned.indexOf(name);
    if (i < 0) return false;
    x.owned.splice(i, 1);
    return true;
  }

  /** Frees every block the call still holds (after a result was taken, or after an error). */
  finish(x: Execution<B>): void {
    for (const name of x.owned) x.device.free(x.blocks[name]!);
    x.owned.length = 0;
  }
}

/** An eager step's tensor argument whose elements are still being read back from the device. */
class PendingTensor {
  tensor: unknown;
}
const fillSlots = (a: unknown): unknown => (Array.isArray(a) ? a.map(fillSlots) : a instanceof PendingTensor ? a.tensor : a);

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

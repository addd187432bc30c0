// Runs a lowered program on the GPU through @kiln/lower's ProgramExecutor (step order, last-use frees, checks,
// parameters, eager steps) over GpuMemory (gpu-memory.ts: pooled buffers, one command encoder per call,
// submitted early only where the host must look at data: an eager step, an index check).
// `launch` returns device tensors at once (their buffers are promises the queued work fulfils), which is
// how eager ops and compiled calls stay synchronous; it needs every output size to follow from the input
// shapes. A program whose sizes depend on data (`nonzero`) runs with `run`, which is asynchronous.
import type { Execution, LoweredProgram } from '@kiln/lower';
import { ProgramExecutor, evalSize } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import { KilnError, Tensor as TensorClass } from '@kiln/tensor';
import type { GpuContext } from './device.js';
import { GpuBytes, deviceBytes, deviceTensor, download, gpuBytesOf, readBack, toDeviceLayout } from './device-tensor.js';
import { FlagCheck } from './flag.js';
import { GpuMemory, type Shaders } from './gpu-memory.js';
import { launchInputs } from './strided.js';

type Bound = Execution<GPUBuffer>;
const quiet = <T>(p: Promise<T>): Promise<T> => (p.catch(() => {}), p);

/** The inputs with CPU tensors copied, so a later in-place write by the caller cannot reach a recompute. */
const pinned = (inputs: readonly unknown[]): unknown[] =>
  inputs.map((x) => (x instanceof TensorClass && x.device === 'cpu' ? TensorClass.fromData(x.toTypedArray(), x.shape, x.dtype) : x));

/** The inputs with device tensors read back (final values: their own calls' flags are read first). */
const onCpu = (inputs: readonly unknown[]): Promise<unknown[]> =>
  Promise.all(inputs.map((x) => (x instanceof TensorClass && x.device !== 'cpu' ? x.cpu() : x)));

export class WebGpuProgram {
  private readonly constants = new Map<string, GPUBuffer>();
  private readonly decls: ReadonlyMap<string, LoweredProgram['buffers'][number]>;
  private readonly executor: ProgramExecutor<GPUBuffer>;
  /** Whether every size is known from the input shapes before anything runs (then `launch` works). */
  readonly launchable: boolean;
  /** Whether some kernel may flag a call for the eager recompute (runtime/flag.ts). */
  readonly flags: boolean;

  /**
   * @param eager the graph on the eager kernels over CPU tensors: recomputes a call a kernel flagged (sums
   *   that overflowed float32, sin/cos beyond |x| = 1e5). Without it such kernels must not flag.
   */
  constructor(
    readonly program: LoweredProgram, private readonly gpu: GpuContext, private readonly shaders: Shaders,
    private readonly eager?: (inputs: readonly unknown[]) => unknown[],
  ) {
    this.decls = new Map(program.buffers.map((b) => [b.name, b]));
    this.executor = new ProgramExecutor<GPUBuffer>(program);
    this.launchable = !program.steps.some((s) => s.kind === 'fallback' && s.binds.length > 0);
    this.flags = [...shaders.values()].some((s) => s.kernel.flags);
    if (this.flags && !eager) throw new KilnError('WebGPU: a program whose kernels flag needs the eager kernels to recompute with', 'compile it with compileGraphForWebGpu');
  }

  /** Queues the program and returns its outputs as device tensors (or sizes and constants) right away. */
  launch(given: readonly unknown[]): unknown[] {
    if (!this.launchable) throw new KilnError('WebGPU: this program has data-dependent sizes', 'use run(), which is asynchronous');
    const inputs = launchInputs(this.gpu, given);
    const flag = this.flags ? this.gpu.pool.take(4) : undefined;
    const bound = this.bind(inputs, flag);
    for (const b of this.program.buffers) {
      const constant = (b as { constant?: Tensor }).constant;
      if (constant) this.constantBuffer(b.name, constant);
    }
    // Output buffers are taken before anything is recorded, so the tensors can be handed out now.
    const preset = new Map<string, GPUBuffer>();
    const shared = new Map<string, GpuBytes>();
    for (const b of this.program.buffers) {
      const t = b.input === undefined ? undefined : (inputs[b.input] as Tensor);
      if (t?.device === 'webgpu') shared.set(b.name, gpuBytesOf(t));
    }
    const specs = this.program.outputs.map((o) => {
      if (o.kind !== 'tensor') return { value: o.kind === 'size' ? evalSize(o.value, bound.params) : o.value };
      const shape = o.shape.map((s) => evalSize(s, bound.params));
      const constant = this.constants.get(o.buffer);
      if (!constant && !shared.has(o.buffer) && !preset.has(o.buffer)) {
        preset.set(o.buffer, this.gpu.pool.take(Math.max(evalSize(this.decls.get(o.buffer)!.numel, bound.params), 1) * deviceBytes(o.dtype)));
      }
      return { shape, dtype: o.dtype, name: o.buffer, constant };
    });
    const done = quiet(this.execute(bound, preset));
    // The recompute reads the inputs as they are now: CPU ones copied (the caller may write them later),
    // device ones pinned to their current bytes by launchInputs.
    // Only into buffers whose tensors still hold them: a disposed or collected output's went back to the pool.
    const holders = new Map<string, WeakRef<GpuBytes>>();
    const target = (name: string) => (holders.get(name)?.deref()?.holdsBuffer ? preset.get(name) : undefined);
    const check = flag && new FlagCheck(this.gpu, flag, done, this.recompute(pinned(inputs), specs.map((s) => ('value' in s || s.constant ? undefined : () => target(s.name)))));
    return specs.map((spec) => {
      if ('value' in spec) return spec.value;
      const numel = spec.shape.reduce((a, b) => a * b, 1);
      // An input returned unchanged, or one buffer returned twice, is shared rather than owned.
      const source = shared.get(spec.name);
      if (source) return deviceTensor(GpuBytes.sharing(this.gpu, source, done, numel), spec.shape, spec.dtype);
      const buffer = spec.constant ?? preset.get(spec.name)!;
      const bytes = new GpuBytes(this.gpu, quiet(done.then(() => buffer)), numel, spec.constant ? {} : { check, owned: true });
      if (!spec.constant) {
        shared.set(spec.name, bytes);
        holders.set(spec.name, new WeakRef(bytes));
      }
      return deviceTensor(bytes, spec.shape, spec.dtype);
    });
  }

  /** Runs the program and reads its tensor outputs back to the CPU; every buffer is back in the pool after. */
  async run(given: readonly unknown[]): Promise<unknown[]> {
    const inputs = launchInputs(this.gpu, given);
    const flag = this.flags ? this.gpu.pool.take(4) : undefined;
    const bound = this.bind(inputs, flag);
    // Output blocks stay the call's until they are read back; finish() then gives them back with the rest.
    await this.execute(bound, new Map(), false);
    try {
      if (flag) {
        const { flagged } = await readBack(this.gpu, undefined, 'int32', 0, flag);
        this.gpu.pool.give(flag);
        if (flagged) {
          this.gpu.stats.recomputed++;
          return this.eager!(await onCpu(inputs));
        }
      }
      const outputs: unknown[] = [];
      for (const o of this.program.outputs) {
        if (o.kind !== 'tensor') outputs.push(o.kind === 'size' ? evalSize(o.value, bound.params) : o.value);
        else {
          const shape = o.shape.map((s) => evalSize(s, bound.params));
          const data = await download(this.gpu, bound.blocks[o.buffer]!, o.dtype, shape.reduce((a, b) => a * b, 1));
          outputs.push(TensorClass.fromData(data, shape, o.dtype));
        }
      }
      return outputs;
    } finally {
      this.release(bound);
    }
  }

  /** A call's execution state over its own GpuMemory (the buffers of webgpu inputs are filled in by execute). */
  private bind(inputs: readonly unknown[], flag?: GPUBuffer): Bound {
    return this.executor.start(inputs, {}, new GpuMemory(this.gpu, this.shaders, flag));
  }

  /** The flagged call's recompute: the eager kernels on the inputs read back, their results written into `into`. */
  private recompute(inputs: readonly unknown[], into: readonly ((() => GPUBuffer | undefined) | undefined)[]): () => Promise<void> {
    return async () => {
      const results = this.eager!(await onCpu(inputs));
      into.forEach((target, i) => {
        const t = results[i];
        const buffer = target?.();
        if (!buffer || !(t instanceof TensorClass)) return;
        const data = toDeviceLayout(t.toTypedArray(), t.dtype, true);
        this.gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
        this.gpu.stats.writes++;
      });
    };
  }

  /**
   * Runs every step through the executor. `outputs` holds buffers the caller placed for program outputs.
   * With `release` (launch), every block the call owns goes back to the pool at the end; otherwise the
   * caller reads its outputs first and then calls `release`.
   */
  private async execute(x: Bound, outputs: ReadonlyMap<string, GPUBuffer>, release = true): Promise<void> {
    const memory = x.device as GpuMemory;
    this.gpu.pool.enter();
    try {
      for (const b of this.program.buffers) {
        const constant = (b as { constant?: Tensor }).constant;
        if (constant) x.blocks[b.name] = this.constantBuffer(b.name, constant);
        const t = b.input === undefined ? undefined : (x.inputs[b.input] as Tensor);
        if (t instanceof TensorClass && t.device === 'webgpu') memory.deviceInputs.set(b.name, await gpuBytesOf(t).buffer);
      }
      for (const [name, buffer] of outputs) x.blocks[name] = buffer;
      this.executor.bindInputs(x);
      await this.executor.run(x);
      memory.submit();
    } catch (err) {
      this.release(x);
      throw err;
    } finally {
      this.gpu.pool.leave();
    }
    if (release) this.release(x);
  }

  /** Gives back every block the call still owns (once its commands are submitted). */
  private release(x: Bound): void {
    this.executor.finish(x);
    (x.device as GpuMemory).submit();
  }

  private constantBuffer(name: string, t: Tensor): GPUBuffer {
    let buf = this.constants.get(name);
    if (!buf) {
      const data = toDeviceLayout(t.toTypedArray(), t.dtype, true);
      buf = this.gpu.device.createBuffer({ size: Math.max(data.byteLength, 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      this.gpu.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
      this.constants.set(name, buf);
    }
    return buf;
  }
}

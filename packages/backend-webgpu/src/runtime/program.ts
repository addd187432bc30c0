// Runs a lowered program on the GPU. Kernels are recorded into one command encoder and submitted once;
// the program submits early only where the host must look at data (an eager step, an index check).
// `launch` returns device tensors at once (their buffers are promises the queued work fulfils), which is
// how eager ops and compiled calls stay synchronous; it needs every output size to follow from the input
// shapes. A program whose sizes depend on data (`nonzero`) runs with `run`, which is asynchronous.
import type { FallbackStep, LoweredProgram, LoopDType } from '@kiln/lower';
import { evalSize, paramValue, resolveScalarArg, runCheck } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, allocate, getOp } from '@kiln/tensor';
import type { GpuContext } from './device.js';
import { GpuBytes, deviceBytes, deviceTensor, download, gpuBytesOf, toDeviceLayout } from './device-tensor.js';
import { MAX_DISPATCH, type WgslKernel } from '../codegen/shader.js';
import { launchInputs } from './strided.js';

type Shaders = ReadonlyMap<number, { kernel: WgslKernel; pipeline: Promise<GPUComputePipeline> }>;
interface Bound { readonly params: Record<string, number>; readonly floats: Record<string, number> }
const quiet = <T>(p: Promise<T>): Promise<T> => (p.catch(() => {}), p);

export class WebGpuProgram {
  private readonly constants = new Map<string, GPUBuffer>();
  private readonly decls: ReadonlyMap<string, LoweredProgram['buffers'][number]>;
  /** Whether every size is known from the input shapes before anything runs (then `launch` works). */
  readonly launchable: boolean;

  constructor(readonly program: LoweredProgram, private readonly gpu: GpuContext, private readonly shaders: Shaders) {
    this.decls = new Map(program.buffers.map((b) => [b.name, b]));
    this.launchable = !program.steps.some((s) => s.kind === 'fallback' && s.binds.length > 0);
  }

  /** Queues the program and returns its outputs as device tensors (or sizes and constants) right away. */
  launch(given: readonly unknown[]): unknown[] {
    if (!this.launchable) throw new KilnError('WebGPU: this program has data-dependent sizes', 'use run(), which is asynchronous');
    const inputs = launchInputs(this.gpu, given);
    const bound = this.bind(inputs);
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
    const done = quiet(this.execute(inputs, bound, preset));
    return specs.map((spec) => {
      if ('value' in spec) return spec.value;
      const numel = spec.shape.reduce((a, b) => a * b, 1);
      // An input returned unchanged, or one buffer returned twice, is shared rather than owned.
      const source = shared.get(spec.name);
      if (source) return deviceTensor(this.gpu, new GpuBytes(quiet(done.then(() => source.buffer)), numel, source), spec.shape, spec.dtype, false);
      const buffer = spec.constant ?? preset.get(spec.name)!;
      const bytes = new GpuBytes(quiet(done.then(() => buffer)), numel);
      if (!spec.constant) shared.set(spec.name, bytes);
      return deviceTensor(this.gpu, bytes, spec.shape, spec.dtype, !spec.constant);
    });
  }

  /** Runs the program and reads its tensor outputs back to the CPU; every buffer is back in the pool after. */
  async run(given: readonly unknown[]): Promise<unknown[]> {
    const inputs = launchInputs(this.gpu, given);
    const bound = this.bind(inputs);
    const keep = new Map<string, GPUBuffer>();
    const buffers = await this.execute(inputs, bound, keep, true);
    try {
      const outputs: unknown[] = [];
      for (const o of this.program.outputs) {
        if (o.kind !== 'tensor') outputs.push(o.kind === 'size' ? evalSize(o.value, bound.params) : o.value);
        else {
          const shape = o.shape.map((s) => evalSize(s, bound.params));
          const data = await download(this.gpu, buffers.get(o.buffer)!, o.dtype, shape.reduce((a, b) => a * b, 1));
          outputs.push(TensorClass.fromData(data, shape, o.dtype));
        }
      }
      return outputs;
    } finally {
      for (const b of keep.values()) this.gpu.pool.give(b);
    }
  }

  private bind(inputs: readonly unknown[]): Bound {
    const params: Record<string, number> = {};
    const floats: Record<string, number> = {};
    for (const p of this.program.params) {
      params[p.param] = paramValue(p, inputs);
      if ('scalar' in p && p.scalar === 'float32') floats[p.param] = inputs[p.input] as number;
    }
    return { params, floats };
  }

  /**
   * Records and submits every step. `outputs` holds buffers allocated by the caller for program outputs;
   * with `collect`, output buffers allocated here are added to it (the caller releases them after reading).
   * Every other buffer it takes goes back to the pool at the end.
   */
  private async execute(inputs: readonly unknown[], { params, floats }: Bound, outputs: Map<string, GPUBuffer>, collect = false): Promise<Map<string, GPUBuffer>> {
    const { gpu, program } = this;
    const outputNames = new Set(program.outputs.flatMap((o) => (o.kind === 'tensor' ? [o.buffer] : [])));
    const buffers = new Map<string, GPUBuffer>(outputs);
    const temporary: GPUBuffer[] = [];
    const take = (name: string, elements: number): GPUBuffer => {
      const buffer = gpu.pool.take(Math.max(elements, 1) * deviceBytes(this.decls.get(name)?.dtype ?? 'float32'));
      buffers.set(name, buffer);
      if (collect && outputNames.has(name)) outputs.set(name, buffer);
      else temporary.push(buffer);
      return buffer;
    };
    try {
      for (const b of program.buffers) {
        const constant = (b as { constant?: Tensor }).constant;
        if (constant) buffers.set(b.name, this.constantBuffer(b.name, constant));
        if (b.input === undefined) continue;
        const t = inputs[b.input] as Tensor;
        checkInput(t, b.input, b.dtype);
        if (t.device === 'webgpu') continue;
        const data = toDeviceLayout(t.toTypedArray(), b.dtype, true);
        const target = buffers.get(b.name) ?? take(b.name, t.numel);
        gpu.device.queue.writeBuffer(target, 0, data.buffer, data.byteOffset, data.byteLength);
      }
      for (const b of program.buffers) {
        const t = b.input === undefined ? undefined : (inputs[b.input] as Tensor);
        if (t?.device === 'webgpu') buffers.set(b.name, await gpuBytesOf(t).buffer);
      }
      let encoder = gpu.device.createCommandEncoder();
      const flush = () => {
        gpu.device.queue.submit([encoder.finish()]);
        encoder = gpu.device.createCommandEncoder();
      };
      for (const [i, step] of program.steps.entries()) {
        if (step.kind === 'kernel') {
          for (const o of step.kernel.outputs) if (!buffers.has(o.name)) take(o.name, evalSize(this.decls.get(o.name)!.numel, params));
          await this.dispatch(encoder, i, buffers, params, temporary);
        } else if (step.kind === 'check') {
          flush();
          const data = step.check === 'indexRange' ? await download(gpu, buffers.get(step.buffer)!, 'int32', 2) : new Int32Array(0);
          runCheck(step, params, () => data);
        } else {
          flush();
          await this.fallback(step, buffers, params, floats, take);
        }
      }
      flush();
      return buffers;
    } finally {
      for (const b of temporary) gpu.pool.give(b);
    }
  }

  private async dispatch(encoder: GPUCommandEncoder, step: number, buffers: Map<string, GPUBuffer>, params: Record<string, number>, temporary: GPUBuffer[]): Promise<void> {
    const { kernel, pipeline } = this.shaders.get(step)!;
    const [x, y, z] = grid(kernel, params, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    if (x === 0 || y === 0 || z === 0) return;
    const values = Int32Array.from(kernel.params.map((p) => params[p]!));
    const paramBuffer = this.gpu.pool.take(Math.max(values.byteLength, 4));
    temporary.push(paramBuffer);
    this.gpu.device.queue.writeBuffer(paramBuffer, 0, values.length > 0 ? values : new Int32Array(1));
    const p = await pipeline;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: paramBuffer } }];
    kernel.buffers.forEach((name, i) => entries.push({ binding: i + 1, resource: { buffer: buffers.get(name)! } }));
    const pass = encoder.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, this.gpu.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /** Runs one node with its eager kernel on the host: its tensor arguments are read back, the result uploaded. */
  private async fallback(
    step: FallbackStep, buffers: Map<string, GPUBuffer>, params: Record<string, number>, floats: Record<string, number>,
    take: (name: string, elements: number) => GPUBuffer,
  ): Promise<void> {
    const pending: Promise<void>[] = [];
    const toTensor = (a: unknown): unknown => {
      if (Array.isArray(a)) return a.map(toTensor);
      a = resolveScalarArg(a, params, floats);
      if (a && typeof a === 'object' && 'buffer' in a && 'strides' in a) {
        const d = a as { buffer: string; shape: []; strides: []; offset: number; dtype: LoopDType };
        const n = evalSize(this.decls.get(d.buffer)!.numel, params);
        const storage = new Storage(allocate(d.dtype, n), d.dtype);
        pending.push(download(this.gpu, buffers.get(d.buffer)!, d.dtype, n).then((data) => void storage.data.set(data)));
        const [shape, strides] = [d.shape.map((s) => evalSize(s, params)), d.strides.map((s) => evalSize(s, params))];
        return new TensorClass(storage, shape, strides, evalSize(d.offset, params), d.dtype);
      }
      return a;
    };
    const args = step.args.map(toTensor);
    await Promise.all(pending);
    const kwargs = Object.fromEntries(Object.entries(step.kwargs).map(([key, v]) => [key, resolveScalarArg(v, params, floats)]));
    const result = getOp(step.op)!.fn(...args, kwargs) as Tensor | number | boolean;
    for (const bind of step.binds) params[bind.param] = bind.dim === 'value' ? Number(result) : (result as Tensor).shape[bind.dim]!;
    if (!step.output) return;
    const data = toDeviceLayout((result as Tensor).toTypedArray(), step.output.dtype, true);
    const target = buffers.get(step.output.buffer) ?? take(step.output.buffer, data.length);
    this.gpu.device.queue.writeBuffer(target, 0, data.buffer, data.byteOffset, data.byteLength);
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

/** The dispatch grid: a kernel's own 2-D grid, or its workgroup count split over x and y (65,535 at most each). */
function grid(kernel: WgslKernel, params: Record<string, number>, max: number): [number, number, number] {
  const z = evalSize(kernel.layers, params);
  if (kernel.grid) return [evalSize(kernel.grid[0], params), evalSize(kernel.grid[1], params), z];
  const groups = evalSize(kernel.workgroups, params);
  const x = Math.min(groups, max, MAX_DISPATCH);
  const y = x === 0 ? 0 : Math.ceil(groups / x);
  if (y > max || z > max) {
    throw new KilnError(`WebGPU: kernel ${kernel.name} needs ${groups} × ${z} workgroups, more than the device's ${max} per dimension`, 'run this call on the CPU backend');
  }
  return [x, y, z];
}

function checkInput(t: Tensor, index: number, dtype: LoopDType): void {
  if (!(t instanceof TensorClass) || t.dtype !== dtype) {
    throw new KilnError(
      `compiled program (webgpu): input ${index} must be a ${dtype} tensor, got ${t instanceof TensorClass ? t.dtype : typeof t}`,
      'recompile for these inputs (compile() does this through its guards)',
    );
  }
}

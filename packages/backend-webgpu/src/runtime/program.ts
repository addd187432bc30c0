/// <reference types="@webgpu/types" />
// Runs a lowered program on the GPU. Kernels are recorded into one command encoder; the encoder is
// submitted only when the host must look at data: an eager fallback step, a check, or reading the outputs.
// Buffers come from a pool keyed by size, so steady-state calls allocate nothing. Booleans live on the GPU
// as 32-bit 0/1 (WGSL has no byte-sized storage) and are converted at the edges.
import type { FallbackStep, LoweredProgram, LoopDType, ProgramStep } from '@kiln/lower';
import { evalSize, paramValue, resolveScalarArg, runCheck } from '@kiln/lower';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, allocate, getOp } from '@kiln/tensor';
import type { GpuContext } from './device.js';
import { BufferPool } from './pool.js';
import { MAX_DISPATCH, type WgslKernel } from '../codegen/shader.js';

export class WebGpuProgram {
  private readonly pool: BufferPool;
  private readonly constants = new Map<string, GPUBuffer>();
  private readonly numel = new Map<string, LoweredProgram['buffers'][number]>();

  constructor(
    readonly program: LoweredProgram,
    private readonly gpu: GpuContext,
    /** One compiled shader per kernel step, by step index. */
    private readonly shaders: ReadonlyMap<number, { kernel: WgslKernel; pipeline: Promise<GPUComputePipeline> }>,
  ) {
    this.pool = new BufferPool(gpu.device);
    for (const b of program.buffers) this.numel.set(b.name, b);
  }

  async run(inputs: readonly unknown[]): Promise<unknown[]> {
    const { program, gpu } = this;
    const params: Record<string, number> = {};
    const floats: Record<string, number> = {};
    for (const p of program.params) {
      params[p.param] = paramValue(p, inputs);
      if ('scalar' in p && p.scalar === 'float32') floats[p.param] = inputs[p.input] as number;
    }
    const buffers = new Map<string, GPUBuffer>();
    const owned: GPUBuffer[] = [];
    const take = (name: string, elements: number): GPUBuffer => {
      const buf = this.pool.take(Math.max(elements, 1) * 4);
      owned.push(buf);
      buffers.set(name, buf);
      return buf;
    };
    try {
      for (const b of program.buffers) {
        const constant = (b as { constant?: Tensor }).constant;
        if (constant) buffers.set(b.name, this.constantBuffer(b.name, constant));
        if (b.input === undefined) continue;
        const t = inputs[b.input] as Tensor;
        checkInput(t, b.input, b.dtype);
        const data = toDeviceLayout(t.toTypedArray(), b.dtype);
        gpu.device.queue.writeBuffer(take(b.name, t.numel), 0, data.buffer, data.byteOffset, data.byteLength);
      }
      let encoder = gpu.device.createCommandEncoder();
      const flush = () => {
        gpu.device.queue.submit([encoder.finish()]);
        encoder = gpu.device.createCommandEncoder();
      };
      const read = async (name: string, dtype: LoopDType, n: number): Promise<TypedArray> => {
        flush();
        return this.download(buffers.get(name)!, dtype, n);
      };
      for (const [i, step] of program.steps.entries()) {
        for (const name of writes(step)) {
          if (!buffers.has(name) && step.kind === 'kernel') take(name, evalSize(this.numel.get(name)!.numel, params));
        }
        if (step.kind === 'kernel') await this.dispatch(encoder, i, buffers, params, owned);
        else if (step.kind === 'check') {
          const data = step.check === 'indexRange' ? await read(step.buffer, 'int32', 2) : new Int32Array(0);
          runCheck(step, params, () => data);
        } else {
          flush();
          await this.fallback(step, buffers, params, floats, take);
        }
      }
      flush();
      const outputs: unknown[] = [];
      for (const o of program.outputs) {
        if (o.kind === 'constant') outputs.push(o.value);
        else if (o.kind === 'size') outputs.push(evalSize(o.value, params));
        else {
          const shape = o.shape.map((s) => evalSize(s, params));
          const n = shape.reduce((a, b) => a * b, 1);
          const data = await this.download(buffers.get(o.buffer)!, o.dtype, n);
          outputs.push(TensorClass.fromData(data, shape, o.dtype));
        }
      }
      return outputs;
    } finally {
      for (const buf of owned) this.pool.give(buf);
    }
  }

  private async dispatch(encoder: GPUCommandEncoder, step: number, buffers: Map<string, GPUBuffer>, params: Record<string, number>, owned: GPUBuffer[]): Promise<void> {
    const { kernel, pipeline } = this.shaders.get(step)!;
    const [x, y, z] = grid(kernel, params, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    if (x === 0 || y === 0 || z === 0) return;
    const values = Int32Array.from(kernel.params.map((p) => params[p]!));
    const paramBuffer = this.pool.take(Math.max(values.byteLength, 4));
    owned.push(paramBuffer);
    this.gpu.device.queue.writeBuffer(paramBuffer, 0, values.length > 0 ? values : new Int32Array(1));
    const p = await pipeline;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: paramBuffer } }];
    kernel.buffers.forEach((name, i) => entries.push({ binding: i + 1, resource: { buffer: buffers.get(name)! } }));
    const bindGroup = this.gpu.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
    const pass = encoder.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bindGroup);
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
        const shape = d.shape.map((s) => evalSize(s, params));
        const strides = d.strides.map((s) => evalSize(s, params));
        const n = evalSize(this.numel.get(d.buffer)!.numel, params);
        const storage = new Storage(allocate(d.dtype, n), d.dtype);
        pending.push(this.download(buffers.get(d.buffer)!, d.dtype, n).then((data) => void storage.data.set(data)));
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
    const data = toDeviceLayout((result as Tensor).toTypedArray(), step.output.dtype);
    this.gpu.device.queue.writeBuffer(take(step.output.buffer, data.length), 0, data.buffer, data.byteOffset, data.byteLength);
  }

  private constantBuffer(name: string, t: Tensor): GPUBuffer {
    let buf = this.constants.get(name);
    if (!buf) {
      const data = toDeviceLayout(t.toTypedArray(), t.dtype as LoopDType);
      buf = this.gpu.device.createBuffer({ size: Math.max(data.byteLength, 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      this.gpu.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
      this.constants.set(name, buf);
    }
    return buf;
  }

  /** Copies `n` elements of a device buffer back into a host array of `dtype`. */
  async download(buffer: GPUBuffer, dtype: LoopDType, n: number): Promise<TypedArray> {
    const out = allocate(dtype, n);
    if (n === 0) return out;
    const staging = this.pool.takeStaging(n * 4);
    const encoder = this.gpu.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, n * 4);
    this.gpu.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, n * 4);
    const raw = new Int32Array(staging.getMappedRange(0, n * 4));
    if (dtype === 'bool') for (let i = 0; i < n; i++) out[i] = raw[i]!;
    else new Int32Array(out.buffer, out.byteOffset, n).set(raw);
    staging.unmap();
    this.pool.giveStaging(staging);
    return out;
  }
}

function writes(step: ProgramStep): string[] {
  return step.kind === 'kernel' ? step.kernel.outputs.map((o) => o.name) : [];
}

/** The dispatch grid: a kernel's own 2-D grid, or its workgroup count split over x and y. */
function grid(kernel: WgslKernel, params: Record<string, number>, max: number): [number, number, number] {
  const z = evalSize(kernel.layers, params);
  if (kernel.grid) return [evalSize(kernel.grid[0], params), evalSize(kernel.grid[1], params), z];
  const groups = evalSize(kernel.workgroups, params);
  const x = Math.min(groups, Math.min(max, MAX_DISPATCH));
  const y = x === 0 ? 0 : Math.ceil(groups / x);
  if (y > max || z > max) {
    throw new KilnError(`WebGPU: kernel ${kernel.name} needs ${groups} × ${z} workgroups, more than the device's ${max} per dimension`, 'run this call on the CPU backend');
  }
  return [x, y, z];
}

/** Host data as the GPU stores it: 32-bit words (booleans widened to 0/1 int32). */
function toDeviceLayout(data: TypedArray, dtype: LoopDType): TypedArray {
  if (dtype === 'bool') return Int32Array.from(data as Uint8Array);
  if (dtype === 'float64') throw new KilnError('WebGPU: float64 tensors cannot be computed on the GPU (WGSL has no 64-bit floats)', 'cast to float32, or use the CPU backend');
  return data;
}

function checkInput(t: Tensor, index: number, dtype: LoopDType): void {
  if (!(t instanceof TensorClass) || t.dtype !== dtype) {
    throw new KilnError(
      `compiled program (webgpu): input ${index} must be a ${dtype} tensor, got ${t instanceof TensorClass ? t.dtype : typeof t}`,
      'recompile for these inputs (compile() does this through its guards)',
    );
  }
}

// The GPU as @kiln/lower's ProgramExecutor sees it: blocks are pooled GPUBuffers, kernels are recorded into
// one command encoder and submitted only where the host must act — before a download (an eager step's
// arguments, an index check) and before an upload (an eager step's result), so queue writes land after the
// kernels recorded before them. One GpuMemory per call: it holds that call's encoder.
import type { DeviceMemory, Kernel, LoopDType, ProgramBuffer } from '@kiln/lower';
import { evalSize } from '@kiln/lower';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import { MAX_DISPATCH, type WgslKernel } from '../codegen/shader.js';
import type { GpuContext } from './device.js';
import { deviceBytes, download, toDeviceLayout } from './device-tensor.js';
import { splitPlan, usePerRow } from './split.js';
import { ROWS_PER_GROUP } from '../codegen/reduction.js';

export type Shaders = ReadonlyMap<number, { kernel: WgslKernel; pipeline: Promise<GPUComputePipeline> }>;

export class GpuMemory implements DeviceMemory<GPUBuffer> {
  private encoder: GPUCommandEncoder;
  private recorded = false;
  /**
   * Blocks freed since the last submit: given back to the pool only once the commands that read them are
   * submitted, or another call could take one and write it before those commands run.
   */
  private freed: GPUBuffer[] = [];

  /** The buffers of inputs that are webgpu tensors, read in place (the caller awaits them before the call). */
  readonly deviceInputs = new Map<string, GPUBuffer>();

  /** @param flag the call's eager-recompute flag word (runtime/flag.ts), zeroed first; bound to kernels that flag */
  constructor(private readonly gpu: GpuContext, private readonly shaders: Shaders, private readonly flag?: GPUBuffer) {
    this.encoder = gpu.device.createCommandEncoder();
    if (flag) {
      this.encoder.clearBuffer(flag, 0, 4);
      this.recorded = true;
    }
  }

  /** The buffers a kernel binds after its parameters: its own, then a split's partials, then the flag. */
  private bindings(kernel: WgslKernel, blocks: Readonly<Record<string, GPUBuffer>>, part?: GPUBuffer): GPUBuffer[] {
    const buffers = kernel.buffers.map((name) => blocks[name]!);
    if (part) buffers.push(part);
    if (kernel.flags) {
      if (!this.flag) throw new KilnError(`WebGPU: kernel ${kernel.name} flags its call but the call has no flag buffer`, 'this is a bug in @kiln/backend-webgpu; please report it');
      buffers.push(this.flag);
    }
    return buffers;
  }

  allocate(elements: number, dtype: LoopDType): GPUBuffer {
    return this.gpu.pool.take(Math.max(elements, 1) * deviceBytes(dtype));
  }

  free(block: GPUBuffer): void {
    this.freed.push(block);
  }

  upload(data: TypedArray, dtype: LoopDType, into: GPUBuffer): void {
    this.submit();
    const bytes = toDeviceLayout(data, dtype, true);
    this.gpu.device.queue.writeBuffer(into, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.gpu.stats.writes++;
  }

  download(block: GPUBuffer, dtype: LoopDType, n: number): Promise<TypedArray> {
    this.submit();
    return download(this.gpu, block, dtype, n);
  }

  inputBlock(t: Tensor, buffer: ProgramBuffer): GPUBuffer | undefined {
    return t.device === 'webgpu' ? this.deviceInputs.get(buffer.name) : undefined;
  }

  async dispatch(step: number, _kernel: Kernel, blocks: Readonly<Record<string, GPUBuffer>>, params: Readonly<Record<string, number>>): Promise<void> {
    const { kernel, pipeline } = this.shaders.get(step)!;
    const values = kernel.params.map((p) => params[p]!);
    const plan = kernel.split && splitPlan(evalSize(kernel.split.rows, params), evalSize(kernel.split.rowLength, params), this.gpu.software);
    if (plan) {
      // Split passes: the chunk count and length follow the kernel's parameters; one partials buffer.
      const { rows, stages, passes } = kernel.split!;
      const groups = evalSize(rows, params) * plan.chunks;
      const part = this.gpu.pool.take(stages * groups * 8);
      this.freed.push(part);
      const grid = dispatchGrid({ name: kernel.name, layers: 1, workgroups: groups }, params, this.gpu.limits.maxComputeWorkgroupsPerDimension);
      const paramBuffer = this.params([...values, plan.chunks, plan.chunk]);
      const pipelines = await Promise.all(passes.map((code) => this.gpu.pipeline(code)));
      for (const p of pipelines) this.record(p, paramBuffer, this.bindings(kernel, blocks, part), grid);
      return;
    }
    if (kernel.perRow && usePerRow(evalSize(kernel.perRow.rowLength, params))) {
      const rows = evalSize(kernel.perRow.rows, params);
      const grid = dispatchGrid({ name: kernel.name, layers: 1, workgroups: Math.ceil(rows / ROWS_PER_GROUP) }, params, this.gpu.limits.maxComputeWorkgroupsPerDimension);
      if (grid.includes(0)) return;
      this.record(await this.gpu.pipeline(kernel.perRow.code), this.params(values), this.bindings(kernel, blocks), grid);
      return;
    }
    const grid = dispatchGrid(kernel, params, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    if (grid.includes(0)) return;
    const paramBuffer = this.params(values);
    this.record(await pipeline, paramBuffer, this.bindings(kernel, blocks), grid);
  }

  /** A parameter buffer holding `values` (pooled; back to the pool after the next submit). */
  private params(values: readonly number[]): GPUBuffer {
    const data = Int32Array.from(values.length > 0 ? values : [0]);
    const buffer = this.gpu.pool.take(data.byteLength);
    this.freed.push(buffer);
    this.gpu.device.queue.writeBuffer(buffer, 0, data);
    this.gpu.stats.writes++;
    return buffer;
  }

  /** Records one dispatch of `pipeline` with the parameters at binding 0 and `buffers` after them. */
  private record(pipeline: GPUComputePipeline, params: GPUBuffer, buffers: readonly GPUBuffer[], [x, y, z]: readonly number[]): void {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const pass = this.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(x!, y!, z!);
    pass.end();
    this.gpu.stats.dispatches++;
    this.gpu.stats.workgroups += x! * y! * z!;
    this.recorded = true;
  }

  /** Submits what was recorded and gives the blocks freed before it back to the pool. */
  submit(): void {
    if (this.recorded) {
      this.gpu.device.queue.submit([this.encoder.finish()]);
      this.gpu.stats.submits++;
      this.encoder = this.gpu.device.createCommandEncoder();
      this.recorded = false;
    }
    for (const b of this.freed) this.gpu.pool.give(b);
    this.freed = [];
  }
}

/** The dispatch grid: a kernel's own 2-D grid, or its workgroup count split over x and y (65,535 at most each). */
export function dispatchGrid(kernel: Pick<WgslKernel, 'name' | 'layers' | 'grid' | 'workgroups'>, params: Readonly<Record<string, number>>, max: number): [number, number, number] {
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

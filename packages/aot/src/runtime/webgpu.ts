/// <reference types="@webgpu/types" />
// The WebGPU runtime of AOT modules: the plan's WGSL kernels as compute pipelines on a device (navigator.gpu
// in a browser, or a GPU object passed in: the `webgpu` package's create() in Node), weights uploaded once,
// and a call that uploads its inputs, records every kernel into one command encoder (submitting early only
// for an index check, which reads two values back), and reads the outputs back. Calls are asynchronous.
import { checkIndexRange, evalSize } from '@kiln/lower';
import { withUserFrame } from '@kiln/graph';
import { dispatchGrid } from '@kiln/backend-webgpu';
import type { AotShaderStep, WebGpuPlan } from './plan.js';
import { AotLoadError } from './errors.js';
import { bufferWeights, prepareCall } from './call.js';
import type { BlobTensor } from './weights.js';
import { assembleOutputs, type OutputLeaf } from './outputs.js';
import { runAssert } from './asserts.js';
import { applyMutations } from './mutations.js';

// The WebGPU constants by value: Node's `webgpu` package does not put GPUBufferUsage on globalThis.
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01, MAP_MODE_READ = 1;

export interface WebGpuProgram {
  run(args: readonly unknown[]): Promise<unknown>;
  readonly device: GPUDevice;
}

/** bool is one int32 per element on the GPU (as in backend-webgpu). */
const deviceLayout = (dtype: string, bytes: Uint8Array): Uint8Array => (dtype === 'bool' ? new Uint8Array(Int32Array.from(bytes).buffer) : bytes);

export async function instantiateWebGpuProgram(plan: WebGpuPlan, weights: ReadonlyMap<string, BlobTensor>, gpu: GPU | undefined): Promise<WebGpuProgram> {
  const api = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!api) throw new AotLoadError(`${plan.name}: no WebGPU here (navigator.gpu is missing)`, 'in Node, pass the GPU object of the webgpu npm package: load({ gpu: create([]) })');
  const adapter = await api.requestAdapter();
  if (!adapter) throw new AotLoadError(`${plan.name}: no WebGPU adapter`, 'a GPU, or a software Vulkan driver (lavapipe), is needed; use the CPU module otherwise');
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize, maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
  });
  const pipelines = new Map<string, GPUComputePipeline>();
  for (const step of plan.steps) {
    if (step.kind !== 'kernel') continue;
    pipelines.set(step.name, await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: step.code }), entryPoint: 'main' } }));
  }
  const upload = (bytes: Uint8Array): GPUBuffer => {
    const buffer = device.createBuffer({ size: Math.max(bytes.byteLength, 4), usage: STORAGE | COPY_SRC | COPY_DST });
    device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return buffer;
  };
  const resident = new Map<string, GPUBuffer>();
  for (const [name, t] of bufferWeights(plan, weights)) resident.set(name, upload(deviceLayout(t.dtype, t.bytes)));
  return { device, run: (args) => runCall(plan, device, pipelines, resident, upload, args) };
}

async function readBack(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<Uint8Array> {
  const staging = device.createBuffer({ size: Math.max(bytes, 4), usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, Math.max(bytes, 4) - (Math.max(bytes, 4) % 4));
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_MODE_READ);
  const copy = new Uint8Array(staging.getMappedRange()).slice(0, bytes);
  staging.destroy();
  return copy;
}

async function runCall(
  plan: WebGpuPlan, device: GPUDevice, pipelines: ReadonlyMap<string, GPUComputePipeline>, resident: ReadonlyMap<string, GPUBuffer>,
  upload: (bytes: Uint8Array) => GPUBuffer, args: readonly unknown[],
): Promise<unknown> {
  const { leaves, read, inputs, params } = prepareCall(plan, args);
  const buffers = new Map(resident);
  const owned: GPUBuffer[] = [];
  const take = (name: string): GPUBuffer => {
    const b = plan.buffers.find((x) => x.name === name)!;
    const buffer = device.createBuffer({ size: Math.max(evalSize(b.numel, params) * 4, 4), usage: STORAGE | COPY_SRC | COPY_DST });
    owned.push(buffer);
    buffers.set(name, buffer);
    return buffer;
  };
  try {
    for (const b of plan.buffers) {
      if (b.input === undefined || buffers.has(b.name)) continue;
      const arg = inputs[b.input] as (typeof read)[number];
      const buffer = upload(deviceLayout(b.dtype, new Uint8Array(arg.data.buffer, arg.data.byteOffset, arg.data.byteLength)));
      owned.push(buffer);
      buffers.set(b.name, buffer);
    }
    let encoder = device.createCommandEncoder();
    for (const step of plan.steps) {
      if (step.kind === 'kernel') {
        for (const name of step.buffers) if (!buffers.has(name)) take(name);
        dispatch(device, encoder, step, pipelines.get(step.name)!, buffers, params, owned);
      } else if (step.kind === 'assert') runAssert(step, params);
      else {
        device.queue.submit([encoder.finish()]);
        encoder = device.createCommandEncoder();
        const range = new Int32Array((await readBack(device, buffers.get(step.buffer)!, 8)).buffer);
        try {
          checkIndexRange(step, params, () => range);
        } catch (err) {
          throw withUserFrame(err, step.op, step.source);
        }
      }
    }
    device.queue.submit([encoder.finish()]);
    const outputs: OutputLeaf[] = [];
    for (const o of plan.outputs) {
      if (o.kind !== 'tensor') {
        outputs.push({ value: o.kind === 'size' ? evalSize(o.value, params) : o.value });
        continue;
      }
      const shape = o.shape.map((s) => evalSize(s, params));
      const numel = shape.reduce((a, b) => a * b, 1);
      const raw = numel === 0 ? new Uint8Array(0) : await readBack(device, buffers.get(o.buffer)!, numel * 4);
      const data = o.dtype === 'float32' ? new Float32Array(raw.buffer, 0, numel) : o.dtype === 'int32' ? new Int32Array(raw.buffer, 0, numel) : Uint8Array.from(new Int32Array(raw.buffer, 0, numel));
      outputs.push({ tensor: { data, shape, dtype: o.dtype } });
    }
    applyMutations(plan, outputs, leaves, (buffer, value) => {
      const bytes = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
      device.queue.writeBuffer(resident.get(buffer)!, 0, deviceLayout(value.dtype, bytes));
    });
    return assembleOutputs(plan.outputTree, outputs, leaves, read.find((a) => a.tensorClass)?.tensorClass);
  } finally {
    for (const b of owned) b.destroy();
  }
}

function dispatch(
  device: GPUDevice, encoder: GPUCommandEncoder, step: AotShaderStep, pipeline: GPUComputePipeline, buffers: ReadonlyMap<string, GPUBuffer>,
  params: Readonly<Record<string, number>>, owned: GPUBuffer[],
): void {
  const [x, y, z] = dispatchGrid(step, params, device.limits.maxComputeWorkgroupsPerDimension);
  if (x === 0 || y === 0 || z === 0) return;
  const values = Int32Array.from(step.params.length ? step.params.map((p) => params[p]!) : [0]);
  const paramBuffer = device.createBuffer({ size: values.byteLength, usage: STORAGE | COPY_DST });
  owned.push(paramBuffer);
  device.queue.writeBuffer(paramBuffer, 0, values);
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: paramBuffer } }];
  step.buffers.forEach((name, i) => entries.push({ binding: i + 1, resource: { buffer: buffers.get(name)! } }));
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
}

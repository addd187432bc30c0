// Devices other than the CPU. A device tensor is an ordinary Tensor whose storage is external bytes that
// cannot be read synchronously (`view()` raises, naming the async reads); a device plugin (the WebGPU
// backend) registers how to move tensors there and how to run ops on them. Eager ops whose tensor
// arguments live on a registered device go to that device's `dispatch`; tensors on two devices in one op
// are an error, as in PyTorch.
import type { OpDef } from './registry/registry.js';
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';
import { KilnError } from './errors.js';

/**
 * Where a tensor's bytes live: `cpu` (a JS typed array or a CPU backend's wasm memory), or the device a
 * backend plugin names (`webgpu`: device-resident bytes, read back asynchronously). Any backend may name
 * its own device without editing this package.
 */
export type Device = 'cpu' | 'webgpu' | (string & {});

export interface DeviceImpl {
  readonly name: string;
  /** A copy of a CPU tensor on this device (synchronous: the upload is queued). */
  upload(t: Tensor): Tensor;
  /** The elements of a tensor of this device, row-major, as a new host array. */
  download(t: Tensor): Promise<TypedArray>;
  /** Runs one op whose tensor arguments are on this device; returns device tensors. */
  dispatch(op: OpDef, args: unknown[]): unknown;
}

const devices = new Map<string, DeviceImpl>();

export function registerDevice(impl: DeviceImpl): void {
  devices.set(impl.name, impl);
}

export function isDeviceName(x: unknown): x is Device {
  return x === 'cpu' || (typeof x === 'string' && devices.has(x));
}

export function deviceImpl(name: string): DeviceImpl {
  const impl = devices.get(name);
  if (!impl) {
    throw new KilnError(`no device '${name}' is registered`, name === 'webgpu' ? "import '@kiln/backend-webgpu' and await its initWebGpu() first" : 'register it with registerDevice()');
  }
  return impl;
}

/** Any registered device at all: the eager hot path skips the argument scan when there is none. */
export const hasDevices = (): boolean => devices.size > 0;

/**
 * The device of an op's tensor arguments when it is not the CPU (undefined for CPU-only calls). Tensors in
 * nested lists (cat, stack) count. Two different devices raise.
 */
export function argsDevice(op: string, args: readonly unknown[], isTensor: (x: unknown) => boolean): string | undefined {
  let found: string | undefined;
  let cpu = false;
  const visit = (a: unknown): void => {
    if (Array.isArray(a)) return a.forEach(visit);
    if (!isTensor(a)) return;
    const d = (a as Tensor).device;
    if (d === 'cpu') cpu = true;
    else if (found === undefined) found = d;
    else if (found !== d) throw mixedDevices(op, found, d);
  };
  args.forEach(visit);
  if (found !== undefined && cpu) throw mixedDevices(op, found, 'cpu');
  return found;
}

function mixedDevices(op: string, a: string, b: string): KilnError {
  return new KilnError(
    `${op}: expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}`,
    `move them first: x.to('${a}') (uploads), or await x.cpu() (reads back)`,
  );
}

/** The error of a synchronous read of a device tensor: it names the asynchronous forms. */
export function syncReadError(device: string, what: string): KilnError {
  return new KilnError(
    `${what}: the tensor is on ${device}, whose memory cannot be read synchronously`,
    'read it asynchronously: await t.data() (typed array), await t.array() (nested arrays), await t.cpu() (a CPU tensor)',
  );
}

/**
 * Removes a `device` key from a call's trailing options object (returning a copy without it in `raw`), so a
 * creation op's own schema never sees it. Undefined when the call names no device other than the CPU.
 */
export function takeDeviceOption(raw: unknown[], isTensor: (x: unknown) => boolean): string | undefined {
  const last = raw[raw.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || isTensor(last) || !('device' in last)) return undefined;
  const { device, ...rest } = last as { device: unknown };
  raw[raw.length - 1] = rest;
  if (device === 'cpu' || device === undefined) return undefined;
  if (typeof device !== 'string') throw new KilnError(`device: expected a device name such as 'cpu' or 'webgpu', got ${typeof device}`);
  deviceImpl(device);
  return device;
}

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
  /**
   * Runs one op whose tensor arguments are on this device; returns device tensors. In-place ops write into
   * their device `self` (`copy_` also takes a CPU `src`, uploading it).
   */
  dispatch(op: OpDef, args: unknown[]): unknown;
  /**
   * Gives `dst`, a tensor on another device (the CPU), the values of `src` (dst's shape and dtype, on this
   * device) by moving dst's storage here: how a compiled call's new value of a CPU argument reaches the
   * argument, since it cannot be read back synchronously. Every view of dst's storage follows.
   */
  adopt?(dst: Tensor, src: Tensor): void;
}

const devices = new Map<string, DeviceImpl>();

export function registerDevice(impl: DeviceImpl): void {
  devices.set(impl.name, impl);
}

/** Whether tensors on `device` can be read synchronously (host memory: the CPU's). */
export const isHostDevice = (device: string): boolean => device === 'cpu';

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

/**
 * The device that runs `self.copy_(src)`: self's. A CPU src is uploaded by that device, as PyTorch's copy_
 * moves data across devices; a device src into a CPU self would need a synchronous read and raises.
 */
export function copyDevice(args: readonly unknown[]): string | undefined {
  const [self, src] = args as [Tensor, Tensor];
  if (self.device !== 'cpu') return self.device;
  if (src.device === 'cpu') return undefined;
  throw new KilnError(
    `copy_: src is on ${src.device} and self on the CPU, whose copy would need a synchronous read`,
    'read it first: self.copy_(await src.cpu())',
  );
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

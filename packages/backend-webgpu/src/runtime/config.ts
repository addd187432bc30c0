// The backend's process-wide settings. `cpuHandoffElements`: tensors of at most this many elements moved to
// webgpu from JS data stay on the host until a kernel needs them on the device, and a call (an eager op or
// a compiled call) whose tensor inputs are all such host-resident tensors runs on the CPU (runtime/handoff.ts).
// A dispatch, a submit and a readback cost far more than computing a few hundred elements on the CPU; tfjs's
// WebGPU backend makes the same choice below 1,000 elements (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD).
// `KILN_WEBGPU_CPU_HANDOFF=n` sets it for a process, configureWebGpu({ cpuHandoffElements }) in code; 0 turns it off.
import { KilnError } from '@kiln/tensor';

export interface WebGpuOptions {
  /** The most elements a tensor may have to stay host-resident and to take a call to the CPU (0: never). */
  cpuHandoffElements: number;
}

/** The default handoff limit: about where a tiny call's dispatch and readback start to cost less than the CPU's work. */
export const DEFAULT_CPU_HANDOFF_ELEMENTS = 1024;

/** Set by configureWebGpu; undefined: KILN_WEBGPU_CPU_HANDOFF, else the default. */
let configured: number | undefined;

/** The handoff limit now. The environment is read on first use, so a bad value fails a call, not the import. */
export function cpuHandoffElements(): number {
  return configured ?? fromEnv() ?? DEFAULT_CPU_HANDOFF_ELEMENTS;
}

let envRead: { value: number | undefined } | undefined;

function fromEnv(): number | undefined {
  return (envRead ??= { value: parseEnv() }).value;
}

function parseEnv(): number | undefined {
  const raw = typeof process === 'undefined' ? undefined : process.env?.KILN_WEBGPU_CPU_HANDOFF;
  if (raw === undefined || raw === '') return undefined;
  return checkElements(/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw, `KILN_WEBGPU_CPU_HANDOFF=${JSON.stringify(raw)}`);
}

function checkElements(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new KilnError(`${what}: the CPU handoff limit must be a whole number of elements ≥ 0, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`, 'e.g. 1024 (the default), or 0 to run every call on the device');
  }
  return value;
}

/** Changes the backend's settings for the process; returns them as they are now. */
export function configureWebGpu(changes: Partial<WebGpuOptions> = {}): WebGpuOptions {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new KilnError(`configureWebGpu: expects an object of settings, got ${changes === null ? 'null' : Array.isArray(changes) ? 'an array' : typeof changes}`, 'e.g. configureWebGpu({ cpuHandoffElements: 0 })');
  }
  for (const key of Object.keys(changes)) {
    if (key !== 'cpuHandoffElements') throw new KilnError(`configureWebGpu: unknown setting '${key}'`, 'the one setting is cpuHandoffElements, e.g. configureWebGpu({ cpuHandoffElements: 0 })');
  }
  if (changes.cpuHandoffElements !== undefined) configured = checkElements(changes.cpuHandoffElements, 'configureWebGpu: cpuHandoffElements');
  return { cpuHandoffElements: cpuHandoffElements() };
}

// The runtime an AOT module carries (bundled and minified into it): loads the module's data and returns
// its call. Imports only runtime code (no tracer, lowering, code generator, acorn, mathjs or `node:`
// module); test/runtime-size.test.ts checks the bundle for them and prints its size.
import type { CpuPlan } from './plan.js';
import { instantiateCpuProgram } from './cpu.js';
import { fromBase64, readBytes, readSafetensors } from './weights.js';
import { AotLoadError } from './errors.js';
import type { EagerKernel } from './eager-kernels.js';

export { AotInputError, AotLoadError, AotRuntimeError } from './errors.js';
export type { AotTensor } from './outputs.js';

/** Where the module's weights are: inlined base64 text, or a file name relative to the module's URL. */
export type WeightsSource = { readonly inline: string } | { readonly file: string } | { readonly none: true };

export interface LoadOptions {
  /** The weights blob (safetensors bytes), or its URL, instead of the one the module names. */
  readonly weights?: Uint8Array | ArrayBuffer | URL | string;
}

/** A loaded AOT module: call it with the inputs; `inputs` describes what it takes. */
export interface AotModel {
  (...args: unknown[]): unknown;
  readonly inputs: CpuPlan['inputs'];
  readonly symbols: CpuPlan['symbols'];
}

export async function weightBytes(source: WeightsSource, moduleUrl: string, given: LoadOptions['weights']): Promise<Uint8Array | undefined> {
  if (given instanceof Uint8Array) return given;
  if (given instanceof ArrayBuffer) return new Uint8Array(given);
  if (given !== undefined) return readBytes(new URL(String(given), moduleUrl));
  if ('inline' in source) return fromBase64(source.inline);
  if ('file' in source) return readBytes(new URL(source.file, moduleUrl));
  return undefined;
}

/** `eager`: the module's eager kernels by op (only those its eager steps use). */
export async function loadCpuModel(plan: CpuPlan, wasmBase64: string, weights: WeightsSource, moduleUrl: string, options: LoadOptions = {}, eager: Readonly<Record<string, EagerKernel>> = {}): Promise<AotModel> {
  if (plan.format !== 'kiln-aot-plan' || plan.version !== 1) throw new AotLoadError(`this runtime reads kiln-aot-plan version 1, got ${String(plan.format)} ${String(plan.version)}`);
  const blob = await weightBytes(weights, moduleUrl, options.weights);
  const program = await instantiateCpuProgram(plan, fromBase64(wasmBase64), blob ? readSafetensors(blob) : new Map(), eager);
  const model = (...args: unknown[]) => program.run(args);
  return Object.assign(model, { inputs: plan.inputs, symbols: plan.symbols });
}

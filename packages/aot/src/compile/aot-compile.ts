// aotCompile: an exported program → the text of a standalone ES module (runtime, plan, wasm, weights) that
// loads with `await load()` and runs with no Kiln package installed, in Node and in browsers.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EAGER_KERNELS_ENTRY, RUNTIME_ENTRY, WEBGPU_RUNTIME_ENTRY, bundleModule, bundleRuntime } from './bundle.js';
import { STANDALONE_EAGER_OPS } from './eager-ops.js';
import { planForCpu } from './plan-cpu.js';
import { planForWebGpu } from './plan-webgpu.js';
import type { Tensor } from '@kiln/tensor';
import { KILN_VERSION, writeSafetensors, type ExportedProgram } from '@kiln/export';
import { AotCompileError, sourceFromExported, type AotSource } from './source.js';
import type { AotPlan } from '../runtime/plan.js';


export interface AotOptions {
  /** The backend the module runs on (default cpu). */
  readonly backend?: 'cpu' | 'webgpu';
  /**
   * `inline` (default): the weights are base64 text in the module, one file to ship. `file`: a
   * .safetensors file beside the module (`weightsFile`, default the module's name with that extension),
   * fetched at load: smaller to parse, and cacheable apart from the code.
   */
  readonly weights?: 'inline' | 'file';
  /** The weights file's name, relative to the module (with weights: 'file'). */
  readonly weightsFile?: string;
  /** Minify the module (default true). */
  readonly minify?: boolean;
}

export interface AotModule {
  /** The ES module's source text. */
  readonly code: string;
  /** The weights blob (safetensors), to write beside the module when weights: 'file'. */
  readonly weightsFile?: { readonly name: string; readonly bytes: Uint8Array };
  readonly plan: AotPlan;
  readonly sizes: { readonly moduleBytes: number; readonly runtimeBytes: number; readonly wasmBytes: number; readonly weightBytes: number };
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** A safe relative file name for the weights: a plain name, no folders, nothing to escape in a URL. */
function checkWeightsFile(name: string): string {
  if (!/^[\w][\w.-]*$/.test(name)) throw new AotCompileError(`weights file name ${JSON.stringify(name)} must be a plain file name (letters, digits, '.', '-', '_')`, 'choose a name like model.safetensors');
  return name;
}

/** The plan, kernels and weights for the chosen backend, and the runtime entry and load call of its module. */
function forBackend(backend: string, source: AotSource): { plan: AotPlan; weights: ReadonlyMap<string, Tensor>; wasm?: Uint8Array; lines: string[] } {
  if (backend === 'cpu') {
    const { plan, wasm, weights } = planForCpu(source);
    // Only the eager kernels this program's eager steps use are imported (the bundler drops the rest).
    const ops = [...new Set(plan.steps.flatMap((s) => (s.kind === 'fallback' ? [s.op] : [])))];
    const kernels = [...new Set(ops.map((op) => STANDALONE_EAGER_OPS[op]!))];
    // (planForCpu checked each eager step's arguments against its kernel: standaloneKernel.)
    return {
      plan, wasm, weights,
      lines: [
        `import { loadCpuModel } from ${JSON.stringify(RUNTIME_ENTRY)};`,
        ...(kernels.length ? [`import { ${kernels.join(', ')} } from ${JSON.stringify(EAGER_KERNELS_ENTRY)};`] : []),
        `const wasm = ${JSON.stringify(base64(wasm))};`,
        // Op names come from the lowered program's own op table (never user text), written as JSON keys.
        `const eager = { ${ops.map((op) => `${JSON.stringify(op)}: ${STANDALONE_EAGER_OPS[op]!}`).join(', ')} };`,
        'export function load(options) { return loadCpuModel(plan, wasm, weights, import.meta.url, options, eager); }',
      ],
    };
  }
  if (backend === 'webgpu') {
    const { plan, weights } = planForWebGpu(source);
    return {
      plan, weights,
      lines: [`import { loadWebGpuModel } from ${JSON.stringify(WEBGPU_RUNTIME_ENTRY)};`, 'export function load(options) { return loadWebGpuModel(plan, weights, import.meta.url, options); }'],
    };
  }
  throw new AotCompileError(`aot: backend ${JSON.stringify(backend)} is not one AOT compiles for`, "use backend: 'cpu' or 'webgpu'");
}

export async function aotCompile(exported: ExportedProgram, options: AotOptions = {}): Promise<AotModule> {
  const backend = options.backend ?? 'cpu';
  const source = sourceFromExported(exported);
  const { plan, wasm, weights, lines } = forBackend(backend, source);
  const blob = writeSafetensors(weights, { format: 'kiln-aot', kilnVersion: KILN_VERSION });
  const file = options.weights === 'file' ? checkWeightsFile(options.weightsFile ?? `${source.name.replace(/[^\w.-]/g, '_') || 'model'}.safetensors`) : undefined;
  const weightsSource = file ? { file } : weights.size ? { inline: base64(blob) } : { none: true };
  // Every value reaches the module as JSON (a subset of JS): no user string is spliced in unescaped.
  const entry = [
    `const plan = ${JSON.stringify(plan)};`,
    `const weights = ${JSON.stringify(weightsSource)};`,
    ...lines,
    `export const inputs = plan.inputs;`,
    `export const kilnVersion = plan.kilnVersion;`,
    `export default load;`,
  ].join('\n');
  const bundled = await bundleModule(entry, { minify: options.minify ?? true });
  const code = `// Generated by kiln aot (Kiln ${KILN_VERSION}, backend ${backend}). Standalone: needs no Kiln package. Do not edit.\n${bundled.code}`;
  const runtime = await bundleRuntime(backend === 'webgpu' ? 'webgpu' : 'cpu');
  return {
    code,
    ...(file ? { weightsFile: { name: file, bytes: blob } } : {}),
    plan,
    sizes: { moduleBytes: Buffer.byteLength(code), runtimeBytes: runtime.bytes, wasmBytes: wasm?.byteLength ?? 0, weightBytes: weights.size ? blob.byteLength : 0 },
  };
}

/** Writes the module to `path` (and its weights file beside it). Returns the paths written. */
export async function writeAotModule(module: AotModule, path: string): Promise<string[]> {
  await writeFile(path, module.code);
  if (!module.weightsFile) return [path];
  const weightsPath = join(dirname(path), basename(module.weightsFile.name));
  await writeFile(weightsPath, module.weightsFile.bytes);
  return [path, weightsPath];
}

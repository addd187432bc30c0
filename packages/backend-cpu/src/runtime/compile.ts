// Loop-IR kernels → one wasm module → callable kernels bound to an arena.
import type { Kernel } from '@kiln/lower';
import { verifyKernel } from '@kiln/lower';
import { MathLibrary } from '../codegen/math/library.js';
import { ModuleBuilder, MEMORY_IMPORT } from '../codegen/wasm/module.js';
import type { FunctionBuilder } from '../codegen/wasm/function.js';
import type { KernelSignature } from '../codegen/kernels/frame.js';
import { emitPointwise } from '../codegen/kernels/pointwise.js';
import { emitReduction } from '../codegen/kernels/reduction.js';
import { emitMatmul, type MatmulBlocking } from '../codegen/kernels/matmul.js';
import { matmulBlockingFor } from './matmul-autotune.js';
import type { Arena } from './arena.js';
import { CpuCodegenError } from '../codegen/kernels/errors.js';
import { wasmApi } from './wasm-api.js';
import { makeCall, type Exports, type KernelCall } from './dispatch.js';
import { kernelSizeCheck, type KernelSizeCheck } from './size-limits.js';

export interface CompiledKernel {
  readonly kernel: Kernel;
  readonly signature: KernelSignature;
  /** The sizes to check against the int32 range before each call (runtime/size-limits.ts). */
  readonly sizeCheck: KernelSizeCheck;
  /** Runs on arena pointers (byte addresses) and size parameters; answers on how many threads it ran. */
  readonly call: KernelCall;
}

export interface CompiledModule {
  readonly kernels: ReadonlyMap<string, CompiledKernel>;
  readonly wasm: Uint8Array;
  /** What instantiateKernels needs to bind the same bytes again (a persistent cache keeps it). */
  readonly emitted: readonly EmittedKernel[];
  readonly timings: { readonly codegenMs: number; readonly wasmCompileMs: number };
  /** Some kernel may flag a call for an eager recompute (codegen/imprecise.ts): the runner must check. */
  readonly setsImpreciseFlag: boolean;
  /** The products' blocking (undefined: the module has none); a persistent cache keys its entries by it. */
  readonly matmulBlocking?: MatmulBlocking;
}

function emitKernel(
  k: Kernel, exportName: string, math: MathLibrary, module: ModuleBuilder, blocking?: MatmulBlocking,
): { f: FunctionBuilder; signature: KernelSignature } {
  switch (k.kind) {
    case 'pointwise':
      return emitPointwise(k, exportName, math);
    case 'reduction':
      return emitReduction(k, exportName, math);
    case 'extern':
      return emitMatmul(k, exportName, math, module, blocking);
    default:
      return k satisfies never;
  }
}

/** Generates and instantiates one module for `kernels`. Kernel names become export names `k0`, `k1`… */
export interface CompileOptions {
  /** Inline transcendentals into kernels (default true); false emits them as shared wasm functions. */
  readonly inlineMath?: boolean;
  /**
   * Matmul register tile and cache blocks. By default, the ones measured best on this machine
   * (runtime/matmul-autotune.ts: a short autotune at the first matmul, cached on disk by CPU model).
   */
  readonly matmulBlocking?: MatmulBlocking;
}

export function compileKernels(kernels: readonly Kernel[], arena: Arena, options: CompileOptions = {}): CompiledModule {
  const t0 = performance.now();
  const module = new ModuleBuilder(arena.maximumPages ? { shared: { maximumPages: arena.maximumPages } } : {});
  const math = new MathLibrary(module, { inline: options.inlineMath ?? true });
  const blocking = kernels.some((k) => k.kind === 'extern') ? (options.matmulBlocking ?? matmulBlockingFor(kernels)) : undefined;
  const emitted: EmittedKernel[] = kernels.map((kernel, i) => {
    verifyKernel(kernel);
    const { f, signature } = emitKernel(kernel, `k${i}`, math, module, blocking);
    module.addFunction(f, true);
    return { kernel, signature, exportName: `k${i}`, sizeCheck: kernelSizeCheck(kernel) };
  });
  const wasm = module.encode();
  const t1 = performance.now();
  const compiled = instantiateKernels(emitted, wasm, arena);
  const t2 = performance.now();
  return { kernels: compiled, wasm, emitted, timings: { codegenMs: t1 - t0, wasmCompileMs: t2 - t1 }, setsImpreciseFlag: module.setsImpreciseFlag, ...(blocking ? { matmulBlocking: blocking } : {}) };
}

/** One generated kernel of a module: its loop IR, its calling convention, its export name and its size checks. */
export interface EmittedKernel {
  readonly kernel: Kernel;
  readonly signature: KernelSignature;
  readonly exportName: string;
  /**
   * Found once, as the kernel is generated: a walk over the whole kernel (≈ 0.5 ms for the demo block's ten
   * kernels in a fresh process), which a program loaded from a persistent cache then does not repeat.
   */
  readonly sizeCheck: KernelSizeCheck;
}

/**
 * Instantiates generated wasm bytes against the arena and binds each kernel's call. Used right after codegen,
 * and by a persistent compile cache that kept the bytes and the kernels' signatures from an earlier process.
 */
export function instantiateKernels(emitted: readonly EmittedKernel[], wasm: Uint8Array, arena: Arena): Map<string, CompiledKernel> {
  const compiledModule = new wasmApi.Module(wasm);
  const instance = new wasmApi.Instance(compiledModule, {
    [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: arena.memory },
  });
  const exportNames = emitted.flatMap(({ signature, exportName }) => [
    exportName,
    ...(signature.split?.epilogue ? [signature.split.epilogue.exportName] : []),
  ]);
  const pool = arena.threads;
  let moduleId: number | undefined;
  const exports: Exports = {
    fn: (name) => instance.exports[name] as (...args: number[]) => void,
    index: (name) => exportNames.indexOf(name),
    ...(pool ? { threaded: () => (moduleId ??= pool.register(compiledModule, exportNames, exports)) } : {}),
  };
  const compiled = new Map<string, CompiledKernel>();
  for (const { kernel, signature, exportName, sizeCheck } of emitted) {
    compiled.set(kernel.name, { kernel, signature, sizeCheck, call: makeCall(signature, exportName, exports, arena) });
  }
  return compiled;
}

/**
 * Why this backend cannot generate `kernel` (a dtype or op it does not support), or undefined if it can.
 * A dry run of codegen, about a millisecond: lowering calls it to fall back to eager per node, visibly,
 * instead of failing the whole compile. Malformed kernels still throw (LoopIRError): that is a lowering bug.
 */
export function unsupportedReason(kernel: Kernel): string | undefined {
  verifyKernel(kernel);
  const module = new ModuleBuilder();
  try {
    emitKernel(kernel, 'k0', new MathLibrary(module), module);
    return undefined;
  } catch (err) {
    if (err instanceof CpuCodegenError) return err.message;
    throw err;
  }
}


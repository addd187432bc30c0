export { Arena, type TypedArray } from './runtime/arena.js';
export { compileKernels, type CompileOptions, type CompiledKernel, type CompiledModule } from './runtime/compile.js';
export { runOnArrays, type ArrayArgs, type RunStats } from './runtime/run.js';
export { CpuCodegenError } from './codegen/kernels/errors.js';
export type { KernelSignature } from './codegen/kernels/frame.js';
export { ModuleBuilder } from './codegen/wasm/module.js';
export { FunctionBuilder, type Local } from './codegen/wasm/function.js';
export { cpuBackend, compileGraphForCpu } from './backend.js';
export { ProgramRunner, type ProgramStats } from './runtime/program.js';

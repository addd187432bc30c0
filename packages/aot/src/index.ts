// @kiln/aot: ahead-of-time compilation of an exported program into a standalone ES module (no tracer, no
// compiler, no `node:` imports) for Node and browsers. The runtime the module carries is runtime/.
export { aotCompile, writeAotModule, type AotModule, type AotOptions } from './compile/aot-compile.js';
export { AotCompileError, sourceFromExported, type AotSource, type AotPlaceholder } from './compile/source.js';
export { bundleRuntime, type BundleResult } from './compile/bundle.js';
export type { CpuPlan, AotInputSpec, AotSymbolRange } from './runtime/plan.js';
export { AotInputError, AotLoadError, AotRuntimeError } from './runtime/errors.js';
export type { AotTensor } from './runtime/outputs.js';
export { runAotCli, AOT_USAGE } from './cli.js';

// The graph IR users meet (printGraph, traceOps, Graph, the passes), re-exported for compile()'s users;
// the loop IR and lowering live in @kiln/lower, which core does not depend on.
export * from '@kiln/graph';
export * from './backends/registry.js';
export * from './compile.js';
export * from './explain.js';
export * from './trace/errors.js';
export * from './policy-api.js';
export * from './config.js';
export * from './hooks.js';
export * from './compiler.js';
export { runKilnCli } from './cli/kiln.js';
export { check, checkIsSize } from './checks.js';

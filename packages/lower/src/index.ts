// @kiln/lower: what every backend shares. The loop IR (kernels over index expressions with symbolic sizes)
// with its printer and verifier, lowering from the core graph, fusion, and the lowered program a backend runs.
// The loop-IR builders are a namespace (`loop.add`, `loop.load`…): at the top level those names are tensor ops.
export * from './loop-ir/loop-ir.js';
export * from './loop-ir/sizes.js';
export * as loop from './loop-ir/build.js';
export * from './loop-ir/dtypes.js';
export * from './loop-ir/errors.js';
export * from './loop-ir/print.js';
export * from './loop-ir/verify.js';
export * from './loop-ir/traverse.js';
export * from './program/program.js';
export * from './lowering/builder.js';
export * from './lowering/lower-graph.js';
export * from './lowering/errors.js';
export { toSizeExpr } from './lowering/sizes-from-shapes.js';
export { paramValue, resolveScalarArg } from './lowering/scalar-operands.js';
export type { ScalarArg } from './lowering/scalar-operands.js';
export { fuseProgram } from './schedule/fuse.js';

// @kiln/lower: what every backend shares. The backend contract, the loop IR (kernels over index
// expressions with symbolic sizes) with its printer and verifier, lowering from the core graph, fusion,
// and the lowered program a backend runs. The loop-IR builders are a namespace (`loop.add`, `loop.load`…):
// at the top level those names are tensor ops.
export * from './backend/contract.js';
export { registerBackend, registeredBackends, backendPlugin, validateBackend, type BackendHost } from './backend/registry.js';
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
export type { PointwiseContext, PointwiseRule } from './lowering/pointwise-rules.js';
export { LOWERING_TABLE, loweredOps, lowerFormula, type LoweringRule } from './lowering/table.js';
export { pointwiseRules as POINTWISE_RULES } from './lowering/pointwise-rules.js';
export * from './lowering/errors.js';
export { toSizeExpr, sizeFromExprJson } from './lowering/sizes-from-shapes.js';
export { paramValue, resolveScalarArg } from './program/params.js';
export type { ScalarArg } from './program/params.js';
export { planMemory, type MemoryPlan } from './program/memory-plan.js';
export { fuseProgram, FUSION_RULES, type FusionRule } from './schedule/fuse.js';
export { BASELINE_CAPABILITIES } from './lowering/lower-graph.js';
export { lowerForCodegen } from './program/lower-for-codegen.js';
export type { CodegenRejection } from './program/lower-for-codegen.js';
export { ProgramExecutor, type DeviceMemory, type Execution } from './program/executor.js';
export { bundleStamp, codeStamp, kilnCodeStamp } from './persist/code-stamp.js';
export { isPlainData, programFromData, programToData } from './persist/program-data.js';

// The graph IR users meet (printGraph, traceOps, Graph, the passes), re-exported for compile()'s users.
// Of @kiln/lower, core uses only the backend contract (re-exported here for plugin authors); the loop IR and
// lowering are the backends' business.
export * from '@kiln/graph';
export { registerBackend, backendPlugin, EAGER_CAPABILITIES } from '@kiln/lower';
export type {
  Backend, BackendAvailability, BackendCapabilities, BackendCompileContext, BackendReport, CompiledGraph, EagerStepReport, OpLoweringOverride,
} from '@kiln/lower';
export { BackendUnavailableError, UnknownBackendError, backendAvailability, describeBackends, eagerBackend, selectBackend } from './backends/registry.js';
export * from './compile.js';
export * from './explain.js';
export { recordExplains } from './explain-session.js';
export { EXPORTED_PROGRAM_INFO, exportedProgramInfo } from './exported-program.js';
export type { ExplainableProgram, ExportedAssertInfo, ExportedDimInfo, ExportedInputInfo, ExportedProgramInfo, ExportedStateInfo } from './exported-program.js';
export type { ExplainSession, ExplainedFunction } from './explain-session.js';
export * from './trace/errors.js';
export * from './policy-api.js';
export * from './config/index.js';
export * from './hooks.js';
// For plugins that log under KILN_LOGS (the persistent cache logs as `cache`).
export { log, logEnabled } from './logs/index.js';
// Counts in messages (`1 recompile`, `2 recompiles`), for the CLI and plugins.
export { plural } from './logs/plural.js';
export * from './compiler.js';
export { runAuditCommand, runOpsCommand, checkConfigRules, AUDIT_USAGE, OPS_USAGE } from './cli/kiln.js';
export type { ConfigRuleFinding } from './cli/kiln.js';
export { LOG_ARTIFACTS, LOG_ARTIFACT_DOCS, logHelp } from './logs/index.js';
export { check, checkIsSize } from './checks.js';
export { atProcessEnd } from './process-end.js';

/** Names of the backends the default compiler can use (`auto` aside), best first. */
export { backendNames } from './backends/names.js';
export { captureForExport, compileGraphOn, parameterNamesOf } from './export-capture.js';
export type { CapturedInput, CapturedMutation, ExportCapture, ExportCaptureOptions, OutputTemplate } from './export-capture.js';
export { loweringOverrides } from './backends/lowering-overrides.js';
export type { LoweringOverride } from './backends/lowering-overrides.js';

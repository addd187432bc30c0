// @kiln/export: torch.export for Kiln. exportProgram traces a function once as a whole graph with its
// specs, state and dims; programs serialize to JSON plus safetensors weights and run on any backend.
export { exportProgram, KILN_VERSION } from './export.js';
export type { ExportOptions } from './export.js';
export { Dim, DimRef } from './dims.js';
export * from './program.js';
export * from './errors.js';
export { programModule } from './run/module.js';
export type { ProgramModule, ProgramModuleOptions } from './run/module.js';
export { saveProgram, readProgram, loadProgram, serializeProgram, deserializeProgram, PROGRAM_METADATA_KEY } from './serialize/save-load.js';
export type { ProgramJson } from './serialize/program-json.js';
export { readSafetensors, writeSafetensors } from './serialize/safetensors.js';
export type { SafetensorsContents } from './serialize/safetensors.js';
export { toOnnx, ONNX_OPSET } from './onnx/write.js';
export type { OnnxOptions } from './onnx/write.js';
export { ONNX_MAPPED_OPS } from './onnx/rules.js';
export { exportPlugin, exportPlugin as default } from './plugin.js';
export { printProgram } from './print.js';

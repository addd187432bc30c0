// @kiln/export as a config plugin (`plugins: ['@kiln/export']`): it adds the `onnx` column to `kiln audit`,
// the core ops an exported program may contain and still be written as ONNX.
import type { KilnPlugin } from '@kiln/core';
import { ONNX_MAPPED_OPS } from './onnx/rules.js';

export const exportPlugin: KilnPlugin = {
  name: '@kiln/export',
  apply(compiler) {
    compiler.hooks.auditTables.tap('@kiln/export', (tables) => [...tables, { name: 'onnx', ops: ONNX_MAPPED_OPS, missingMeans: 'no ONNX mapping: toOnnx raises OnnxExportError naming the op' }]);
  },
};

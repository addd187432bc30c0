// The config `pnpm run audit` audits with (KILN_CONFIG picks it): the backends the project ships and
// @kiln/export, whose plugin adds the `onnx` column (the core ops an exported program may contain and still
// be written as ONNX). Not named kiln.config.*, so programs and tests run from this folder do not load it.
export default { plugins: ['@kiln/backend-cpu', '@kiln/export'] };

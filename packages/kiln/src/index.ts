// The one import for users: the tensor library, compile() and what goes with it, and the CPU (WebAssembly)
// backend registered, so `compile(fn)` generates wasm kernels by default — as `import torch` brings
// torch.compile's default backend along. The packages stay usable one by one: `@kiln/core` alone compiles
// onto the graph interpreter until a backend registers itself.
import '@kiln/backend-cpu';

export * from '@kiln/tensor';

// Optimizers, as torch.optim: `new optim.Adam(params, { lr })`.
export * as optim from '@kiln/optim';

// compile() and its companions. Core's loop-IR builders (add, mul, where…) are not re-exported: here those
// names are the tensor ops.
export {
  compile, explain, reset, markDynamic, check, checkIsSize,
  allowInGraph, disallowInGraph, inline, skip, substitute,
  configure, createCompiler, getDefaultCompiler, setDefaultCompiler, Compiler, registerBackend, backendNames,
  FullGraphError, GraphBreak, KilnConfigError, UnknownBackendError,
} from '@kiln/core';
export type { CompileOptions, ExplainOutput, KilnPlugin, KilnConfig } from '@kiln/core';

// What check() and data-dependent sizes raise, so users can test for them through the one import.
export { CheckFailedError, DataDependentError } from '@kiln/shapes';

// Settings of the CPU backend: memory (resident outputs and kept inputs) and threads.
export { configureResident, configureThreads } from '@kiln/backend-cpu';
export type { ResidentOptions } from '@kiln/backend-cpu';

// Export (torch.export's counterpart): a whole-graph program with specs, state and dims, saved and loaded.
export * from '@kiln/export';


// @kiln/graph: the graph IR (nodes, printer, verifier, interpreter, JSON form, runtime asserts), graph capture
// from tensor ops on fake tensors (traceOps), and the graph passes (constant folding, CSE, DCE, decomposition).
export * from './ir/node.js';
export * from './ir/graph.js';
export * from './ir/print.js';
export * from './ir/verify.js';
export * from './ir/interpreter.js';
export * from './ir/serialize.js';
export * from './ir/asserts.js';
export { withUserFrame } from './ir/user-frame.js';
export * from './trace-ops/recorder.js';
export * from './trace-ops/trace-ops.js';
export * from './trace-ops/trace-joint.js';
export * from './passes/dce.js';
export * from './passes/cse.js';
export * from './passes/constant-fold.js';
export * from './passes/decompose.js';
export * from './passes/pass-manager.js';
export * from './passes/partition.js';

export * from './program.js';
export * from './builder.js';
export * from './lower-graph.js';
export * from './errors.js';
export { toSizeExpr } from './sizes-from-shapes.js';
export { paramValue, resolveScalarArg } from './scalar-operands.js';
export type { ScalarArg } from './scalar-operands.js';
export { fuseProgram } from './fuse.js';

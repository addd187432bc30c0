// The op table: every public op, by category. tensor.ts derives the Tensor methods' types from it.
export * from './creation.js';
export * from './unary.js';
export * from './pointwise.js';
export * from './views.js';
export * from './slicing.js';
export { viewStrides } from './view-layout.js';
export * from './join.js';
export * from './indexing.js';
export * from './conversion.js';
export * from './inplace.js';
export * from './reductions.js';
export * from './normalization.js';
export * from './linalg.js';
export * from './scatter.js';

// The op table: every public op, by category. tensor.ts derives the Tensor methods' types from it.
export * from './creation.js';
export * from './pointwise.js';
export * from './views.js';

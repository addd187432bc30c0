export * from './loop-ir.js';
export * from './sizes.js';
export * from './build.js';
export * from './dtypes.js';
export * from './errors.js';
export * from './print.js';
export * from './verify.js';
export * from './traverse.js';

export * from './lower/index.js';

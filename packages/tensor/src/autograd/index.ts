import './record.js';
import './methods.js';

export { noGrad, enableGrad, isGradEnabled } from './grad-mode.js';
export { autograd } from './methods.js';
export type { GradOptions } from './methods.js';
export type { BackwardOptions } from './engine.js';
export { GradNode, edgeOf } from './node.js';
export type { Edge } from './node.js';
export { sumToShape } from './shape-grad.js';
export { grad, valueAndGrad, vjp, jvp } from './functional.js';
export type { GradTransformOptions } from './functional.js';

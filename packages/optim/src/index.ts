// @kiln/optim: optimizers over @kiln/tensor parameters, as torch.optim.
export { Optimizer } from './optimizer.js';
export type { ParamGroup, Params } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { TRACED_FORM } from './optimizer.js';
export type { ParamState } from './optimizer.js';

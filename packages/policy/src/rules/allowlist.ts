/**
 * The allowlist: every tensor function and Tensor method that may be put in a graph as one node, enumerated
 * one entry per function. No pattern, prefix or heuristic ever adds to it — a new op gets a line here (run
 * `packages/policy/scripts/sync-allowlist.ts` to print the missing lines), and `kiln audit` fails until it
 * does. The audit fills in the rest of each entry's record (has meta, has decomposition, runs on fake
 * tensors, pure, which backends lower it) from the op registry and real runs.
 */

/**
 * A side effect the entry is known and allowed to have. `rng`: advances the default random generator when
 * no `generator` is passed (PyTorch treats random ops the same way: allowed, but flagged, because the
 * compiled code must thread the generator state). `mutates-input`: an in-place op, writes its first argument
 * and nothing global.
 */
export type KnownEffect = 'rng' | 'mutates-input';

export interface AllowlistEntry {
  /** Qualified name of the function: `@kiln/tensor#add`, `@kiln/tensor#Tensor.prototype.add`. */
  readonly name: string;
  /** The op registry name the function calls. */
  readonly op: string;
  readonly effect?: KnownEffect;
}

const fn = (op: string, effect?: KnownEffect): AllowlistEntry => ({ name: `@kiln/tensor#${op}`, op, ...(effect && { effect }) });
const method = (op: string, effect?: KnownEffect): AllowlistEntry => ({
  name: `@kiln/tensor#Tensor.prototype.${op}`,
  op,
  ...(effect && { effect }),
});

export const TENSOR_ALLOWLIST: readonly AllowlistEntry[] = [
  // creation
  fn('tensor'), fn('full'), fn('zeros'), fn('ones'), fn('zerosLike'), fn('onesLike'), fn('fullLike'),
  fn('arange'), fn('linspace'), fn('eye'),
  // random: allowed in the graph, but they advance the default generator — an explicit, audited effect
  fn('rand', 'rng'), fn('randn', 'rng'), fn('randLike', 'rng'), fn('randnLike', 'rng'),
  // pointwise, as functions
  fn('neg'), fn('abs'), fn('exp'), fn('log'), fn('log1p'), fn('sqrt'), fn('rsqrt'), fn('sin'), fn('cos'),
  fn('tanh'), fn('sigmoid'), fn('relu'), fn('gelu'), fn('silu'), fn('erf'), fn('floor'), fn('ceil'),
  fn('round'), fn('sign'), fn('reciprocal'), fn('logicalNot'),
  fn('add'), fn('sub'), fn('mul'), fn('div'), fn('pow'), fn('maximum'), fn('minimum'), fn('remainder'),
  fn('atan2'), fn('eq'), fn('ne'), fn('lt'), fn('le'), fn('gt'), fn('ge'), fn('logicalAnd'), fn('logicalOr'),
  fn('where'), fn('clamp'),
  // pointwise, as methods
  method('neg'), method('abs'), method('exp'), method('log'), method('log1p'), method('sqrt'), method('rsqrt'),
  method('sin'), method('cos'), method('tanh'), method('sigmoid'), method('relu'), method('gelu'), method('silu'),
  method('erf'), method('floor'), method('ceil'), method('round'), method('sign'), method('reciprocal'),
  method('logicalNot'),
  method('add'), method('sub'), method('mul'), method('div'), method('pow'), method('maximum'), method('minimum'),
  method('remainder'), method('atan2'), method('eq'), method('ne'), method('lt'), method('le'), method('gt'),
  method('ge'), method('logicalAnd'), method('logicalOr'), method('clamp'),
  // views and shape ops, as functions
  fn('reshape'), fn('view'), fn('permute'), fn('transpose'), fn('expand'), fn('slice'), fn('narrow'),
  fn('select'), fn('squeeze'), fn('unsqueeze'), fn('flatten'), fn('contiguous'), fn('clone'),
  // views and shape ops, as methods
  method('reshape'), method('view'), method('permute'), method('transpose'), method('expand'), method('slice'),
  method('narrow'), method('select'), method('squeeze'), method('unsqueeze'), method('flatten'),
  method('contiguous'), method('clone'),
  // shape, as functions
  fn('cat'), fn('stack'),
  // view, as functions
  fn('chunk'), fn('split'),
  // view, as methods
  method('chunk'), method('split'),
  // reduction, as functions
  fn('all'), fn('amax'), fn('amin'), fn('any'), fn('argmax'), fn('argmin'), fn('cumsum'), fn('logsumexp'), fn('max'),
  fn('mean'), fn('min'), fn('prod'), fn('std'), fn('sum'), fn('var'),
  // reduction, as methods
  method('all'), method('amax'), method('amin'), method('any'), method('argmax'), method('argmin'), method('cumsum'),
  method('logsumexp'), method('max'), method('mean'), method('min'), method('prod'), method('std'), method('sum'),
  method('var'),
  // linalg, as functions
  fn('linear'), fn('matmul'),
  // linalg, as methods
  method('matmul'),
  // indexing, as functions
  fn('embedding'), fn('gather'), fn('scatterAdd'), fn('indexSelect'), fn('maskedFill'), fn('oneHot'), fn('tril'), fn('triu'),
  // indexing, as methods
  method('gather'), method('scatterAdd'), method('indexSelect'), method('maskedFill'), method('tril'), method('triu'),
  // normalization, as functions
  fn('layerNorm'), fn('logSoftmax'), fn('softmax'),
  // normalization, as methods
  method('logSoftmax'), method('softmax'),
  // conversion, as functions
  fn('item'), fn('to'),
  // conversion, as methods
  method('item'), method('to'),
  // data-dependent, as functions
  fn('nonzero'),
  // data-dependent, as methods
  method('nonzero'),
  // inplace, as functions
  fn('add_', 'mutates-input'), fn('clamp_', 'mutates-input'), fn('copy_', 'mutates-input'),
  fn('div_', 'mutates-input'), fn('fill_', 'mutates-input'), fn('maskedFill_', 'mutates-input'),
  fn('mul_', 'mutates-input'), fn('sub_', 'mutates-input'), fn('zero_', 'mutates-input'),
  // inplace, as methods
  method('add_', 'mutates-input'), method('clamp_', 'mutates-input'), method('copy_', 'mutates-input'),
  method('div_', 'mutates-input'), method('fill_', 'mutates-input'), method('maskedFill_', 'mutates-input'),
  method('mul_', 'mutates-input'), method('sub_', 'mutates-input'), method('zero_', 'mutates-input'),
];

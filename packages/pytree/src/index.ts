// @kiln/pytree: flatten / unflatten / map of nested JavaScript values, TreeSpec, node registry, key paths.
export {
  treeFlatten,
  treeUnflatten,
  treeLeaves,
  treeStructure,
  treeMap,
  treeMapInPlace,
  treeReduce,
  treeAll,
  treeAny,
  treeMapOnly,
  treeTranspose,
  treeBroadcastPrefix,
  treeFlattenWithPath,
  treeLeavesWithPath,
  treeMapWithPath,
  treeIsLeaf,
  treeAllLeaves,
  withOptions,
  type PytreeOps,
} from './api.js';
export type { LeafSelector, Tree } from './ops.js';
export type { TreeOptions } from './options.js';
export { DEFAULT_MAX_DEPTH } from './options.js';
export { TreeSpec, type SpecKind } from './spec.js';
export {
  GLOBAL_NAMESPACE,
  registerPytreeNode,
  registerDataclass,
  registerStatic,
  unregisterPytreeNode,
  type Constructor,
  type DataclassOptions,
  type FlattenedNode,
  type RegisterOptions,
  type StaticOptions,
} from './registry.js';
export { keystr, SequenceKey, DictKey, AttrKey, type PathEntry, type KeyPath } from './paths.js';
export {
  PytreeError,
  StructureMismatchError,
  LeafCountError,
  CycleError,
  DepthLimitError,
  AccessError,
  RegistrationError,
  SerializationError,
  ArgumentError,
} from './errors.js';
export { serializeSpec as serializeTreeSpec } from './serialize.js';
export { deserializeSpec as deserializeTreeSpec } from './deserialize.js';
export { generatedSource } from './codegen/debug.js';

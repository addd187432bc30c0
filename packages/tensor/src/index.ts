import './methods.js';

export * from './autograd/index.js';

export * from './ops/index.js';
export { Tensor, contiguousStridesOf } from './tensor.js';
export type { ReadOptions } from './tensor.js';
export type { Device, DeviceImpl } from './device.js';
export { registerDevice, isDeviceName, isHostDevice, syncReadError } from './device.js';
export type { CoreOpName } from './tensor.js';
export { Storage } from './storage.js';
export type { ExternalBytes } from './storage.js';
export { DTYPES, allocate, copyElements, isDType, promoteTypes, resultType, isFloating } from './dtype.js';
export type { DType, TypedArray, ScalarLike, SymbolicScalar } from './dtype.js';
export * from './errors.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export {
  defineOp, getOp, allOps, isBuiltinOp, withDispatchMode, currentDispatchMode, runEager, eagerMetaContext,
} from './registry/registry.js';
export type { DispatchMode } from './registry/registry.js';
export { OP_CATEGORIES } from './registry/op-types.js';
export type { OpDef, OpFunction, MetaContext, MetaResult, MetaTensor, TensorMetaLike, OpCategory } from './registry/op-types.js';
export { listOps, derivativeKind } from './registry/op-listing.js';
export type { DerivativeKind } from './registry/op-listing.js';
export { scalar, SCALAR_UNARY, SCALAR_BINARY } from './registry/formula.js';
export type { ScalarExpr, ScalarLikeExpr, ScalarUnaryOp, ScalarBinaryOp, FormulaFn, FormulaArg, PointwiseFormula } from './registry/formula.js';
export { formatSchema, normalizeArgs } from './registry/schema.js';
export type { ArgSpec, ArgTypes, Schema, NestedData } from './registry/schema.js';
export type { GradContext, Derivative, DerivativeRule, InputGrads } from './registry/derivative.js';
export * from './size.js';
export { FakeTensor, FakeTensorError, FakeTensorMode, FakeStorage, materializeMeta } from './fake/fake-tensor.js';

// Last: every op defined so far is @kiln/tensor's own (isBuiltinOp); a plugin's or the user's comes later.
import { sealBuiltinOps } from './registry/registry.js';
sealBuiltinOps();

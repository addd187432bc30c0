import './methods.js';

export * from './autograd/index.js';

export * from './ops/index.js';
export { Tensor, contiguousStridesOf } from './tensor.js';
export type { Device, DeviceImpl } from './device.js';
export { registerDevice, isDeviceName, syncReadError } from './device.js';
export type { CoreOpName } from './tensor.js';
export { Storage } from './storage.js';
export type { ExternalBytes } from './storage.js';
export { DTYPES, allocate, isDType, promoteTypes, resultType, isFloating } from './dtype.js';
export type { DType, TypedArray, ScalarLike, SymbolicScalar } from './dtype.js';
export * from './errors.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export {
  defineOp, getOp, allOps, listOps, withDispatchMode, currentDispatchMode, runEager, eagerMetaContext, OP_CATEGORIES,
} from './registry/registry.js';
export type { OpDef, OpFunction, DispatchMode, MetaContext, MetaResult, MetaTensor, TensorMetaLike, OpCategory } from './registry/registry.js';
export { scalar, SCALAR_UNARY, SCALAR_BINARY } from './registry/formula.js';
export type { ScalarExpr, ScalarLikeExpr, ScalarUnaryOp, ScalarBinaryOp, FormulaFn, FormulaArg, PointwiseFormula } from './registry/formula.js';
export { formatSchema, normalizeArgs } from './registry/schema.js';
export type { ArgSpec, ArgTypes, Schema, NestedData } from './registry/schema.js';
export type { GradContext, Derivative, DerivativeRule, InputGrads } from './registry/derivative.js';
export { derivativeKind } from './registry/registry.js';
export type { DerivativeKind } from './registry/registry.js';
export * from './size.js';
export { FakeTensor, FakeTensorError, FakeTensorMode, FakeStorage, materializeMeta } from './fake/fake-tensor.js';

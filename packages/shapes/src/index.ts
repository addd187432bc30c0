// @kiln/shapes: symbolic sizes (SymInt / SymBool / SymFloat), the ShapeEnv that owns their symbols, value
// ranges, guards and runtime asserts as expressions that print, serialize, and compile to plain JavaScript.
export type { Size, SymIntLike, SymBoolLike } from './size.js';
export { SymInt, SymBool, SymFloat, isSymInt, isSymBool, isSymFloat } from './sym.js';
export { ShapeEnv } from './shape-env.js';
export { formatShapeEnv } from './print.js';
export type { ShapeEnvJson, SymbolJson, FactJson } from './serialize.js';
export type { ShapeEnvOptions, DimDynamism, SymbolInfo, SourceBinding, RecordedFact } from './shape-env.js';
export {
  produceGuards,
  guardToJs,
  guardFunctionSource,
  symbolSources,
  produceRuntimeAsserts,
  assertToJs,
} from './produce-guards.js';
export type { ProducedGuard, GuardKind, GuardFunction, ProducedAssert } from './produce-guards.js';
export { DataDependentError, CheckFailedError, NestedIntError, SymbolicArithmeticError, JsEmitError } from './errors.js';
export type { UnbackedOrigin } from './errors.js';
export type { ValueRange } from './ranges.js';
export { rangeToString } from './ranges.js';
export { mathjsStats, resetMathjsStats, simplifyWithMathjs, toMathjsString } from './mathjs-facade.js';
export type { MathjsStats } from './mathjs-facade.js';
export * as expr from './expr/index.js';
export type { Expr, BoolExpr, Atom, CallFn, RelOp } from './expr/types.js';
export type { ExprJson, BoolJson } from './expr/json.js';
export type { SymbolToJs } from './expr/js.js';
export { symHint, sizeExpr, sizeToJs, sizeToString, sizeToJson, sizeFromJson, isStaticSize, guardSize } from './helpers.js';

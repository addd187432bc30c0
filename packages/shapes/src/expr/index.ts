// Expression-level API: the canonical form's constructors and queries, the printer (`key`), JS emission,
// JSON, substitution and evaluation. Most callers only need SymInt and ShapeEnv.
export { constant, symbolExpr, atomExpr, add, sub, mul, neg, scale, asConstant, asAtom, freeSymbols, isIntegerLinear } from './poly.js';
export { floorDiv, mod, min, max, trueDiv, pythonMod } from './functions.js';
export type { SimplifyContext } from './functions.js';
export { compare, relFromDiff, not, and, or, TRUE, FALSE } from './bool.js';
export type { CompareOp } from './bool.js';
export { toJs, boolToJs, isSafeAccessor } from './js.js';
export { exprToJson, exprFromJson, boolToJson, boolFromJson } from './json.js';
export { substitute, substituteBool, evaluate, evaluateBool, boolFreeSymbols } from './substitute.js';

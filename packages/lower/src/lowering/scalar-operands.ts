// Scalars that are only known at call time: a symbolic size used as an operand (`x.div(x.shape[1])`, a
// SymInt over input-shape parameters) and scalar graph inputs (an automatic-dynamic number: an int as a
// SymInt `u0`, a float as a SymFloat over `u1`). Both become kernel parameters; kernels read them as values
// (`size` / `floatParam`), eager fallbacks get them evaluated, so one program serves every value.
import { isSymFloat, isSymInt } from '@kiln/shapes';
import type { SymFloat } from '@kiln/shapes';
import { cast, constant } from '../loop-ir/build.js';
import type { LoopDType, ValueExpr } from '../loop-ir/loop-ir.js';
import type { ScalarArg } from '../program/params.js';
import { LoweringError } from './errors.js';
import type { ProgramBuilder } from './builder.js';
import { bareSymbol, toSizeExpr } from './sizes-from-shapes.js';

/** The parameter a float scalar input stands for: its SymFloat is exactly one symbol. */
function floatParamName(v: SymFloat): string {
  const name = String(v);
  if (!/^u\d+$/.test(name)) throw new LoweringError(`float scalar ${name} is not a graph input`, 'only scalar graph inputs are lowered as float parameters');
  return name;
}

/**
 * A placeholder whose value is a scalar (not a tensor): binds its symbol as a kernel parameter read from
 * `inputs[input]` and returns the symbolic value that operands refer to; undefined for tensor placeholders.
 */
export function scalarInput(b: ProgramBuilder, val: unknown, input: number): unknown {
  if (isSymInt(val)) {
    const param = bareSymbol(val);
    if (!param) throw new LoweringError(`scalar input ${String(val)} is not one symbol`);
    b.params.push({ param, input, scalar: 'int32' });
    b.boundParams.add(param);
    return val;
  }
  if (isSymFloat(val)) {
    const param = floatParamName(val);
    b.params.push({ param, input, scalar: 'float32' });
    b.boundParams.add(param);
    return val;
  }
  return undefined;
}

/** A non-tensor operand as a value of `dtype`: a constant, a size over parameters, or a float parameter. */
export function scalarOperand(o: unknown, dtype: LoopDType): ValueExpr {
  // `x.div(x.shape[1])` with a dynamic dim: the size is a kernel parameter, read as an int32 value.
  if (isSymInt(o)) return cast(dtype, { kind: 'size', value: toSizeExpr(o) });
  if (isSymFloat(o)) return cast(dtype, { kind: 'floatParam', param: floatParamName(o) });
  return constant(Number(o), dtype);
}


export function describeScalarArg(a: unknown): ScalarArg | undefined {
  if (isSymInt(a)) return { size: toSizeExpr(a) };
  if (isSymFloat(a)) return { floatParam: floatParamName(a) };
  return undefined;
}

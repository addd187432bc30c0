// Scalars that are only known at call time: a symbolic size used as an operand (`x.div(x.shape[1])`, a
// SymInt over input-shape parameters) and scalar graph inputs (an automatic-dynamic number: an int as a
// SymInt `u0`, a float as a SymFloat over `u1`). Both become kernel parameters; kernels read them as values
// (`size` / `floatParam`), eager fallbacks get them evaluated, so one program serves every value.
import { isSymFloat, isSymInt } from '@kiln/shapes';
import type { SymFloat } from '@kiln/shapes';
import { cast, constant } from '../loop-ir/build.js';
import type { LoopDType, SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { evalSize } from '../loop-ir/sizes.js';
import { LoweringError } from './errors.js';
import type { ProgramBuilder } from './builder.js';
import type { ParamBinding } from '../program/program.js';
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

/** An eager fallback's symbolic scalar argument, as the program stores it (evaluated by `resolveScalarArg`). */
export type ScalarArg = { readonly size: SizeExpr } | { readonly floatParam: string };

export function describeScalarArg(a: unknown): ScalarArg | undefined {
  if (isSymInt(a)) return { size: toSizeExpr(a) };
  if (isSymFloat(a)) return { floatParam: floatParamName(a) };
  return undefined;
}

const isScalarArg = (a: unknown): a is ScalarArg =>
  typeof a === 'object' && a !== null && Object.keys(a).length === 1 && ('size' in a || 'floatParam' in a);

/**
 * The number a fallback argument stands for at call time (other values unchanged). `floats` holds the
 * float scalar inputs as the caller passed them (the kernels' parameter slot only has their float32 bits).
 */
export function resolveScalarArg(a: unknown, params: Readonly<Record<string, number>>, floats: Readonly<Record<string, number>>): unknown {
  if (!isScalarArg(a)) return a;
  if ('size' in a) return evalSize(a.size, params);
  const v = floats[a.floatParam];
  if (v === undefined) throw new RangeError(`float parameter '${a.floatParam}' was not bound`);
  return v;
}

const bits = new DataView(new ArrayBuffer(4));

/** A parameter's kernel-slot value for this call's inputs (floats as their float32 bit pattern). */
export function paramValue(binding: ParamBinding, inputs: readonly unknown[]): number {
  const input = inputs[binding.input];
  if (!('scalar' in binding)) return (input as { shape: readonly number[] }).shape[binding.dim]!;
  if (binding.scalar === 'int32') return input as number;
  bits.setFloat32(0, input as number);
  return bits.getInt32(0);
}

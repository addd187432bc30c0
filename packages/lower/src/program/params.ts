// Binding a lowered program's parameters at call time, on any device: size parameters from input shapes,
// scalar inputs (floats as their float32 bit pattern for kernel slots), and the symbolic scalar arguments of
// eager steps evaluated to numbers.
import type { SizeExpr } from '../loop-ir/loop-ir.js';
import { evalSize } from '../loop-ir/sizes.js';
import type { ParamBinding } from './program.js';

/** An eager step's symbolic scalar argument, as the program stores it (evaluated by `resolveScalarArg`). */
export type ScalarArg = { readonly size: SizeExpr } | { readonly floatParam: string };

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

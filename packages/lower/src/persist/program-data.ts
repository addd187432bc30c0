// A lowered program as data a persistent cache can keep, for every backend: only what a structured clone
// copies faithfully survives, so the constants a program captured (tensors) travel as dtype, shape and
// bytes, and a program holding anything else (a graph node of an eager step, a class instance) is not kept
// at all: the cache then compiles it afresh rather than run a half-restored program.
import { Tensor } from '@kiln/tensor';
import type { DType, TypedArray } from '@kiln/tensor';
import type { LoweredProgram } from '../program/program.js';

const PLAIN_PROTOTYPES = new Set<unknown>([Object.prototype, Array.prototype, null, Map.prototype, Set.prototype, Uint8Array.prototype]);

/** Whether `value` is made only of what a structured clone copies faithfully (no class instances, no functions). */
export function isPlainData(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || value === undefined) return true;
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object') return true;
  if (seen.has(value)) return true;
  seen.add(value);
  if (!PLAIN_PROTOTYPES.has(Object.getPrototypeOf(value))) return false;
  if (value instanceof Uint8Array) return true;
  if (value instanceof Map) return [...value].every(([k, v]) => isPlainData(k, seen) && isPlainData(v, seen));
  if (value instanceof Set) return [...value].every((v) => isPlainData(v, seen));
  if (Object.getOwnPropertySymbols(value).length) return false;
  for (const key of Object.keys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if (d.get || d.set || !isPlainData(d.value, seen)) return false;
  }
  return true;
}

/** A captured constant (a buffer's `constant` tensor) as data: dtype, shape and its bytes. */
interface SavedConstant {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

type Buffer = LoweredProgram['buffers'][number];

/** The program with each captured constant tensor replaced by its data (host tensors only: the data is read). */
export function programToData(program: LoweredProgram): LoweredProgram {
  const buffers = program.buffers.map((b): Buffer => {
    const constant = (b as { constant?: unknown }).constant;
    if (!(constant instanceof Tensor)) return b;
    const data = constant.toTypedArray();
    const saved: SavedConstant = { dtype: constant.dtype, shape: [...constant.shape], bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
    return { ...b, constant: undefined, savedConstant: saved } as Buffer;
  });
  return { ...program, buffers };
}

const TYPED: Partial<Record<DType, (b: ArrayBuffer) => TypedArray>> = {
  float32: (b) => new Float32Array(b),
  int32: (b) => new Int32Array(b),
  bool: (b) => new Uint8Array(b),
};

/** programToData undone (constants become CPU tensors again), or undefined for a dtype it cannot rebuild. */
export function programFromData(program: LoweredProgram): LoweredProgram | undefined {
  let ok = true;
  const buffers = program.buffers.map((b): Buffer => {
    const saved = (b as { savedConstant?: SavedConstant }).savedConstant;
    if (!saved) return b;
    const typed = TYPED[saved.dtype];
    if (!typed) return (ok = false), b;
    const { savedConstant: _s, ...rest } = b as Buffer & { savedConstant?: SavedConstant };
    return { ...rest, constant: Tensor.fromData(typed(saved.bytes.slice().buffer), saved.shape, saved.dtype) } as Buffer;
  });
  return ok ? { ...program, buffers } : undefined;
}

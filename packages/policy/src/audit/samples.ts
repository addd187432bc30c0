import { Generator, Tensor, getOp, normalizeArgs } from '@kiln/tensor';
import type { ArgSpec, OpDef } from '@kiln/tensor';

/**
 * Sample inputs for each allowlisted op, used by the fake-tensor and purity checks. Most ops get theirs by
 * search: candidate values per schema type, tried until the eager op accepts them. Ops the search cannot
 * serve get an explicit entry in SAMPLES (the audit says so when one is needed).
 */

/** Fresh arguments on every call: in-place ops mutate theirs. */
export type SampleFactory = () => unknown[];

/** A float32 tensor with distinct, sign-mixed, non-integral values (so that every pointwise op moves them). */
export function sampleTensor(shape: readonly number[], dtype: 'float32' | 'int32' | 'bool' = 'float32', variant = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = dtype === 'bool' ? i % 2 : dtype === 'int32' ? (i % 5) - 2 : (((i + variant) * 7) % 11) / 4 - 1.3;
  return Tensor.fromData(data, shape, dtype);
}

/** An int32 tensor of valid indices (0 and 1) for any dimension of size ≥ 2. */
export function indexTensor(shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = i % 2;
  return Tensor.fromData(data, shape, 'int32');
}

/** Explicit samples, for ops whose arguments the search below cannot guess. */
export const SAMPLES: Readonly<Record<string, SampleFactory>> = {
  where: () => [sampleTensor([2, 3], 'bool'), sampleTensor([2, 3]), 0],
  tensor: () => [[[1.5, 2], [3, 4]]],
  clamp: () => [sampleTensor([2, 3]), -0.5, 0.5],
  clamp_: () => [sampleTensor([2, 3]), -0.5, 0.5],
  copy_: () => [sampleTensor([2, 3]), sampleTensor([2, 3], 'float32', 1)],
  embedding: () => [indexTensor([2, 3]), sampleTensor([4, 5])],
};

const SHAPES: readonly (readonly number[])[] = [[2, 3], [3, 3], [2, 3, 4], [6], [1]];

/** Candidate values for one argument, given the shape used for tensors in this attempt. */
function candidates(spec: ArgSpec, shape: readonly number[]): (() => unknown)[] {
  switch (spec.type) {
    case 'Tensor': return [() => sampleTensor(shape), () => indexTensor(shape), () => sampleTensor(shape, 'bool')];
    case 'TensorOrScalar': return [() => sampleTensor(shape), () => 2];
    case 'Tensor[]': return [() => [sampleTensor(shape), sampleTensor(shape)]];
    case 'Scalar': return [() => 2, () => 0.5];
    case 'int': return [() => 1, () => 0, () => 2];
    case 'ints': return [() => [...shape].reverse(), () => shape.map((_, i) => shape.length - 1 - i), () => [...shape], () => [shape.reduce((a, b) => a * b, 1)], () => [1, ...shape]];
    case 'int|ints': return [() => 1, () => [0], () => 0];
    case 'float': return [() => 3, () => 1.5];
    case 'data': return [() => [[1.5, 2], [3, 4]]];
    case 'bool': return [() => false, () => true];
    case 'dtype?': return [() => 'float64', () => 'int32'];
    case 'string': return [() => spec.default ?? spec.choices?.[0] ?? ''];
    default: return [() => spec.default];
  }
}

const isTensor = (x: unknown) => x instanceof Tensor;

/**
 * Finds arguments the eager op accepts: required arguments from the candidates (the same variant index
 * across arguments first, then the other combinations), optional ones left to their defaults.
 */
export function searchSamples(op: OpDef): SampleFactory | null {
  const required = op.schema.positional.filter((a) => !a.hasDefault);
  const hasGenerator = op.schema.keywordOnly.some((a) => a.type === 'Generator?');
  for (const shape of SHAPES) {
    const choices = required.map((spec) => candidates(spec, shape));
    const total = choices.reduce((n, c) => n * c.length, 1);
    for (let k = 0; k < Math.min(total, 64); k++) {
      let rest = k;
      const picks = choices.map((c) => {
        const i = rest % c.length;
        rest = Math.floor(rest / c.length);
        return c[i]!;
      });
      const factory: SampleFactory = () => picks.map((p) => p());
      // The search must not advance the global generator: random ops get a private one here.
      const trial = () => (hasGenerator ? [...factory(), { generator: new Generator(0) }] : factory());
      try {
        normalizeArgs(op.name, op.schema, trial(), isTensor);
        op.fn(...trial());
        return factory;
      } catch {
        // next candidate
      }
    }
  }
  return null;
}

const cache = new Map<string, SampleFactory | null>();

export function samplesFor(opName: string): SampleFactory | null {
  if (cache.has(opName)) return cache.get(opName)!;
  const op = getOp(opName);
  const factory = op ? SAMPLES[opName] ?? searchSamples(op) : null;
  cache.set(opName, factory);
  return factory;
}

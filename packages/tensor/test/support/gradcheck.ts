// gradcheck: autograd's gradients against central finite differences, in float64.
import type { Tensor as TensorType } from '@kiln/tensor';
import { Tensor, autograd, noGrad } from '@kiln/tensor';

/** A tiny deterministic generator (tests must not depend on Math.random). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const flatTensors = (out: unknown): TensorType[] =>
  out instanceof Tensor ? [out] : Array.isArray(out) ? out.filter((t): t is TensorType => t instanceof Tensor) : [];

/** Σ out·weights over every float output: a scalar whose gradient exercises every output element. */
function projection(out: unknown, weights: Float64Array[]): TensorType {
  const outs = flatTensors(out).filter((t) => t.dtype === 'float64');
  let total: TensorType | null = null;
  outs.forEach((t, i) => {
    const w = Tensor.fromData(weights[i]!.slice(0, t.numel), [...t.shape], 'float64');
    const term = t.mul(w).sum();
    total = total === null ? term : total.add(term);
  });
  return total!;
}

export interface GradcheckResult {
  ok: boolean;
  detail: string;
}

/**
 * Compares autograd's gradient of Σ f(inputs)·w (random w) with central differences, for every float64
 * tensor among `args` (the leaves, which may be non-contiguous). `f` must be deterministic.
 */
export function gradcheck(f: (...args: unknown[]) => unknown, args: unknown[], seed = 1, eps = 1e-6, atol = 1e-5, rtol = 1e-4): GradcheckResult {
  const random = rng(seed);
  const isLeaf = (a: unknown): a is TensorType => a instanceof Tensor && a.dtype === 'float64';
  const leaves = args.flatMap((a) => (Array.isArray(a) ? a.filter(isLeaf) : isLeaf(a) ? [a] : []));
  for (const l of leaves) l.requiresGrad_();
  const probe = noGrad(() => f(...args));
  const weights = flatTensors(probe).map((t) => Float64Array.from({ length: Math.max(t.numel, 1) }, () => random() * 2 - 1));
  if (flatTensors(probe).filter((t) => t.dtype === 'float64').length === 0) return { ok: false, detail: 'no float64 output' };
  const loss = projection(f(...args), weights);
  if (!loss.requiresGrad) return leaves.every((l) => l.numel === 0) ? { ok: true, detail: '' } : { ok: false, detail: 'output does not require grad' };
  const analytic = autograd.grad(loss, leaves, { allowUnused: true });
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    const base = leaf.toTypedArray() as Float64Array;
    const got = analytic[i] ? (analytic[i]!.toTypedArray() as Float64Array) : new Float64Array(base.length);
    for (let e = 0; e < base.length; e++) {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[e] = moved[e]! + delta;
        const swap = (a: unknown) => (a === leaf ? Tensor.fromData(moved, [...leaf.shape], 'float64') : a);
        const replaced = args.map((a) => (Array.isArray(a) ? a.map(swap) : swap(a)));
        return noGrad(() => projection(f(...replaced), weights).item() as number);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      if (!(Math.abs(numeric - got[e]!) <= atol + rtol * Math.abs(numeric))) {
        return { ok: false, detail: `input ${i} (shape [${leaf.shape}]) element ${e}: autograd ${got[e]} vs finite difference ${numeric}` };
      }
    }
  }
  return { ok: true, detail: '' };
}

// One pass over the elements for an update (PyTorch's `fused` optimizers): a dozen eager ops per parameter
// become one loop, reading and writing the tensors' own storage. The arithmetic is the op-by-op path's,
// in the same order in float64, so float64 parameters get the same bits; float32 ones round once per
// stored value instead of once per op.
import type { Tensor, TypedArray } from '@kiln/tensor';

/** The element array and offset of a dense float tensor, or null (then the op-by-op path runs). */
function dense(t: Tensor): { data: TypedArray; offset: number } | null {
  if ((t.dtype !== 'float32' && t.dtype !== 'float64') || !t.isContiguous()) return null;
  return { data: t.storage.data, offset: t.offset };
}

/** Whether every tensor is dense, of one dtype and one size. */
export function canFuse(...tensors: Tensor[]): boolean {
  const first = tensors[0]!;
  return tensors.every((t) => t.dtype === first.dtype && t.numel === first.numel && dense(t) !== null);
}

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  maximize: boolean;
  /** 1 - beta1^t and sqrt(1 - beta2^t). */
  biasCorrection1: number;
  biasCorrection2Sqrt: number;
}

/** Adam/AdamW on dense tensors of one dtype (`maxExpAvgSq` for AMSGrad). */
export function fusedAdam(p: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, s: AdamStep): void {
  const n = p.numel;
  // writable() first: it may copy a shared buffer, and bumps the version counters autograd checks.
  const [P, M, V] = [p.storage.writable(), expAvg.storage.writable(), expAvgSq.storage.writable()];
  const X = maxExpAvgSq ? maxExpAvgSq.storage.writable() : null;
  const G = grad.storage.data;
  const [po, go, mo, vo, xo] = [p.offset, grad.offset, expAvg.offset, expAvgSq.offset, maxExpAvgSq?.offset ?? 0];
  const stepSize = s.lr / s.biasCorrection1;
  const decay = 1 - s.lr * s.weightDecay;
  // Each value is read back from its array after it is stored, as the next op of the op-by-op path would read it.
  for (let i = 0; i < n; i++) {
    let g = s.maximize ? -G[go + i]! : G[go + i]!;
    if (s.weightDecay !== 0) {
      if (s.decoupled) P[po + i] = P[po + i]! * decay;
      else g = g + s.weightDecay * P[po + i]!;
    }
    M[mo + i] = M[mo + i]! * s.beta1 + (1 - s.beta1) * g;
    V[vo + i] = V[vo + i]! * s.beta2 + (1 - s.beta2) * (g * g);
    if (X) X[xo + i] = Math.max(X[xo + i]!, V[vo + i]!);
    const second = X ? X[xo + i]! : V[vo + i]!;
    P[po + i] = P[po + i]! - stepSize * (M[mo + i]! / (Math.sqrt(second) / s.biasCorrection2Sqrt + s.eps));
  }
}

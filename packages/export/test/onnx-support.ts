// Runs an ONNX model in ONNX Runtime (onnxruntime-node, a devDependency of this package) on Kiln tensors and
// returns Kiln tensors, so tests compare ONNX Runtime's answers with Kiln's on the same inputs.
import * as ort from 'onnxruntime-node';
import * as k from '@kiln/tensor';

const ORT_TYPE = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' } as const;

export async function session(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model);
}

export async function runOnnx(s: ort.InferenceSession, inputs: readonly k.Tensor[]): Promise<k.Tensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  s.inputNames.forEach((name, i) => {
    const t = inputs[i]!;
    feeds[name] = new ort.Tensor(ORT_TYPE[t.dtype], t.toTypedArray() as never, t.shape.slice());
  });
  const out = await s.run(feeds);
  return s.outputNames.map((name) => {
    const o = out[name]!;
    // int64 (a size the model returns) comes back as int32: sizes fit.
    const dtype = o.type === 'bool' ? 'bool' : o.type === 'int64' ? 'int32' : (o.type as k.DType);
    const data =
      o.type === 'bool' ? Uint8Array.from(o.data as ArrayLike<number>, (v) => (v ? 1 : 0))
      : o.type === 'int64' ? Int32Array.from(o.data as BigInt64Array, (v) => Number(v))
      : (o.data as never);
    return k.Tensor.fromData(data, [...o.dims], dtype);
  });
}

/** Largest |a - b| relative to max(1, |b|), over all elements (NaN where both are NaN counts as equal). */
export function relativeDiff(a: k.Tensor, b: k.Tensor): number {
  const [x, y] = [a.toTypedArray(), b.toTypedArray()];
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    const [p, q] = [Number(x[i]), Number(y[i])];
    if (Number.isNaN(p) && Number.isNaN(q)) continue;
    if (p === q) continue;
    worst = Math.max(worst, Math.abs(p - q) / Math.max(1, Math.abs(q)));
  }
  return worst;
}

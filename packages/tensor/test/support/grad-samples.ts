// Sample arguments for every differentiable op in the registry, for gradcheck. Float64 tensors are the
// inputs differentiated; shapes cover broadcasting, size-1 and size-0 dims, and non-contiguous layouts.
import type { Tensor as TensorType } from '@kiln/tensor';
import { Tensor, noGrad } from '@kiln/tensor';

export type Sample = unknown[];

interface Gen {
  /** A float64 tensor; `kind` shapes the values away from an op's kinks or outside its domain. */
  t(shape: number[], kind?: 'any' | 'positive' | 'away0'): TensorType;
  /** The same values laid out transposed in memory (non-contiguous), for 2-D shapes. */
  strided(shape: [number, number], kind?: 'any' | 'positive' | 'away0'): TensorType;
  ints(shape: number[], below: number): TensorType;
  mask(shape: number[]): TensorType;
}

export function generator(random: () => number): Gen {
  const value = (kind: string) => {
    const v = random() * 2 - 1;
    if (kind === 'positive') return 0.2 + random() * 1.8;
    if (kind === 'away0') return (v < 0 ? -1 : 1) * (0.3 + Math.abs(v));
    return v * 1.5;
  };
  const t = (shape: number[], kind = 'any') => {
    const n = shape.reduce((a, b) => a * b, 1);
    return Tensor.fromData(Float64Array.from({ length: n }, () => value(kind)), shape, 'float64');
  };
  return {
    t,
    strided: ([r, c], kind = 'any') => noGrad(() => t([c, r], kind).transpose(0, 1)),
    ints: (shape, below) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return Tensor.fromData(Int32Array.from({ length: n }, () => Math.floor(random() * below)), shape, 'int32');
    },
    mask: (shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return Tensor.fromData(Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)), shape, 'bool');
    },
  };
}

const unaryDomain: Record<string, 'any' | 'positive' | 'away0'> = {
  log: 'positive', sqrt: 'positive', rsqrt: 'positive', log1p: 'positive', reciprocal: 'away0', abs: 'away0', relu: 'away0', sign: 'away0',
};
const UNARY = ['neg', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'silu', 'erf', 'floor', 'ceil', 'round', 'sign', 'reciprocal'];

/** Broadcasting pairs of shapes, with size-1 and size-0 dims. */
const PAIRS: [number[], number[]][] = [[[2, 3], [3]], [[2, 1, 3], [4, 1]], [[1], [2, 2]], [[], [3]], [[0, 3], [3]]];

export function samples(g: Gen): Record<string, Sample[]> {
  const out: Record<string, Sample[]> = {};
  for (const name of UNARY) {
    const d = unaryDomain[name] ?? 'any';
    out[name] = [[g.t([2, 3], d)], [g.strided([3, 2], d)], [g.t([], d)], [g.t([0, 2], d)]];
  }
  out.gelu = [[g.t([2, 3])], [g.t([4]), { approximate: 'tanh' }]];
  const pairs = (kindB: 'any' | 'positive' | 'away0' = 'any', kindA: 'any' | 'positive' | 'away0' = 'any') =>
    PAIRS.map(([a, b]) => [g.t(a, kindA), g.t(b, kindB)]);
  out.add = [...pairs(), [g.t([2, 3]), 2.5], [g.strided([2, 3]), g.t([3]), { alpha: 2 }]];
  out.sub = [...pairs(), [g.t([3]), g.t([2, 3]), { alpha: -0.5 }]];
  out.mul = [...pairs(), [g.strided([3, 2]), 3]];
  out.div = [...pairs('away0'), [g.t([2, 2]), -2]];
  out.pow = [...pairs('any', 'positive'), [g.t([2, 3]), 3], [g.t([3], 'positive'), 0.5], [g.t([3]), 0]];
  out.maximum = pairs();
  out.minimum = pairs();
  out.remainder = [[g.t([2, 3]), g.t([3], 'positive')], [g.t([4]), 0.7]];
  out.atan2 = [...pairs('away0'), [g.t([3]), 2]];
  out.where = [[g.mask([2, 3]), g.t([2, 3]), g.t([3])], [g.mask([3]), g.t([2, 3]), 0.5], [g.mask([2, 1]), 1.5, g.t([3])]];
  out.clamp = [[g.t([2, 3]), -0.5, 0.5], [g.t([4]), null, 0.3], [g.t([4]), -0.2]];
  out.sum = [[g.t([2, 3])], [g.t([2, 3]), 1], [g.t([2, 3, 2]), [0, 2], true], [g.strided([3, 2]), 0], [g.t([0, 3]), 0], [g.t([])]];
  const withZero = g.t([3, 4]);
  noGrad(() => withZero.select(0, 1).select(0, 2).fill_(0));
  const twoZeros = g.t([2, 3]);
  noGrad(() => twoZeros.select(0, 0).narrow(0, 0, 2).zero_());
  out.prod = [[g.t([2, 3])], [g.t([2, 3]), 1, true], [withZero, 1], [withZero], [twoZeros, 1], [twoZeros]];
  for (const op of ['amax', 'amin']) out[op] = [[g.t([2, 3])], [g.t([2, 3]), 1], [g.strided([3, 4]), 0, true], [g.t([2, 3, 2]), [0, 2]]];
  for (const op of ['max', 'min']) out[op] = [[g.t([2, 3])], [g.t([2, 3]), 1], [g.strided([3, 4]), 0, true], [g.t([]), 0]];
  for (const op of ['mean', 'logsumexp']) out[op] = [[g.t([2, 3])], [g.t([2, 3]), 1], [g.t([2, 3, 2]), [0, 2], true]];
  out.var = [[g.t([2, 3])], [g.t([2, 3]), 1, { correction: 0 }], [g.t([2, 4]), 1, { keepdim: true }]];
  out.std = [[g.t([2, 3])], [g.t([3, 4]), 0]];
  out.cumsum = [[g.t([2, 3]), 0], [g.strided([3, 4]), 1], [g.t([]), 0]];
  out.reshape = [[g.t([3, 4]), [4, 3]], [g.strided([3, 4]), [12]], [g.t([0, 2]), [2, 0]]];
  out.view = [[g.t([3, 4]), [2, -1]]];
  out.permute = [[g.t([2, 3, 4]), [2, 0, 1]]];
  out.transpose = [[g.t([2, 3]), 0, 1], [g.t([2, 3, 4]), -1, 0]];
  out.expand = [[g.t([3, 1]), [2, 3, 4]], [g.t([]), [2]]];
  out.slice = [[g.t([3, 5]), 1, 1, 4, 2], [g.t([4]), 0, null, 2]];
  out.narrow = [[g.t([3, 4]), 1, 1, 2]];
  out.select = [[g.t([3, 4]), 0, 1], [g.strided([3, 4]), 1, -1]];
  out.squeeze = [[g.t([3, 1, 4])], [g.t([3, 1, 4]), 1]];
  out.unsqueeze = [[g.t([3, 4]), 1]];
  out.flatten = [[g.t([2, 3, 4])], [g.strided([3, 4]), 0]];
  out.contiguous = [[g.strided([3, 4])]];
  out.clone = [[g.t([3, 4])]];
  out.split = [[g.t([4, 3]), 2, 0], [g.t([3, 4]), [1, 3], 1]];
  out.chunk = [[g.t([4, 3]), 2, 0]];
  out.cat = [[[g.t([2, 3]), g.t([1, 3])], 0], [[g.t([2, 3]), g.strided([2, 2])], 1], [[g.t([2]), g.t([0])]]];
  out.stack = [[[g.t([2, 3]), g.t([2, 3])], 1]];
  out.matmul = [
    [g.t([2, 3]), g.t([3, 4])], [g.t([3]), g.t([3, 4])], [g.t([2, 3]), g.t([3])], [g.t([3]), g.t([3])],
    [g.t([2, 2, 3]), g.t([3, 4])], [g.t([2, 1, 2, 3]), g.t([3, 3, 2])], [g.strided([3, 2]), g.strided([2, 4])],
  ];
  out.linear = [[g.t([2, 3]), g.t([4, 3]), g.t([4])], [g.t([3]), g.t([4, 3])]];
  out.indexSelect = [[g.t([3, 4]), 0, Tensor.fromData(Int32Array.of(2, 0, 2), [3], 'int32')], [g.t([3, 4]), 1, g.ints([5], 4)]];
  out.gather = [[g.t([3, 4]), 1, g.ints([3, 2], 4)], [g.t([3, 4]), 0, g.ints([2, 4], 3)]];
  out.scatterAdd = [[g.t([3, 4]), 1, g.ints([3, 2], 4), g.t([3, 2])], [g.t([3, 4]), 0, g.ints([5, 4], 3), g.t([5, 4])]];
  out.embedding = [[g.ints([2, 3], 5), g.t([5, 4])]];
  out.maskedFill = [[g.t([2, 3]), g.mask([2, 3]), 0.5], [g.t([2, 3]), g.mask([3]), g.t([])]];
  out.tril = [[g.t([3, 4])], [g.t([2, 3, 3]), 1]];
  out.triu = [[g.t([3, 4])], [g.t([3, 3]), -1]];
  out.softmax = [[g.t([2, 3]), 1], [g.strided([3, 4]), 0], [g.t([]), 0]];
  out.logSoftmax = [[g.t([2, 3]), 1], [g.strided([3, 4]), 0]];
  out.layerNorm = [[g.t([2, 3, 4]), [4], g.t([4]), g.t([4])], [g.t([2, 3]), [2, 3]]];
  out.to = [[g.t([2, 3]), 'float64', { copy: true }]];
  // In-place ops write into a non-leaf copy of their first argument (a leaf that requires grad cannot be written).
  out.add_ = [[g.t([2, 3]), g.t([3])], [g.t([2, 3]), g.t([2, 3]), { alpha: 3 }]];
  out.sub_ = [[g.t([2, 3]), g.t([3])]];
  out.mul_ = [[g.t([2, 3]), g.t([2, 1])], [g.t([3]), 2]];
  out.div_ = [[g.t([2, 3]), g.t([3], 'away0')]];
  out.clamp_ = [[g.t([2, 3]), -0.4, 0.6]];
  out.fill_ = [[g.t([2, 3]), g.t([])], [g.t([2]), 3]];
  out.zero_ = [[g.t([2, 3])]];
  out.maskedFill_ = [[g.t([2, 3]), g.mask([3]), g.t([])]];
  out.copy_ = [[g.t([2, 3]), g.t([3])], [g.strided([2, 3]), g.t([2, 3])]];
  return out;
}

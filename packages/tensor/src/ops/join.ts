import type { DType } from '../dtype.js';
import { promoteTypes } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { castValues } from '../kernels/cast.js';
import { writeThrough } from '../kernels/copy.js';
import type { InputGrads } from '../registry/derivative.js';
import { defineOp, runEager } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { normalizeDim, sizeAdd, sizeEq, sizeFloorDiv, sizeLt, sizeMin, sizeMul, sizeSub } from '../size.js';
import { Tensor } from '../tensor.js';
import { narrow } from './slicing.js';
import { unsqueeze } from './views.js';

function requireTensors(op: string, tensors: readonly unknown[]): void {
  if (tensors.length === 0) throw new ValueError(`${op}: argument 'tensors' must be a non-empty list`, 'pass at least one tensor');
}

/**
 * What `cat` joins and along which dim. PyTorch's legacy rule is kept: 1-D empty tensors (shape [0]) are
 * skipped whatever the rank of the others, so `cat([zeros([0]), x])` works for any `x`.
 */
function catLayout<T extends TensorMetaLike>(tensors: readonly T[], d: number) {
  requireTensors('cat', tensors);
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  const positions = tensors.map((_, i) => i).filter((i) => !(tensors[i]!.ndim === 1 && sizeEq(tensors[i]!.shape[0]!, 0)));
  if (positions.length === 0) return { parts: [] as T[], dim: 0, shape: [0] as Size[], dtype };
  const first = positions[0]!;
  const ref = tensors[first]!;
  const zeroDim = tensors.findIndex((t) => t.ndim === 0);
  if (zeroDim >= 0) {
    throw new ShapeError(`cat: the tensor at position ${zeroDim} is zero-dimensional and cannot be concatenated`, 'unsqueeze it first, or use stack');
  }
  const dim = normalizeDim(d, ref.ndim, 'cat');
  let total: Size = 0;
  for (const i of positions) {
    const t = tensors[i]!;
    const sameRank = t.ndim === ref.ndim;
    const mismatch = sameRank ? t.shape.findIndex((s, k) => k !== dim && !sizeEq(s, ref.shape[k]!)) : -1;
    if (!sameRank || mismatch >= 0) {
      throw new ShapeError(
        `cat: tensor at position ${i} has shape ${fmtShape(t.shape)}, which does not fit shape ${fmtShape(ref.shape)} of the tensor at position ${first} when joining along dim ${dim}` +
          (mismatch >= 0 ? ` (dim ${mismatch}: ${String(t.shape[mismatch])} vs ${String(ref.shape[mismatch])})` : ' (different number of dims)'),
        'all tensors need the same rank and the same sizes in every dim except the one joined along',
      );
    }
    total = sizeAdd(total, t.shape[dim]!);
  }
  const shape = [...ref.shape];
  shape[dim] = total;
  return { parts: positions.map((i) => tensors[i]!), dim, shape, dtype };
}

export const cat = defineOp({
  name: 'cat',
  category: 'shape',
  method: false,
  positional: [arg('tensors', 'Tensor[]'), opt('dim', 'int', 0)],
  meta: ([tensors, d]): MetaTensor => {
    const { shape, dtype } = catLayout(tensors, d);
    return { shape, dtype };
  },
  kernel: ([tensors, d], out: MetaTensor): Tensor => {
    const { parts, dim } = catLayout(tensors, d);
    const result = Tensor.empty(out.shape as number[], out.dtype);
    let start = 0;
    for (const t of parts) {
      // The slot of `t` inside the result: same strides, offset `start` along `dim`.
      const slot = new Tensor(result.storage, t.shape, result.strides, start * result.strides[dim]!, out.dtype);
      const values = t.toTypedArray();
      writeThrough(slot, t.dtype === out.dtype ? values : castValues(values, out.dtype));
      start += t.shape[dim]!;
    }
    return result;
  },
  // Each input gets its slot of the gradient back (inputs of size 0 along dim, which cat skips, get nothing).
  derivative: ({ grad, args: [tensors, d] }): InputGrads => {
    const { parts, dim } = catLayout(tensors, d);
    let start = 0;
    return [
      tensors.map((t) => {
        if (!parts.includes(t)) return null;
        const piece = grad.narrow(dim, start, t.shape[dim]!);
        start += t.shape[dim]!;
        return piece;
      }),
    ];
  },
});

function stackLayout(tensors: readonly TensorMetaLike[], d: number): { dim: number; shape: Size[]; dtype: DType } {
  requireTensors('stack', tensors);
  const ref = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim !== ref.ndim || t.shape.some((s, k) => !sizeEq(s, ref.shape[k]!))) {
      throw new ShapeError(
        `stack: tensor at position ${i} has shape ${fmtShape(t.shape)} but the tensor at position 0 has shape ${fmtShape(ref.shape)}`,
        'stack needs tensors of exactly the same shape; use cat to join along an existing dim',
      );
    }
  });
  const dim = normalizeDim(d, ref.ndim + 1, 'stack');
  const shape: Size[] = [...ref.shape];
  shape.splice(dim, 0, tensors.length);
  return { dim, shape, dtype: tensors.map((t) => t.dtype).reduce(promoteTypes) };
}

export const stack = defineOp({
  name: 'stack',
  category: 'shape',
  method: false,
  positional: [arg('tensors', 'Tensor[]'), opt('dim', 'int', 0)],
  meta: ([tensors, d]): MetaTensor => {
    const { shape, dtype } = stackLayout(tensors, d);
    return { shape, dtype };
  },
  kernel: ([tensors, d]): Tensor => {
    const { dim } = stackLayout(tensors, d);
    const unsqueezed = tensors.map((t) => runEager(unsqueeze.op, [t, dim]));
    return runEager(cat.op, [unsqueezed, dim]) as Tensor;
  },
  decompose: ([tensors, d]): Tensor => {
    const { dim } = stackLayout(tensors, d);
    return cat(tensors.map((t) => unsqueeze(t, dim)), dim);
  },
});

/** The dim and the piece lengths of a split; each piece starts where the previous one ended. */
interface Pieces {
  dim: number;
  lengths: Size[];
}

function splitDim(op: string, x: TensorMetaLike, d: number): number {
  if (x.ndim === 0) throw new ShapeError(`${op}: needs a tensor with at least one dim, got a 0-dim tensor`, 'unsqueeze it first');
  return normalizeDim(d, x.ndim, op);
}

function splitPieces(x: TensorMetaLike, splitSizeOrSections: number | readonly number[], d: number): Pieces {
  const dim = splitDim('split', x, d);
  const size = x.shape[dim]!;
  if (typeof splitSizeOrSections === 'number') {
    if (splitSizeOrSections < 0 || (splitSizeOrSections === 0 && !sizeEq(size, 0))) {
      throw new ValueError(
        `split: splitSize=${splitSizeOrSections} is invalid for dim ${dim} of size ${String(size)} (shape ${fmtShape(x.shape)})`,
        'splitSize must be positive (0 only when the dim is empty)',
      );
    }
    return { dim, lengths: equalPieces(size, splitSizeOrSections) };
  }
  const lengths = [...splitSizeOrSections];
  const total = lengths.reduce((a, b) => a + b, 0);
  if (lengths.some((s) => s < 0) || !sizeEq(size, total)) {
    throw new ShapeError(
      `split: sections ${fmtShape(lengths)} must be non-negative and sum to the size ${String(size)} of dim ${dim} of a tensor of shape ${fmtShape(x.shape)}`,
      'pass an int to split into equal pieces (the last may be smaller)',
    );
  }
  return { dim, lengths };
}

/** Pieces of `splitSize` covering `size`, the last one shorter; always at least one piece. */
function equalPieces(size: Size, splitSize: Size): Size[] {
  // When `size` is symbolic each loop test guards: the number of outputs must be a JS number.
  const lengths: Size[] = [];
  let start: Size = 0;
  do {
    lengths.push(sizeMin(splitSize, sizeSub(size, start)));
    start = sizeAdd(start, splitSize);
  } while (sizeLt(start, size));
  return lengths;
}

function chunkPieces(x: TensorMetaLike, chunks: number, d: number): Pieces {
  const dim = splitDim('chunk', x, d);
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new ValueError(`chunk: chunks=${chunks} must be a positive integer (tensor of shape ${fmtShape(x.shape)})`, 'ask for at least one chunk');
  }
  const size = x.shape[dim]!;
  // PyTorch: pieces of ceil(size / chunks), so there may be fewer than `chunks`; an empty dim gives `chunks` empty pieces.
  if (sizeEq(size, 0)) return { dim, lengths: new Array<Size>(chunks).fill(0) };
  return { dim, lengths: equalPieces(size, sizeFloorDiv(sizeAdd(size, chunks - 1), chunks)) };
}

/** The pieces as views of `x`: same strides, offsets advancing along `dim`. */
function pieceViews(x: TensorMetaLike, { dim, lengths }: Pieces): MetaTensor[] {
  let start: Size = 0;
  return lengths.map((length) => {
    const shape = [...x.shape];
    shape[dim] = length;
    const offset = sizeAdd(x.offset, sizeMul(start, x.strides[dim]!));
    start = sizeAdd(start, length);
    return { shape, strides: [...x.strides], offset, dtype: x.dtype };
  });
}

const viewsOf = (x: Tensor, metas: readonly MetaTensor[]): Tensor[] =>
  metas.map((m) => new Tensor(x.storage, m.shape as number[], m.strides as number[], m.offset as number, x.dtype));

function narrowPieces(x: Tensor, { dim, lengths }: Pieces): Tensor[] {
  let start: Size = 0;
  return lengths.map((length) => {
    const piece = narrow(x, dim, start as number, length as number);
    start = sizeAdd(start, length);
    return piece;
  });
}

export const split = defineOp({
  name: 'split',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('splitSizeOrSections', 'int|ints'), opt('dim', 'int', 0)],
  meta: ([x, sizes, d]): MetaTensor[] => pieceViews(x, splitPieces(x, sizes, d)),
  kernel: ([x], out: MetaTensor[]): Tensor[] => viewsOf(x, out),
  decompose: ([x, sizes, d]): Tensor[] => narrowPieces(x, splitPieces(x, sizes, d)),
});

export const chunk = defineOp({
  name: 'chunk',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('chunks', 'int'), opt('dim', 'int', 0)],
  meta: ([x, chunks, d]): MetaTensor[] => pieceViews(x, chunkPieces(x, chunks, d)),
  kernel: ([x], out: MetaTensor[]): Tensor[] => viewsOf(x, out),
  decompose: ([x, chunks, d]): Tensor[] => narrowPieces(x, chunkPieces(x, chunks, d)),
});

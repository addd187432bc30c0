// The graph fuzzer's structural ops: views (several results for split/chunk), matmul, cat/stack, indirect
// loads with in-range and out-of-range positions, and creation ops sized by existing values.
import * as k from '@kiln/tensor';
import type { Maker, Picker, Step } from './graph-fuzz-ops.js';
import { dim, numel, rank } from './graph-fuzz-ops.js';

const permutation = (p: Picker, n: number) => {
  const rest = [...Array(n).keys()];
  return Array.from({ length: n }, () => rest.splice(p.int(rest.length), 1)[0]!);
};

const views: Record<string, Maker> = {
  reshape: (p, v, a) => {
    const s = v[a]!.shape;
    if (rank(v[a]!) < 2 || p.int(3) === 0) return { text: `$${a}.reshape([-1])`, run: (v) => v[a]!.reshape([-1]) };
    const d = p.int(rank(v[a]!) - 1);
    // merge dims d and d+1 (a copy when the value is not contiguous there), keeping -1 for one of them
    const target = [...s.slice(0, d), -1, ...s.slice(d + 2)];
    return { text: `$${a}.reshape([${target}])`, run: (v) => v[a]!.reshape(target) };
  },
  permute: (p, v, a) => {
    const perm = permutation(p, rank(v[a]!));
    return p.int(3) === 0 && rank(v[a]!) >= 2
      ? { text: `$${a}.transpose(0, -1)`, run: (v) => v[a]!.transpose(0, -1) }
      : { text: `$${a}.permute([${perm}])`, run: (v) => v[a]!.permute(perm) };
  },
  expand: (p, v, a) => {
    const lead = p.of([3, 1, 0]);
    const size = [lead, ...v[a]!.shape.map((n) => (n === 1 ? p.of([1, 4]) : -1))];
    return { text: `$${a}.expand([${size}])`, run: (v) => v[a]!.expand(size) };
  },
  squeeze: (p, v, a) => {
    if (p.int(2) === 0 || rank(v[a]!) === 0) {
      const d = p.int(rank(v[a]!) + 1);
      return { text: `$${a}.unsqueeze(${d})`, run: (v) => v[a]!.unsqueeze(d) };
    }
    const d = p.int(2) ? dim(p, v[a]!) : null;
    return { text: `$${a}.squeeze(${d})`, run: (v) => v[a]!.squeeze(d) };
  },
  flatten: (p, v, a) => {
    const n = rank(v[a]!), s = p.int(n), e = s + p.int(n - s);
    return { text: `$${a}.flatten(${s}, ${e})`, run: (v) => v[a]!.flatten(s, e) };
  },
  narrow: (p, v, a) => {
    if (rank(v[a]!) === 0) return undefined;
    const d = dim(p, v[a]!), n = v[a]!.shape.at(d)!;
    const c = p.int(3);
    if (c === 0) {
      const start = p.int(n + 1), len = p.int(n - start + 1);
      return { text: `$${a}.narrow(${d}, ${start}, ${len})`, run: (v) => v[a]!.narrow(d, start, len) };
    }
    if (c === 1 && n > 0) {
      const i = p.int(2) ? -1 - p.int(n) : p.int(n);
      return { text: `$${a}.select(${d}, ${i})`, run: (v) => v[a]!.select(d, i) };
    }
    const start = p.of([null, 1, -2]), end = p.of([null, -1, 3]), step = p.of([1, 2, 3]);
    return { text: `$${a}.slice(${d}, ${start}, ${end}, ${step})`, run: (v) => v[a]!.slice(d, start, end, step) };
  },
  split: (p, v, a) => {
    if (rank(v[a]!) === 0) return undefined;
    const d = dim(p, v[a]!);
    if (p.int(2)) {
      const n = 1 + p.int(3);
      return { text: `$${a}.chunk(${n}, ${d})`, run: (v) => [...v[a]!.chunk(n, d)] };
    }
    const size = 1 + p.int(4);
    return { text: `$${a}.split(${size}, ${d})`, run: (v) => [...v[a]!.split(size, d)] };
  },
  copy: (p, _v, a) => (p.int(2)
    ? { text: `$${a}.contiguous()`, run: (v) => v[a]!.contiguous() }
    : { text: `$${a}.clone()`, run: (v) => v[a]!.clone() }),
};

const linalg: Record<string, Maker> = {
  matmul: (p, v, a) => {
    const x = v[a]!, n = x.shape.at(-1);
    if (rank(x) === 0 || x.dtype !== 'float32') return undefined;
    const c = p.int(4);
    if (c === 0 && rank(x) >= 2) return { text: `$${a} @ $${a}.transpose(-1, -2)`, loose: true, run: (v) => v[a]!.matmul(v[a]!.transpose(-1, -2)) };
    if (c === 1 && rank(x) === 3) return { text: `$${a} @ $${a}.select(0, 0).transpose(0, 1)`, loose: true, run: (v) => v[a]!.matmul(v[a]!.select(0, 0).transpose(0, 1)) };
    if (c === 2) return { text: `$${a}.transpose(-1, 0) @ $${a}`, loose: true, run: (v) => v[a]!.transpose(-1, 0).matmul(v[a]!) };
    // a weight from another float value with at least n elements, as [n] or [n, 3]
    const b = p.value(v.length), cols = p.of([0, 3, 1]);
    if (v[b]!.dtype !== 'float32' || numel(v[b]!) < n! * Math.max(cols, 1)) return undefined;
    const w = (v: readonly k.Tensor[]) => {
      const flat = v[b]!.flatten().narrow(0, 0, n! * Math.max(cols, 1));
      return cols === 0 ? flat : flat.reshape([cols, n!]).transpose(0, 1);
    };
    return { text: `$${a} @ w($${b}, ${cols})`, loose: true, run: (v) => v[a]!.matmul(w(v)) };
  },
  join: (p, v, a) => {
    const x = v[a]!;
    const b = p.value(v.length);
    const other = JSON.stringify(v[b]!.shape) === JSON.stringify(x.shape) ? b : a;
    if (p.int(2) || rank(x) === 0) {
      const d = p.int(rank(x) + 1);
      return { text: `stack([$${a}, $${other}.neg()], ${d})`, run: (v) => k.stack([v[a]!, v[other]!.neg()], d) };
    }
    const d = dim(p, x);
    const piece = x.shape.at(d)! > 0 ? p.int(2) : 0;
    return { text: `cat([$${a}, $${other}${piece ? `.narrow(${d}, 0, 1)` : ''}], ${d})`,
      run: (v) => k.cat([v[a]!, piece ? v[other]!.narrow(d, 0, 1) : v[other]!], d) };
  },
};

/** Positions from an int/bool value: clamped into range, or (out-of-range on purpose) shifted. */
const positions = (p: Picker, n: number) => {
  const c = p.int(4);
  return c === 0
    ? { text: `.add(${n})`, get: (t: k.Tensor) => t.to('int32').add(n) }
    : { text: `.abs().clamp(0, ${n - 1})`, get: (t: k.Tensor) => t.to('int32').abs().clamp(0, n - 1) };
};

const indexing: Record<string, Maker> = {
  indexSelect: (p, v, a) => {
    const x = v[a]!, i = p.value(v.length);
    if (rank(x) === 0 || v[i]!.dtype === 'float32') return undefined;
    const d = dim(p, x), n = x.shape.at(d)!, pos = positions(p, n);
    return { text: `$${a}.indexSelect(${d}, $${i}.flatten()${pos.text})`, run: (v) => v[a]!.indexSelect(d, pos.get(v[i]!.flatten())) };
  },
  gather: (p, v, a) => {
    const x = v[a]!;
    if (rank(x) === 0 || x.dtype === 'bool') return undefined;
    const d = dim(p, x), shift = p.of([0, 0, 1, -1]);
    return { text: `$${a}.gather(${d}, $${a}.argmax(${d}, true).add(${shift}))`,
      run: (v) => v[a]!.gather(d, v[a]!.argmax(d, true).add(shift)) };
  },
  embedding: (p, v, a) => {
    const w = p.value(v.length);
    if (rank(v[w]!) !== 2 || v[a]!.dtype === 'float32' || rank(v[a]!) > 3) return undefined;
    const pos = positions(p, v[w]!.shape[0]!);
    return { text: `embedding($${a}${pos.text}, $${w})`, run: (v) => k.embedding(pos.get(v[a]!), v[w]!) };
  },
  oneHot: (p, v, a) => {
    if (v[a]!.dtype === 'float32' || rank(v[a]!) > 3) return undefined;
    const n = p.of([3, 1, 5]), pos = positions(p, n);
    return { text: `oneHot($${a}${pos.text}, ${n})`, run: (v) => k.oneHot(pos.get(v[a]!), n) };
  },
  triangle: (p, v, a) => {
    if (rank(v[a]!) < 2) return undefined;
    const diag = p.of([0, 1, -1, 5]), upper = p.int(2) === 1;
    return { text: `$${a}.${upper ? 'triu' : 'tril'}(${diag})`, run: (v) => (upper ? v[a]!.triu(diag) : v[a]!.tril(diag)) };
  },
  create: (p, v, a) => {
    const n = v[a]!.shape.at(-1) ?? 1;
    const c = p.int(4);
    const pick = p.int(2);
    const run = (made: (v: readonly k.Tensor[]) => k.Tensor): Step['run'] => (v) => (pick ? made(v).add(v[a]!) : made(v));
    if (c === 0) return { text: `arange(${n})${pick ? ` + $${a}` : ''}`, run: run(() => k.arange(n)) };
    if (c === 1) return { text: `eye(${n}, 2)`, run: () => k.eye(n, 2) };
    if (c === 2) return { text: `full([${v[a]!.shape}], 2.5)${pick ? ` + $${a}` : ''}`, run: run((v) => k.full([...v[a]!.shape], 2.5)) };
    return { text: `zerosLike($${a}, int32)${pick ? ` + $${a}` : ''}`, run: run((v) => k.zerosLike(v[a]!, { dtype: 'int32' })) };
  },
};

export const STRUCTURE_MAKERS: Record<string, Maker> = { ...views, ...linalg, ...indexing };

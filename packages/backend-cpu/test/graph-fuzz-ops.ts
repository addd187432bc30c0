// The graph fuzzer's op table. Each entry looks at the values built so far (eager tensors, so shapes and
// dtypes are concrete) and, driven by a `Picker` of raw random integers, returns one step: a line of
// printed program and a closure over concrete arguments. The same closure later runs on fake tensors
// (tracing) and on real ones (eager), so the compiled and eager programs are the same program.
import * as k from '@kiln/tensor';

/** Deterministic choices from the raw integers fast-check generated (and shrinks towards 0). */
export class Picker {
  private i = 0;
  constructor(private readonly raw: readonly number[]) {}
  int(n: number): number {
    return n <= 0 ? 0 : (this.raw[this.i++] ?? 0) % n;
  }
  of<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** A value index, recent values first (0 = the newest), so chains and DAGs both appear. */
  value(count: number): number {
    return count - 1 - this.int(count);
  }
}

export interface Step {
  /** `op(args)` with `$i` for value i, printed as `%i` in the program. */
  readonly text: string;
  /** Uses of earlier values (by index) and what to compute from them. */
  readonly run: (v: readonly k.Tensor[]) => k.Tensor | k.Tensor[];
  /** Transcendental or long reduction: compared at 1e-4 instead of 1e-5. */
  readonly loose?: boolean;
}

type Maker = (p: Picker, v: readonly k.Tensor[], a: number) => Step | undefined;

const rank = (t: k.Tensor) => t.shape.length;
const dim = (p: Picker, t: k.Tensor, allowNeg = true) => {
  const d = p.int(rank(t));
  return allowNeg && p.int(3) === 0 ? d - rank(t) : d;
};
/** A random subset of dims (maybe empty, maybe null = all). */
const dims = (p: Picker, t: k.Tensor): number[] | null => {
  const c = p.int(4);
  if (c === 0 || rank(t) === 0) return null;
  return [...Array(rank(t)).keys()].filter(() => p.int(2) === 1);
};
const broadcastable = (a: readonly number[], b: readonly number[]) => {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const [x, y] = [a[a.length - i]!, b[b.length - i]!];
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
};
const numel = (t: k.Tensor) => t.shape.reduce((x, y) => x * y, 1);

/** A second operand for `a`: another value if shapes broadcast, else a 1-element view of it, or a scalar. */
function operand(p: Picker, v: readonly k.Tensor[], a: number): { text: string; get: (v: readonly k.Tensor[]) => k.Tensor | number } {
  const c = p.int(5);
  if (c === 0) {
    const s = p.of([2, -1.5, 0, 3, 0.5, -7, 1e30]);
    return { text: String(s), get: () => s };
  }
  const b = p.value(v.length);
  if (broadcastable(v[a]!.shape, v[b]!.shape)) return { text: `$${b}`, get: (v) => v[b]! };
  if (numel(v[b]!) === 0) return { text: `$${b}.sum()`, get: (v) => v[b]!.sum() };
  const ones = Array(p.int(3)).fill(1);
  return { text: `$${b}.flatten().narrow(0, 0, 1).reshape([${ones}])`, get: (v) => v[b]!.flatten().narrow(0, 0, 1).reshape(ones) };
}

const UNARY = ['neg', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'silu', 'erf',
  'floor', 'ceil', 'round', 'sign', 'reciprocal', 'logicalNot', 'gelu'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'remainder', 'atan2', 'eq', 'ne', 'lt', 'le',
  'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;
const TRANSCENDENTAL = new Set(['exp', 'log', 'log1p', 'sin', 'cos', 'tanh', 'sigmoid', 'silu', 'erf', 'gelu', 'pow', 'atan2', 'rsqrt']);
const call = (t: k.Tensor, name: string, ...args: unknown[]): k.Tensor =>
  (t as unknown as Record<string, (...a: unknown[]) => k.Tensor>)[name]!(...args);

const pointwise: Record<string, Maker> = {
  unary: (p, _v, a) => {
    const op = p.of(UNARY);
    const tanhGelu = op === 'gelu' && p.int(2) === 1;
    return { text: `$${a}.${op}(${tanhGelu ? "{approximate:'tanh'}" : ''})`, loose: TRANSCENDENTAL.has(op),
      run: (v) => (tanhGelu ? v[a]!.gelu({ approximate: 'tanh' }) : call(v[a]!, op)) };
  },
  binary: (p, v, a) => {
    const op = p.of(BINARY);
    const o = operand(p, v, a);
    const alpha = (op === 'add' || op === 'sub') && p.int(3) === 0 ? p.of([2, -1]) : undefined;
    const swap = p.int(4) === 0 && o.text.startsWith('$');
    return { text: `${swap ? o.text : `$${a}`}.${op}(${swap ? `$${a}` : o.text}${alpha ? `, {alpha:${alpha}}` : ''})`, loose: TRANSCENDENTAL.has(op),
      run: (v) => {
        const [x, y] = swap ? [o.get(v) as k.Tensor, v[a]!] : [v[a]!, o.get(v)];
        return alpha ? call(x, op, y, { alpha }) : call(x, op, y);
      } };
  },
  where: (p, v, a) => {
    const c = p.value(v.length), o = operand(p, v, a);
    const cond = (v: readonly k.Tensor[]) => (v[c]!.dtype === 'bool' ? v[c]! : v[c]!.gt(0));
    if (!broadcastable(v[c]!.shape, v[a]!.shape)) return undefined;
    const fill = p.of([-1e9, 0, 2]);
    return p.int(3) === 0
      ? { text: `$${a}.maskedFill(cond($${c}), ${fill})`, run: (v) => v[a]!.maskedFill(cond(v), fill) }
      : { text: `where(cond($${c}), $${a}, ${o.text})`, run: (v) => k.where(cond(v), v[a]!, o.get(v)) };
  },
  clamp: (p, v, a) => {
    const int = v[a]!.dtype !== 'float32';
    const [lo, hi] = int ? [p.of([-2, 0, null]), p.of([3, 0, null])] : [p.of([-0.5, 0, null]), p.of([0.75, 2, null])];
    if (lo === null && hi === null) return undefined;
    return { text: `$${a}.clamp(${lo}, ${hi})`, run: (v) => v[a]!.clamp(lo, hi) };
  },
  cast: (p, _v, a) => {
    const dtype = p.of(['float32', 'int32', 'bool'] as const);
    return { text: `$${a}.to('${dtype}')`, run: (v) => v[a]!.to(dtype) };
  },
};

const REDUCE = ['sum', 'prod', 'amax', 'amin', 'all', 'any', 'mean', 'var', 'std', 'logsumexp'] as const;
const reductions: Record<string, Maker> = {
  reduce: (p, v, a) => {
    const op = p.of(REDUCE), d = dims(p, v[a]!), keepdim = p.int(2) === 1;
    if (op === 'var' || op === 'std') {
      const correction = p.of([1, 0]);
      return { text: `$${a}.${op}(${JSON.stringify(d)}, {correction:${correction}, keepdim:${keepdim}})`, loose: true,
        run: (v) => call(v[a]!, op, d, { correction, keepdim }) };
    }
    const dtype = (op === 'sum' || op === 'prod') && p.int(4) === 0 ? p.of(['float32', 'int32'] as const) : undefined;
    return { text: `$${a}.${op}(${JSON.stringify(d)}, ${keepdim}${dtype ? `, {dtype:'${dtype}'}` : ''})`, loose: true,
      run: (v) => (dtype ? call(v[a]!, op, d, keepdim, { dtype }) : call(v[a]!, op, d, keepdim)) };
  },
  argReduce: (p, v, a) => {
    const op = p.of(['argmax', 'argmin', 'max', 'min'] as const);
    const d = rank(v[a]!) === 0 || p.int(4) === 0 ? null : dim(p, v[a]!), keepdim = p.int(2) === 1;
    return { text: `$${a}.${op}(${d}, ${keepdim})`, run: (v) => {
      const r = call(v[a]!, op, d, keepdim) as unknown;
      // max/min with a dim return [values, indices]
      return Array.isArray(r) ? [...(r as k.Tensor[])] : (r as k.Tensor);
    } };
  },
  cumsum: (p, v, a) => {
    if (rank(v[a]!) === 0) return undefined;
    const d = dim(p, v[a]!);
    return { text: `$${a}.cumsum(${d})`, loose: true, run: (v) => v[a]!.cumsum(d) };
  },
  softmax: (p, v, a) => {
    if (rank(v[a]!) === 0) return undefined;
    const d = dim(p, v[a]!), log = p.int(2) === 1;
    return { text: `$${a}.${log ? 'logSoftmax' : 'softmax'}(${d})`, loose: true, run: (v) => (log ? v[a]!.logSoftmax(d) : v[a]!.softmax(d)) };
  },
  layerNorm: (p, v, a) => {
    const n = 1 + p.int(Math.min(2, rank(v[a]!)));
    if (rank(v[a]!) === 0) return undefined;
    const shape = v[a]!.shape.slice(-n), affine = p.int(2) === 1;
    return { text: `layerNorm($${a}, [${shape}]${affine ? ', w, b' : ''})`, loose: true, run: (v) => {
      const w = affine ? k.arange(shape.reduce((x, y) => x * y, 1)).to('float32').mul(0.1).reshape(shape) : null;
      return k.layerNorm(v[a]!, shape, w, w?.sub(0.5) ?? null);
    } };
  },
};

export const VALUE_MAKERS: Record<string, Maker> = { ...pointwise, ...reductions };
export type { Maker };
export { rank, dim, numel, broadcastable };

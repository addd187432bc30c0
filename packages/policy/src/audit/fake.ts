import { FakeTensor, FakeTensorMode, contiguousStrides, withDispatchMode } from '@kiln/tensor';
import type { DType, MetaContext, MetaResult, MetaTensor, OpDef, Size, SymBoolLike, SymIntLike, Tensor, TensorMetaLike } from '@kiln/tensor';

/**
 * What the audit runs ops on: @kiln/tensor's fake tensors (the tracer's own), with placeholder sizes for
 * data-dependent results, so the audit checks exactly what compiled code will run.
 */

/** A metadata-only record, as meta functions receive it. */
export const metaOf = (t: TensorMetaLike): TensorMetaLike => ({
  shape: [...t.shape],
  strides: [...t.strides],
  offset: t.offset,
  dtype: t.dtype,
  ndim: t.ndim,
});

/** A fake tensor with `meta`'s metadata: any kernel that reached for its data throws (the decomposition check notices). */
export function fakeTensor(meta: { shape: readonly Size[]; dtype: DType; strides?: readonly Size[]; offset?: Size }): Tensor {
  return new FakeTensor(meta.shape, meta.strides ?? contiguousStrides(meta.shape), meta.offset ?? 0, meta.dtype);
}

/** A size that stands for a data-dependent value (`u0`), as the ShapeEnv's unbacked symbols will. */
class PlaceholderSize implements SymIntLike {
  readonly isSymInt = true as const;
  constructor(readonly expr: string) {}
  private op(sym: string, o: Size): Size {
    return new PlaceholderSize(`(${this.expr} ${sym} ${String(o)})`);
  }
  add(o: Size) { return this.op('+', o); }
  sub(o: Size) { return this.op('-', o); }
  mul(o: Size) { return this.op('*', o); }
  floorDiv(o: Size) { return this.op('//', o); }
  mod(o: Size) { return this.op('%', o); }
  min(o: Size) { return this.op('min', o); }
  max(o: Size) { return this.op('max', o); }
  neg() { return new PlaceholderSize(`-${this.expr}`); }
  // An unbacked size compares as "unknown": the guard resolves to false, as size-oblivious reasoning would.
  private cmp(sym: string, o: Size): SymBoolLike {
    const text = `${this.expr} ${sym} ${String(o)}`;
    return { isSymBool: true, guardBool: () => false, toString: () => text };
  }
  eq(o: Size) { return this.cmp('==', o); }
  ne(o: Size) { return this.cmp('!=', o); }
  lt(o: Size) { return this.cmp('<', o); }
  le(o: Size) { return this.cmp('<=', o); }
  gt(o: Size) { return this.cmp('>', o); }
  ge(o: Size) { return this.cmp('>=', o); }
  toString() { return this.expr; }
}

export function placeholderMetaContext(): MetaContext {
  let n = 0;
  return {
    dataDependentSize: (): Size => new PlaceholderSize(`u${n++}`),
    dataDependentScalar: (_op: string, dtype: DType) => ({ placeholder: `u${n++}`, dtype }),
  };
}

export const isMetaTensor = (r: MetaResult): r is MetaTensor => typeof r === 'object' && r !== null && 'shape' in r && !Array.isArray(r);

export interface FakeRun {
  /** Every op dispatched while running, in order, with its depth (1 = called by the op under test). */
  readonly calls: { op: OpDef; depth: number }[];
}

/**
 * Runs `body` with every op call answered on fake tensors: through the op's meta function, or, when it has
 * none (or `expand` is set and it has a decomposition), by running its decomposition under the same mode.
 * A decomposition that calls itself, directly or not, is reported as a cycle.
 */
export function runFake<T>(body: () => T, options: { expand: boolean }): { result: T; run: FakeRun } {
  const calls: FakeRun['calls'] = [];
  const stack: string[] = [];
  const metaMode = new FakeTensorMode(placeholderMetaContext());
  const mode = {
    dispatch(op: OpDef, args: unknown[]): unknown {
      calls.push({ op, depth: stack.length + 1 });
      if (stack.includes(op.name)) throw new Error(`decomposition cycle: ${[...stack, op.name].join(' → ')}`);
      const useDecomposition = op.decompose && (options.expand || !op.meta);
      if (useDecomposition) {
        stack.push(op.name);
        try {
          return op.decompose!(args);
        } finally {
          stack.pop();
        }
      }
      if (!op.meta) throw new Error(`op '${op.name}' has neither a meta function nor a decomposition, so it cannot run on fake tensors`);
      return metaMode.dispatch(op, args);
    },
  };
  const result = withDispatchMode(mode, body);
  return { result, run: { calls } };
}

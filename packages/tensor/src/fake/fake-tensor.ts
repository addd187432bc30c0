// Fake tensors: metadata (shape, strides, dtype; sizes may be symbolic) with no data, and the dispatch mode
// that runs ops on them through their meta functions. Kept next to the op registry so that every layer
// that needs them (the tracer, graph passes, the policy audit) shares one definition.
import type { DType } from '../dtype.js';
import { KilnError } from '../errors.js';
import type { DispatchMode, MetaContext, MetaResult, MetaTensor, OpDef } from '../registry/registry.js';
import { withDispatchMode } from '../registry/registry.js';
import type { Size } from '../size.js';
import { contiguousStrides, hasContiguousStrides } from '../size.js';
import { Storage } from '../storage.js';
import { Tensor, type ReadOptions } from '../tensor.js';

/** Raised when an op cannot run on fake tensors, or fake data is read. */
export class FakeTensorError extends KilnError {}

/**
 * Storage of a fake tensor: it has an identity (views of one fake tensor share it, so aliasing is visible)
 * but no bytes. Reading its data is a bug — it would make an eager kernel compute garbage — so it throws.
 */
export class FakeStorage extends Storage {
  /**
   * The tensor this storage was made for (an op's fresh result); its views share the storage. Compiled code
   * rebuilds a returned view over the owner's output (trace/output-template.ts).
   */
  owner: FakeTensor | undefined;
  constructor(dtype: DType) {
    super(new Float32Array(0), dtype);
  }
  override get data(): never {
    throw new FakeTensorError('a fake tensor has no data: an eager kernel was called on it outside a fake-tensor mode');
  }
  override writable(): never {
    return this.data;
  }
}

/**
 * A tensor with metadata only: shape and strides may hold symbolic sizes. Ops on it run their meta
 * functions (under a FakeTensorMode), never their kernels.
 */
export class FakeTensor extends Tensor {
  constructor(shape: readonly Size[], strides: readonly Size[], offset: Size, dtype: DType, storage?: Storage) {
    super(storage ?? new FakeStorage(dtype), shape as number[], strides as number[], offset as number, dtype);
    if (storage === undefined) (this.storage as FakeStorage).owner = this;
  }

  static like(t: Tensor, shape: readonly Size[] = t.shape): FakeTensor {
    return new FakeTensor(shape, contiguousStrides(shape), 0, t.dtype);
  }

  override toTypedArray(_options?: ReadOptions): never {
    throw new FakeTensorError(`cannot read the values of a fake tensor (${this.describe()})`, 'values exist only when the compiled code runs');
  }

  override toArray(): never {
    return this.toTypedArray();
  }

  override get numel(): number {
    throw new FakeTensorError(`numel of a fake tensor may be symbolic (${this.describe()}); use numelOf(t.shape)`);
  }

  override isContiguous(): boolean {
    // Compared by printed form so that asking does not record a guard.
    return hasContiguousStrides(this.shape, this.strides);
  }

  describe(): string {
    return `FakeTensor(${this.dtype}[${this.shape.map(String).join(', ')}])`;
  }

  override toString(): string {
    return this.describe();
  }
}

/** Turns what a meta function returned into fake tensors (views share the input's fake storage). */
export function materializeMeta(op: OpDef, args: readonly unknown[], out: MetaResult): unknown {
  if (Array.isArray(out)) return out.map((m) => materializeMeta(op, args, m as MetaTensor));
  const r = out as MetaTensor & { scalar?: DType; value?: unknown };
  if ('value' in r) return r.value;
  if (r.scalar !== undefined) throw new FakeTensorError(`${op.name}: returned a scalar without a context to make a symbol`);
  if (!r.shape) {
    // Named multi-output results such as `max(x, dim)`: eager returns `[values, indices]` with the names as
    // fields too, and so must the fake result, or a returned one is rebuilt as a plain object that
    // `const [v, i] = compiledFn(x)` cannot destructure.
    const named: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) named[k] = materializeMeta(op, args, v as MetaTensor);
    return Object.assign(Object.values(named), named);
  }
  const self = args[0];
  if (r.same === true && self instanceof Tensor) return self;
  const aliases = (op.view || r.aliases === true) && self instanceof Tensor && r.strides !== undefined;
  return new FakeTensor(
    r.shape,
    r.strides ?? contiguousStrides(r.shape),
    r.offset ?? 0,
    r.dtype,
    aliases ? (self as Tensor).storage : undefined,
  );
}

/**
 * Runs every op on fake tensors: the meta function gives the output's metadata; composite ops without one
 * run their decomposition (whose inner ops come back here). `ctx` supplies symbols for data-dependent ops.
 */
export class FakeTensorMode implements DispatchMode {
  constructor(readonly ctx: MetaContext) {}

  dispatch(op: OpDef, args: unknown[]): unknown {
    if (op.meta) {
      const out = op.meta(args, this.ctx) as MetaResult & { scalar?: DType };
      if (out && typeof out === 'object' && 'scalar' in out && out.scalar !== undefined) {
        return this.ctx.dataDependentScalar(op.name, out.scalar);
      }
      return materializeMeta(op, args, out);
    }
    if (op.decompose) return withDispatchMode(this, () => op.decompose!(args));
    throw new FakeTensorError(
      `${op.name}: has no meta function, so it cannot run on fake tensors`,
      `give '${op.name}' a meta function in @kiln/tensor, or keep it out of compiled code`,
    );
  }
}

import { ShapeEnv } from '@kiln/shapes';
import { Tensor, contiguousStrides, eagerMetaContext, getOp } from '@kiln/tensor';
import type { MetaTensor, Size } from '@kiln/tensor';

/**
 * Runs op `name`'s meta function with every tensor argument replaced by metadata whose sizes are symbols of a
 * fresh ShapeEnv (hinted with the real sizes), and reads the output sizes back as numbers through the hints.
 * `args` are normalized (every argument, defaults filled in).
 */
export function metaOnSymbolicSizes(name: string, args: readonly unknown[]) {
  const env = new ShapeEnv();
  let count = 0;
  const fake = (t: Tensor) => {
    const shape = env.createSizes(t.shape, `L.t${count++}`);
    return { shape, strides: contiguousStrides(shape), offset: 0, dtype: t.dtype, ndim: t.ndim };
  };
  const fakeArgs = args.map((a) =>
    a instanceof Tensor ? fake(a) : Array.isArray(a) && a.length > 0 && a.every((x) => x instanceof Tensor) ? a.map(fake) : a,
  );
  const out = getOp(name)!.meta!(fakeArgs, eagerMetaContext) as MetaTensor | MetaTensor[];
  const list = Array.isArray(out) ? out : [out];
  const hint = (s: Size): number => (typeof s === 'number' ? s : env.hintOf(s)!);
  return {
    shapes: list.map((m) => m.shape.map(hint)),
    dtypes: list.map((m) => m.dtype),
    /** Whether some output size stayed a symbol (sizes 0 and 1 are specialized, as in PyTorch). */
    symbolic: list.some((m) => m.shape.some((s) => typeof s !== 'number')),
  };
}

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, produceGuards, type SymInt } from '@kiln/shapes';

// The tensor library's own copy of the interface (it does not import @kiln/shapes): SymInt must satisfy it.
interface TensorSymBoolLike {
  readonly isSymBool: true;
  guardBool(): boolean;
  toString(): string;
}
interface TensorSymIntLike {
  readonly isSymInt: true;
  add(o: TensorSize): TensorSize;
  sub(o: TensorSize): TensorSize;
  mul(o: TensorSize): TensorSize;
  floorDiv(o: TensorSize): TensorSize;
  mod(o: TensorSize): TensorSize;
  min(o: TensorSize): TensorSize;
  max(o: TensorSize): TensorSize;
  neg(): TensorSize;
  eq(o: TensorSize): boolean | TensorSymBoolLike;
  ne(o: TensorSize): boolean | TensorSymBoolLike;
  lt(o: TensorSize): boolean | TensorSymBoolLike;
  le(o: TensorSize): boolean | TensorSymBoolLike;
  gt(o: TensorSize): boolean | TensorSymBoolLike;
  ge(o: TensorSize): boolean | TensorSymBoolLike;
  toString(): string;
}
type TensorSize = number | TensorSymIntLike;

// A meta function written against the structural interface only, as @kiln/tensor writes them.
const toBool = (b: boolean | TensorSymBoolLike): boolean => (typeof b === 'boolean' ? b : b.guardBool());
const sizeMul = (a: TensorSize, b: TensorSize): TensorSize =>
  typeof a === 'number' && typeof b === 'number' ? a * b : typeof a !== 'number' ? a.mul(b) : (b as TensorSymIntLike).mul(a);
const sizeEq = (a: TensorSize, b: TensorSize): boolean =>
  typeof a === 'number' && typeof b === 'number' ? a === b : toBool(typeof a !== 'number' ? a.eq(b) : (b as TensorSymIntLike).eq(a));

function matmulMeta(a: readonly TensorSize[], b: readonly TensorSize[]): TensorSize[] {
  if (!sizeEq(a[1]!, b[0]!)) throw new Error(`matmul: ${String(a[1])} != ${String(b[0])}`);
  return [a[0]!, b[1]!];
}

const structural = suite('structural interface used by @kiln/tensor');

structural('SymInt satisfies the tensor library\'s SymIntLike and meta functions guard through it', () => {
  const env = new ShapeEnv();
  env.setLocation('model.ts:3');
  const x: TensorSize[] = env.createSizes([8, 16], 'L.x', 'dynamic');
  const w: TensorSize[] = env.createSizes([16, 4], 'L.w', 'dynamic');
  const one: TensorSymIntLike = x[0] as SymInt;
  assert.is(one.isSymInt, true);
  const out = matmulMeta(x, w);
  assert.is(out.map(String).join(', '), 's0, s3');
  assert.is(String(sizeMul(out[0]!, out[1]!)), 's0*s3');
  assert.is(String(sizeMul(2, out[0]!)), '2*s0');
  assert.equal(produceGuards(env).map((g) => g.text), [
    'L.w.shape[0] == L.x.shape[1]',
    'L.x.shape[0] >= 2',
    'L.x.shape[1] >= 2',
    'L.w.shape[1] >= 2',
  ]);
});

structural.run();

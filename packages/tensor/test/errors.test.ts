import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { inspect } from 'node:util';
import * as K from '@kiln/tensor';
import {
  IndexError, KilnError, KilnTypeError, ShapeError, Tensor, ValueError, ViewError, arange, getOp, tensor, zeros,
} from '@kiln/tensor';
import { expectError } from './support/refs.js';

const call = (name: string, ...args: unknown[]) => (K as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);

const Classes = suite('errors: the error classes');

Classes('every class is a KilnError, named after itself, and carries its hint', () => {
  for (const C of [KilnTypeError, ShapeError, IndexError, ValueError, ViewError]) {
    const e = new C('op: message', 'do this');
    assert.instance(e, KilnError);
    assert.instance(e, Error);
    assert.not.instance(e, TypeError, 'a KilnTypeError is not a raw TypeError');
    assert.is(e.name, C.name);
    assert.is(e.hint, 'do this');
    assert.is(e.message, 'op: message\n  hint: do this');
  }
  assert.is(new ShapeError('m').message, 'm');
});

Classes('an uncaught error shows its hint once (Node prints the stack, then the own enumerable properties)', () => {
  const printed = inspect(new ShapeError('matmul: [2,3] @ [4,5]', 'transpose the second operand'));
  assert.is(printed.split('transpose the second operand').length - 1, 1, printed);
  assert.is(new ShapeError('m', 'h').hint, 'h', 'still readable');
});

Classes.run();

const Named = suite('errors: bad input names the op, the argument and the shapes or dtypes');

Named('broadcasting mismatches', () => {
  const e = expectError(() => K.add(zeros([2, 3]), zeros([4, 3])), ShapeError, 'add:', '[2, 3]', '[4, 3]', 'dim -2: 2 vs 4');
  assert.ok(e.hint && /trailing/.test(e.hint));
  expectError(() => K.where(tensor([true, false, true]), zeros([2]), 0), ShapeError, 'where:', '[3]', '[2]');
  expectError(() => zeros([3]).lt(zeros([2])), ShapeError, 'lt:');
});

Named('out-of-range dims and indices', () => {
  const x = zeros([2, 3]);
  expectError(() => x.transpose(0, 2), IndexError, 'transpose:', 'dim1=2', 'rank 2', '[-2, 1]');
  expectError(() => x.select(-3, 0), IndexError, 'select:', 'dim=-3');
  expectError(() => x.select(1, 3), IndexError, 'select:', 'index 3', 'dim 1 of size 3');
  expectError(() => x.squeeze(2), IndexError, 'squeeze:', 'dim=2');
  expectError(() => x.flatten(0, 2), IndexError, 'flatten:', "endDim=2");
  expectError(() => x.slice(2), IndexError, 'slice:', 'dim=2');
  expectError(() => x.unsqueeze(-4), IndexError, 'unsqueeze:', 'dim=-4');
  const scalar = tensor(1.5);
  expectError(() => scalar.slice(0), IndexError, 'slice:', '0-dim');
  expectError(() => scalar.narrow(0, 0, 1), IndexError, 'narrow:', '0-dim');
  expectError(() => scalar.select(0, 0), IndexError, 'select:', '0-dim');
  expectError(() => scalar.permute([0]), ShapeError, 'permute:');
});

Named('wrong dtypes and wrong argument types', () => {
  expectError(() => K.rand([2], { dtype: 'bool' }), KilnTypeError, 'rand:', 'float32 or float64', 'bool');
  expectError(() => K.zeros([2], { dtype: 'float16' as 'float32' }), KilnTypeError, "zeros: argument 'dtype'", 'float16');
  expectError(() => call('exp', [1, 2]), KilnTypeError, "exp: argument 'self' must be Tensor", 'array of length 2');
  expectError(() => call('add', zeros([1]), '1'), KilnTypeError, "add: argument 'other'", 'string 1');
  expectError(() => call('add', zeros([1], { dtype: 'int32' }), 1, { alpha: 0.5 }), KilnTypeError, 'add: alpha=0.5');
  expectError(() => K.clamp(zeros([1])), KilnTypeError, 'clamp:', 'min and max');
  // As in PyTorch: -true would silently stay true in a bool tensor.
  expectError(() => tensor([true]).neg(), KilnTypeError, 'neg:', 'bool', 'logicalNot');
  assert.equal(tensor([true]).sub(1).toArray(), [0], 'bool - int is int');
});

Named('views that would need a copy, and impossible shapes', () => {
  const t = arange(6).reshape([2, 3]).transpose(0, 1);
  expectError(() => t.view([6]), ViewError, 'view:', '[3, 2]', 'strides [1, 3]');
  expectError(() => zeros([2, 3]).reshape([5]), ShapeError, 'reshape:', '[5]', '[2, 3]');
  expectError(() => zeros([2, 3]).view([-1, -1]), ShapeError, 'view:', 'only one dimension can be -1');
  expectError(() => zeros([2, 1]).expand([2, 5, 3]), ShapeError, 'expand:', '[2, 1]', '[2, 5, 3]');
  expectError(() => zeros([-3]), ShapeError, 'zeros:', '[-3]');
  expectError(() => zeros([65536, 65536]), ValueError, 'zeros:', '[65536, 65536]', '4294967296 elements');
});

Named('values an op cannot accept', () => {
  expectError(() => K.arange(0, 10, 0), ValueError, 'arange:', 'step');
  expectError(() => K.linspace(0, 1, -2), ValueError, 'linspace:', '-2');
  expectError(() => zeros([3]).narrow(0, 1, 5), IndexError, 'narrow:', 'length=5');
  expectError(() => zeros([3]).slice(0, 0, 3, -1), IndexError, 'slice:', 'step');
  expectError(() => tensor([5, 7]).remainder(tensor([2, 0])), ValueError, 'remainder:', 'division by zero');
  expectError(() => tensor([5]).remainder(0), ValueError, 'remainder:');
  assert.ok(Number.isNaN(tensor([5], { dtype: 'float32' }).remainder(0).item() as number), 'float remainder by 0 is NaN');
});

Named.run();

// ---- fuzz: random, mostly wrong arguments to every op of this part of the issue ----

const FUZZED_OPS = `tensor zeros ones full arange linspace eye rand randn zerosLike onesLike fullLike randLike randnLike
  neg abs exp log log1p sqrt rsqrt sin cos tanh sigmoid relu gelu silu erf floor ceil round sign reciprocal logicalNot
  add sub mul div pow maximum minimum remainder atan2 eq ne lt le gt ge logicalAnd logicalOr where clamp
  reshape view permute transpose expand slice narrow select squeeze unsqueeze flatten contiguous clone`.split(/\s+/);

const tensorArb = fc.constantFrom(
  () => zeros([2, 3]), () => tensor(1.5), () => tensor([true, false]), () => zeros([0, 2], { dtype: 'int32' }),
  () => arange(6).reshape([3, 2]).transpose(0, 1), () => zeros([1, 3, 1]).expand([2, 3, 4]), () => tensor([[1, 2]], { dtype: 'float64' }),
).map((make) => make());
const argArb: fc.Arbitrary<unknown> = fc.oneof(
  tensorArb,
  fc.constantFrom(-3, -1, 0, 1, 2, 2.5, NaN, Infinity, -Infinity, 1e10, 2 ** 31),
  fc.boolean(),
  fc.constantFrom(null, undefined, 'x', 'float64', 'tanh', {}, { dtype: 'float64' }, { alpha: 2 }, { dim: 0 }, { bogus: 1 }),
  fc.constantFrom([], [0], [2, 3], [-1], [3, -1], [1, 2, 3, 4], [0.5], [[1, 2], [3]], ['a'], [true], [1e10]),
);

const Fuzz = suite('errors: fuzzed arguments (property)');

Fuzz('no op throws anything but a KilnError, and whatever it returns is a well-formed tensor', () => {
  const failures: string[] = [];
  const seen = new Set<string>(); // one report per op and message, so that distinct bugs all show
  fc.assert(
    fc.property(fc.constantFrom(...FUZZED_OPS), fc.array(argArb, { maxLength: 5 }), (name, args) => {
      assert.ok(getOp(name), name);
      let out: unknown;
      try {
        out = call(name, ...args);
      } catch (e) {
        const key = `${name}: ${(e as Error)?.message}`;
        if (seen.has(key)) return;
        seen.add(key);
        if (!(e instanceof KilnError)) {
          failures.push(`${name}(${args.map(describe).join(', ')}) threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        } else if (!(e as Error).message.includes(name)) {
          failures.push(`${name}(${args.map(describe).join(', ')}): message does not name the op: ${(e as Error).message}`);
        }
        return;
      }
      assert.instance(out, Tensor);
      const t = out as Tensor;
      const wellFormed = t.shape.every((s) => Number.isInteger(s) && s >= 0) && (t.numel > 1e6 || t.toTypedArray().length === t.numel);
      if (!wellFormed) failures.push(`${name}(${args.map(describe).join(', ')}) returned shape [${t.shape}]`);
    }),
    { numRuns: Number(process.env.KILN_FUZZ_RUNS ?? 3000) },
  );
  assert.equal(failures.slice(0, 10), [], failures.slice(0, 10).join('\n'));
});

function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor(${x.dtype}[${x.shape}], strides [${x.strides}])`;
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (x === undefined) return 'undefined';
  return JSON.stringify(x);
}

Fuzz.run();

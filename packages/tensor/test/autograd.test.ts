import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AutogradError, KilnTypeError, ShapeError, autograd, defineOp, enableGrad, isGradEnabled, noGrad, ones, randn, tensor, zeros,
} from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';

const values = (t: Tensor | null) => (t === null ? null : Array.from(t.toTypedArray()));
const f64 = (data: number[] | number[][]) => tensor(data, { dtype: 'float64', requiresGrad: true });

function throws(fn: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${cls.name} ${pattern}`);
}

const Tape = suite('autograd: tape, backward, .grad');

Tape('requiresGrad as a creation option and requiresGrad_(); results of ops require grad and are not leaves', () => {
  const x = randn([2], { requiresGrad: true });
  const y = zeros([2]).requiresGrad_();
  assert.ok(x.requiresGrad && x.isLeaf && y.requiresGrad);
  const z = x.add(y);
  assert.ok(z.requiresGrad && !z.isLeaf);
  assert.is(z.gradFn!.name, 'addBackward');
  assert.is(ones([2]).requiresGrad, false);
});

Tape('backward accumulates into .grad of leaves over calls; broadcasting sums back to the input shape', () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  const b = f64([10, 20, 30]);
  x.mul(b).sum().backward();
  assert.equal(values(x.grad), [10, 20, 30, 10, 20, 30]);
  assert.equal(values(b.grad), [5, 7, 9]);
  x.mul(b).sum().backward();
  assert.equal(values(b.grad), [10, 14, 18]);
  assert.equal(b.grad!.shape, [3]);
});

Tape('a tensor used twice gets both gradients (x·x → 2x); a gradient argument scales a non-scalar backward', () => {
  const x = f64([1, -2, 3]);
  x.mul(x).backward(tensor([1, 10, 100], { dtype: 'float64' }));
  assert.equal(values(x.grad), [2, -40, 600]);
});

Tape('detach() shares data and has no history; noGrad records nothing; enableGrad inside noGrad records', () => {
  const x = f64([1, 2]);
  const d = x.detach();
  assert.ok(d.storage === x.storage && !d.requiresGrad);
  const inside = noGrad(() => {
    assert.is(isGradEnabled(), false);
    return [x.mul(2), enableGrad(() => x.mul(3))] as const;
  });
  assert.is(inside[0].requiresGrad, false);
  assert.is(inside[1].requiresGrad, true);
  assert.is(isGradEnabled(), true);
  try {
    noGrad(() => {
      throw new Error('boom');
    });
  } catch {
    /* grad mode is restored after a throw */
  }
  assert.is(isGradEnabled(), true);
});

Tape('retainGrad() keeps the gradient of a non-leaf; non-leaves have none otherwise', () => {
  const x = f64([1, 2]);
  const h = x.mul(3);
  const other = x.mul(4);
  h.retainGrad();
  h.add(other).pow(2).sum().backward();
  assert.equal(values(h.grad), [14, 28]);
  assert.is(other.grad, null);
  assert.equal(values(x.grad), [98, 196]);
});

Tape('retainGraph lets a graph be differentiated again; createGraph gives second derivatives', () => {
  const x = f64([2]);
  const y = x.pow(3);
  y.backward(null, { retainGraph: true });
  y.backward();
  assert.equal(values(x.grad), [24, 24].slice(0, 1));
  const [g] = autograd.grad(x.pow(3), x, { createGraph: true });
  assert.equal(values(g!), [12]);
  const [gg] = autograd.grad(g!, x);
  assert.equal(values(gg!), [12]); // d²/dx² x³ = 6x
});

Tape('autograd.grad returns gradients without touching .grad; allowUnused', () => {
  const x = f64([1, 2]);
  const unused = f64([5]);
  const [gx] = autograd.grad(x.exp().sum(), [x]);
  assert.equal(values(gx!), [Math.exp(1), Math.exp(2)]);
  assert.is(x.grad, null);
  throws(() => autograd.grad(x.sum(), [x, unused]), AutogradError, /input 1 was not used/);
  assert.equal(autograd.grad(x.sum(), [x, unused], { allowUnused: true })[1], null);
});

const Errors = suite('autograd: errors as PyTorch gives them');

Errors('backward twice through saved tensors without retainGraph', () => {
  const x = f64([1, 2]);
  const y = x.exp().sum();
  y.backward();
  throws(() => y.backward(), AutogradError, /backward through the graph a second time[\s\S]*retainGraph: true/);
});

Errors('non-scalar backward without a gradient; a gradient of the wrong shape; a tensor that does not require grad', () => {
  const x = f64([1, 2]);
  throws(() => x.mul(2).backward(), AutogradError, /grad can be implicitly created only for scalar outputs: tensor 0 has shape \[2\]/);
  throws(() => x.mul(2).backward(ones([3], { dtype: 'float64' })), ShapeError, /gradient has shape \[3\] but tensor 0 has shape \[2\]/);
  throws(() => ones([1]).backward(), AutogradError, /does not require grad and does not have a gradFn/);
});

Errors('in-place modification of a saved tensor is detected through the version counter', () => {
  const x = f64([1, 2]);
  const y = x.exp();
  const z = y.mul(2).sum();
  y.add_(1); // exp saved its output y
  throws(() => z.backward(), AutogradError, /modified by an inplace operation: the float64\[2\] tensor saved as output 0 of exp is at version 1; expected version 0/);
  // An op that saved nothing it reads is not affected.
  const a = x.mul(1);
  const b = a.add(3).sum();
  a.mul_(5);
  b.backward();
  assert.equal(values(x.grad), [1, 1]);
});

Errors('in-place ops on leaves that require grad (or their views) are refused; allowed under noGrad', () => {
  const x = f64([1, 2]);
  throws(() => x.add_(1), AutogradError, /leaf tensor that requires grad is being used in an in-place operation/);
  throws(() => x.narrow(0, 0, 1).mul_(2), AutogradError, /view of a leaf tensor that requires grad/);
  noGrad(() => x.add_(1));
  assert.equal(values(x), [2, 3]);
});

Errors('requiresGrad_ on an int tensor or on a non-leaf; an op with no derivative says so when differentiated', () => {
  throws(() => tensor([1, 2]).requiresGrad_(), AutogradError, /only tensors of floating point dtype can require gradients, got int32/);
  throws(() => f64([1]).mul(2).requiresGrad_(false), AutogradError, /only change the requiresGrad flag of leaf tensors/);
  const opaque = defineOp({
    name: 'testOpaqueSquare',
    category: 'pointwise',
    method: false,
    positional: [{ name: 'self', type: 'Tensor', hasDefault: false }] as const,
    kernel: ([x]: [Tensor]) => x.detach().mul(x.detach()),
  });
  const y = (opaque as unknown as (x: Tensor) => Tensor)(f64([3])).sum();
  throws(() => y.backward(), AutogradError, /testOpaqueSquare: no derivative is defined/);
  throws(() => randn([2]).backward(1 as never), KilnTypeError, /gradient' must be a Tensor/);
});

const Inplace = suite('autograd: in-place ops and views');

Inplace('an in-place op on an intermediate uses its old value (x·w then mul_ by w → w²x)', () => {
  const x = f64([1, 2]);
  const w = f64([3, 4]);
  const h = x.mul(1);
  h.mul_(w).mul_(w);
  h.sum().backward();
  assert.equal(values(x.grad), [9, 16]);
  assert.equal(values(w.grad), [6, 16]);
});

Inplace('writing through a view updates the base history (PyTorch CopySlices)', () => {
  const x = f64([[1, 2], [3, 4]]);
  const w = f64([10, 20]);
  const base = x.mul(1);
  base.select(0, 1).mul_(w);
  base.sum().backward();
  assert.equal(values(x.grad), [1, 1, 10, 20]);
  assert.equal(values(w.grad), [3, 4]);
});

Inplace('copy_ of a value that requires grad into a slice of a plain tensor gives the plain tensor a history', () => {
  const w = f64([5, 6]);
  const buffer = zeros([3], { dtype: 'float64' });
  const earlier = buffer.narrow(0, 1, 2); // a view taken before the write sees the new history too
  buffer.narrow(0, 0, 2).copy_(w.mul(2));
  assert.ok(buffer.requiresGrad);
  buffer.mul(tensor([1, 10, 100], { dtype: 'float64' })).sum().add(earlier.sum()).backward();
  assert.equal(values(w.grad), [2, 22]);
});

Tape.run();
Errors.run();
Inplace.run();

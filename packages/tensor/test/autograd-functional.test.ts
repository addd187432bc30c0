import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnTypeError, grad, jvp, tensor, valueAndGrad, vjp } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';

const values = (t: unknown) => Array.from((t as Tensor).toTypedArray());
const f64 = (data: number[] | number[][]) => tensor(data, { dtype: 'float64' });
const close = (got: number[], want: number[], tol = 1e-9) =>
  assert.ok(got.length === want.length && got.every((g, i) => Math.abs(g - want[i]!) <= tol * (1 + Math.abs(want[i]!))), `${got} vs ${want}`);

const Transforms = suite('autograd: grad, valueAndGrad, vjp, jvp over pytrees');

Transforms('grad of a function of a tree of parameters gives a tree of the same structure; inputs stay untouched', () => {
  const params = { w: f64([[1, 2], [3, 4]]), b: [f64([0.5, -0.5])] };
  const x = f64([1, -1]);
  const loss = (p: typeof params, input: Tensor) => p.w.matmul(input).add(p.b[0]!).pow(2).sum();
  const g = grad(loss)(params, x) as typeof params;
  // h = W x + b = [-0.5, -1.5]; dL/dh = 2h; dL/dW = 2h xᵀ; dL/db = 2h
  close(values(g.w), [-1, 1, -3, 3]);
  close(values(g.b[0]), [-1, -3]);
  assert.is(params.w.requiresGrad, false);
  assert.is(params.w.grad, null);
});

Transforms('argnums picks arguments (a list gives a list); hasAux passes data through; valueAndGrad returns the value', () => {
  const f = (a: Tensor, b: Tensor) => [a.mul(b).sum(), 'aux'] as const;
  const [[value, aux], grads] = valueAndGrad(f, { argnums: [0, 1], hasAux: true })(f64([2, 3]), f64([5, 7])) as [[Tensor, string], Tensor[]];
  assert.is(value.item(), 31);
  assert.is(aux, 'aux');
  close(values(grads[0]), [5, 7]);
  close(values(grads[1]), [2, 3]);
  close(values(grad((a: Tensor, b: Tensor) => a.mul(b).sum(), { argnums: 1 })(f64([2, 3]), f64([5, 7]))), [2, 3]);
});

Transforms('grad nests: the second derivative of x³ is 6x', () => {
  const cube = (x: Tensor) => x.pow(3).sum();
  const second = grad((x: Tensor) => (grad(cube)(x) as Tensor).sum());
  close(values(second(f64([1, 2, -3]))), [6, 12, -18]);
});

Transforms('an input the function does not use gets a zero gradient (as jax); a non-scalar output is refused', () => {
  close(values(grad((a: Tensor, _b: Tensor) => a.sum(), { argnums: 1 })(f64([1]), f64([4, 5]))), [0, 0]);
  assert.throws(() => grad((a: Tensor) => a.mul(2))(f64([1, 2])), (e: unknown) => e instanceof KilnTypeError && /float scalar tensor/.test(String(e)));
  assert.throws(() => grad((n: Tensor) => n.sum())(tensor([1, 2])), (e: unknown) => e instanceof KilnTypeError && /only float tensors/.test(String(e)));
});

Transforms('vjp: cotangent times the Jacobian, callable again; jvp: Jacobian times the tangent', () => {
  const f = (x: Tensor, y: Tensor) => ({ prod: x.mul(y), sin: x.sin() });
  const x = f64([0.5, 1]);
  const y = f64([2, -3]);
  const [out, pullback] = vjp(f, x, y);
  close(values((out as { prod: Tensor }).prod), [1, -3]);
  const ct = { prod: f64([1, 10]), sin: f64([100, 1000]) };
  for (let i = 0; i < 2; i++) {
    const [gx, gy] = pullback(ct) as [Tensor, Tensor];
    close(values(gx), [1 * 2 + 100 * Math.cos(0.5), 10 * -3 + 1000 * Math.cos(1)]);
    close(values(gy), [0.5, 10]);
  }
  const [primalOut, tangentOut] = jvp(f, [x, y], [f64([1, 0]), f64([0, 1])]) as [unknown, { prod: Tensor; sin: Tensor }];
  close(values((primalOut as { sin: Tensor }).sin), [Math.sin(0.5), Math.sin(1)]);
  close(values(tangentOut.prod), [2, 1]);
  close(values(tangentOut.sin), [Math.cos(0.5), 0]);
});

Transforms('jvp through matmul, softmax and views matches the vjp transpose (<u, J v> = <Jᵀ u, v>)', () => {
  const w = f64([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]);
  const f = (x: Tensor) => w.matmul(x.transpose(0, 1)).softmax(0).narrow(1, 0, 2);
  const x = f64([[1, 2, 3], [-1, 0.5, 2], [0.2, 0.1, -0.3]]);
  const v = f64([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.7, -0.8, 0.9]]);
  const u = f64([[1, -2], [3, 0.5]]);
  const [, jv] = jvp(f, [x], [v]) as [unknown, Tensor];
  const [, pullback] = vjp(f, x);
  const [jtu] = pullback(u) as [Tensor];
  close([jv.mul(u).sum().item() as number], [jtu.mul(v).sum().item() as number], 1e-12);
});

Transforms.run();

// Pointwise ops defined by a formula alone (`defineOp({ formula })`): the registry derives the eager kernel
// from it, and lowering derives the loop-IR expression from the same formula, so the op runs eagerly and
// compiles into fused CPU kernels with nothing else written; compiled results agree with eager.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile, explain } from '@kiln/core';
import '@kiln/backend-cpu';

const formulas = suite('pointwise ops defined by a formula');
const s = k.scalar;
const T = <N extends string>(name: N) => ({ name, type: 'Tensor', hasDefault: false }) as const;

/** softplus with a sharpness: log(1 + exp(beta·x)) / beta. Schema and formula only: no kernel, no meta. */
const softplusBeta = k.defineOp({
  name: 'testFormulaSoftplus',
  category: 'pointwise',
  method: false,
  positional: [T('self'), { name: 'beta', type: 'float', hasDefault: true, default: 1 }] as const,
  formula: ([x], [beta]) => s.div(s.log1p(s.exp(s.mul(beta as k.ScalarExpr, x!))), beta as k.ScalarExpr),
});

/** lerp(a, b, w) = a + w·(b − a), a tensor or scalar `b`; plus a select: negative weights clamp to 0. */
const lerp = k.defineOp({
  name: 'testFormulaLerp',
  category: 'pointwise',
  method: false,
  positional: [T('self'), { name: 'end', type: 'TensorOrScalar', hasDefault: false }, { name: 'weight', type: 'float', hasDefault: false }] as const,
  formula: ([a, b], [w]) => s.add(a!, s.mul(s.select(s.lt(w as k.ScalarExpr, 0), 0, w as k.ScalarExpr), s.sub(b!, a!))),
});

k.manualSeed(3);
const x = k.randn([5, 7]);
const y = k.randn([7]);

function close(got: k.Tensor, want: ArrayLike<number>, tol: number, what: string): void {
  const g = got.toTypedArray();
  assert.is(g.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(Number(g[i]) - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}: element ${i}: ${g[i]} vs ${want[i]}`);
  }
}

/** A compiler that allows the test ops into its graphs (as a plugin would). */
function compilerForOps(): Compiler {
  const compiler = new Compiler();
  compiler.policy.overrides.allowInGraph(softplusBeta, { origin: 'test' });
  compiler.policy.overrides.allowInGraph(lerp, { origin: 'test' });
  return compiler;
}

formulas('the eager kernel comes from the formula (float64 inside, rounded once), with a default meta', () => {
  const out = softplusBeta(x, 2);
  assert.equal(out.shape, [5, 7]);
  assert.is(out.dtype, 'float32');
  close(out, Array.from(x.toTypedArray(), (v) => Math.fround(Math.log1p(Math.exp(2 * v)) / 2)), 0, 'softplus');
  const ints = softplusBeta(k.tensor([[1, 2]], { dtype: 'int32' }));
  assert.is(ints.dtype, 'float32', 'int32 operands promote to float32');
  close(lerp(x, y, 0.25), Array.from(x.toTypedArray(), (v, i) => Math.fround(v + 0.25 * (y.toTypedArray()[i % 7]! - v))), 0, 'lerp broadcast');
  close(lerp(x, 3, -1), Array.from(x.toTypedArray(), (v) => v), 0, 'lerp with a scalar end and a negative weight');
});

formulas('a formula op compiles on the CPU as fused kernels (no eager step) and agrees with eager', () => {
  const compiler = compilerForOps();
  const fn = (a: k.Tensor, b: k.Tensor) => lerp(softplusBeta(a.mul(3), 1.5), b, 0.75).sum(-1);
  const report = explain(fn, { compiler, backend: 'cpu' })(x, y);
  const program = report.backends[0]!;
  assert.equal(program.eagerSteps, [], 'no eager step');
  assert.is(program.kernels, 1, 'mul, softplus, lerp and the sum fuse into one kernel');
  close(report.result as k.Tensor, (fn(x, y) as k.Tensor).toTypedArray(), 1e-5, 'explain');
  const fast = compile(fn, { compiler, backend: 'cpu' });
  for (const beta of [x, k.randn([5, 7]), k.randn([2, 7])]) close(fast(beta, y), fn(beta, y).toTypedArray(), 1e-5, `compiled [${beta.shape}]`);
});

formulas('a numeric argument is a parameter of one program, not a recompile', () => {
  const compiler = compilerForOps();
  const fn = (a: k.Tensor, beta: number) => softplusBeta(a, beta);
  const fast = compile(fn, { compiler, backend: 'cpu', dynamic: true });
  for (const beta of [0.5, 2, 4]) close(fast(x, beta), fn(x, beta).toTypedArray(), 1e-5, `beta ${beta}`);
});

formulas('a malformed formula is a typed error naming the op', () => {
  const bad = k.defineOp({
    name: 'testFormulaBad',
    category: 'pointwise',
    method: false,
    positional: [T('self')],
    formula: ([x]) => s.add(x!, { kind: 'input', index: 3 }),
  });
  assert.throws(() => bad(x), (err: Error) => err instanceof k.KilnError && /testFormulaBad.*tensor operand 3/.test(err.message));
  assert.throws(
    () => k.defineOp({ name: 'testFormulaView', category: 'view', method: false, positional: [T('self')], formula: ([x]) => x! }),
    (err: Error) => err instanceof k.KilnError && /only pointwise ops have a formula/.test(err.message),
  );
});

formulas.run();

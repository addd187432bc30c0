// A pointwise op defined by a registry formula alone compiles to WGSL from that formula (no eager step) and
// agrees with its eager kernel, which the registry derived from the same formula.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { initWebGpu } from '@kiln/backend-webgpu';
import { checkOnGpu, noDevice, suiteDone, suiteStarted, uniform } from './support.js';

const Formula = suite('backend-webgpu: ops defined by a formula');
suiteStarted();
Formula.after(suiteDone);
Formula.before(async () => void (noDevice ? undefined : await initWebGpu()));
const test = (name: string, body: () => Promise<void>) => (noDevice ? Formula.skip(name, body) : Formula(name, body));
const s = k.scalar;

/** softplus with a sharpness, log(1 + exp(beta·x)) / beta: schema and formula only. */
const softplusBeta = k.defineOp({
  name: 'testGpuFormulaSoftplus',
  category: 'pointwise',
  method: false,
  positional: [{ name: 'self', type: 'Tensor', hasDefault: false }, { name: 'beta', type: 'float', hasDefault: true, default: 1 }] as const,
  formula: ([x], [beta]) => s.div(s.log1p(s.exp(s.mul(beta as k.ScalarExpr, x!))), beta as k.ScalarExpr),
});

test('a formula-only op lowers to one WGSL kernel with its neighbours and matches eager', async () => {
  const fn = (x: k.Tensor, y: k.Tensor) => softplusBeta(x.mul(y), 1.5).gelu({ approximate: 'tanh' }).sum(-1);
  const compiled = await checkOnGpu(fn, [[uniform([6, 9]), uniform([9])], [uniform([3, 9]), uniform([9])]], 1e-4);
  assert.equal(compiled.report.eagerSteps, [], 'no eager step');
  assert.match(compiled.report.code ?? '', /log1p|log\(/);
});

Formula.run();

import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { layerNorm, maximum, tensor, where } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';

// PyTorch's gradients where conventions decide (ties, zeros, kinks, bounds), from fixtures/grad-refs.json
// (regenerate with /usr/bin/python3 test/fixtures/gen-grad-refs.py; the tests never need torch).
type Nested = number | Nested[];
const refs: { cases: { name: string; input: Nested; grad: Nested }[] } = JSON.parse(readFileSync(new URL('./fixtures/grad-refs.json', import.meta.url), 'utf8'));
const f64 = (v: Nested) => tensor(v as number[], { dtype: 'float64' });

const FUNCTIONS: Record<string, (x: Tensor) => Tensor> = {
  'amax ties split evenly': (x) => x.amax(1).sum(),
  'max without dim, ties': (x) => x.max(),
  'max with dim picks the first index': (x) => x.max(1)[0].sum(),
  'maximum ties give half': (x) => maximum(x, f64([1, 2, 3])).sum(),
  'prod with one zero': (x) => x.prod(1).sum(),
  'prod with two zeros': (x) => x.prod(),
  'relu at 0': (x) => x.relu().sum(),
  'abs at 0': (x) => x.abs().sum(),
  'clamp at its bounds': (x) => x.clamp(-1, 1).sum(),
  'pow with exponent 0 at 0': (x) => x.pow(0).sum(),
  sqrt: (x) => x.sqrt().sum(),
  'floor, round, sign give zeros': (x) => x.floor().add(x.round()).add(x.sign()).sum(),
  softmax: (x) => x.softmax(-1).mul(f64([1, 2, 3])).sum(),
  logSoftmax: (x) => x.logSoftmax(0).mul(f64([[1], [2]])).sum(),
  layerNorm: (x) => layerNorm(x, [3]).pow(3).sum(),
  'where with a scalar branch': (x) => where(x.gt(0), x.mul(2), 0.5).sum(),
  cumsum: (x) => x.cumsum(1).mul(f64([1, 2, 3])).sum(),
  'gather with repeated indices': (x) => x.gather(1, tensor([[0, 0, 2]])).sum(),
  std: (x) => x.std(),
  logsumexp: (x) => x.logsumexp(1).sum(),
};

const Torch = suite('autograd: gradients equal PyTorch 1.13 where conventions decide');

for (const c of refs.cases) {
  Torch(c.name, () => {
    const x = f64(c.input).requiresGrad_();
    FUNCTIONS[c.name]!(x).backward();
    const got = Array.from(x.grad!.toTypedArray());
    const want = [c.grad].flat(3) as number[];
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-12 + 1e-9 * Math.abs(want[i]!), `element ${i}: ${g} vs torch ${want[i]}`));
  });
}

Torch.run();

// Random programs through lowering, fusion and the generated wasm, against eager on the same inputs. Each
// program is a chain of steps over a 3-D float tensor, mixing pointwise ops, broadcasting, views,
// reductions, softmax and matmul, so fusion meets shapes and access patterns nobody wrote a test for.
// `pnpm fuzz lowering --runs N --seed S` is the long mode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';
import { fuzzProperty } from '../../../test-support/fuzz-settings.js';

type Step = (t: k.Tensor, other: k.Tensor) => k.Tensor;

/** Each step keeps the tensor 3-D so that any step can follow any other. */
const STEPS: Record<string, Step> = {
  exp: (t) => t.tanh().exp(),
  addOther: (t, o) => t.add(o.mul(0.5)),
  mulRow: (t, o) => t.mul(o.select(1, 0).unsqueeze(1)),
  relu: (t) => t.relu().sub(0.25),
  gelu: (t) => t.gelu(),
  where: (t) => k.where(t.gt(0), t, t.mul(0.1)),
  transpose: (t) => t.transpose(1, 2).transpose(1, 2).mul(1.5),
  flipSlice: (t) => t.slice(2, 0, null, 1).add(1),
  softmax: (t) => t.softmax(-1),
  layerNorm: (t) => k.layerNorm(t, [t.shape[2]!]),
  meanKeep: (t) => t.sub(t.mean(-1, true)),
  maxKeep: (t) => t.sub(t.amax(1, true)),
  matmul: (t, o) => t.matmul(o.transpose(1, 2)).matmul(o).mul(0.1),
  reshape: (t) => t.reshape([t.shape[0]!, -1]).reshape([...t.shape]).sqrt().add(t.abs()),
  twoUses: (t) => { const u = t.sigmoid(); return u.mul(u).add(u.sum(-1, true)); },
};
const NAMES = Object.keys(STEPS);

const fuzz = suite('random programs: compiled on cpu vs eager');

fuzz('200 random step chains over random shapes agree with eager', () => {
  fuzzProperty(
    'lowering',
    fc.property(
      fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 6 }),
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 })),
      fc.integer({ min: 0, max: 1000 }),
      (names, [a, b, c], seed) => {
        const gen = new k.Generator(seed);
        const x = k.randn([a, b, c], { generator: gen });
        const o = k.randn([a, b, c], { generator: gen });
        const fn = (t: k.Tensor, other: k.Tensor) => names.reduce((acc, n) => STEPS[n]!(acc, other), t);
        const want = fn(x, o);
        const got = (compileGraphForCpu(traceOps(fn, [x, o]).coreGraph).run([x, o]) as k.Tensor[])[0]!;
        assert.equal(got.shape, want.shape, `shape for ${names.join(' → ')}`);
        const g = got.toTypedArray();
        want.toTypedArray().forEach((v, i) => {
          const ok = Number.isNaN(v) ? Number.isNaN(g[i]!) : Math.abs(g[i]! - v) <= 1e-3 * Math.max(1, Math.abs(v));
          assert.ok(ok, `${names.join(' → ')} on [${a}, ${b}, ${c}]: element ${i} is ${g[i]}, eager ${v}`);
        });
      },
    ),
    { runs: 200, seed: 7 },
  );
});

fuzz.run();

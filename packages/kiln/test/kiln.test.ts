// The umbrella package: one import gives the tensor library and compile(), with the CPU backend as the
// default — checked in a fresh process, since this test process has loaded every package already.
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensor from '@kiln/tensor';
import * as kiln from 'kiln';

const test = suite('kiln: the one import');

test('importing kiln alone makes compile() generate wasm kernels', () => {
  const script = `
    const k = await import('kiln');
    const f = (x) => x.mul(2).add(1).softmax(-1);
    const report = k.explain(f)(k.randn([4, 8]));
    const same = k.compile(f)(k.ones([4, 8])).toArray().flat().every((v, i, a) => Math.abs(v - 1 / 8) < 1e-6);
    console.log(JSON.stringify({ backend: report.backends[0].backend, kernels: report.backends[0].kernels, same }));`;
  const out = execFileSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx/esm', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(JSON.parse(out.trim().split('\n').at(-1)!), { backend: 'cpu', kernels: 1, same: true });
});

test('tensor ops are the @kiln/tensor functions themselves; core\'s loop-IR builders are not re-exported', () => {
  assert.is(kiln.add, tensor.add);
  assert.is(kiln.where, tensor.where);
  assert.is(kiln.Tensor, tensor.Tensor);
  for (const name of ['compile', 'explain', 'reset', 'markDynamic', 'check', 'skip', 'inline', 'configure', 'configureResident']) {
    assert.type((kiln as Record<string, unknown>)[name], 'function', name);
  }
});

test.run();

// Fake tensors (metadata only) live here, next to the op registry: the tracer, the graph passes and the
// policy audit all run ops on these.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '../src/index.js';
import { FakeStorage, FakeTensor, FakeTensorError, FakeTensorMode, eagerMetaContext, withDispatchMode } from '../src/index.js';

const Fake = suite('fake tensors');

const fake = (shape: number[]) => new FakeTensor(shape, k.contiguousStrides(shape), 0, 'float32');

Fake('ops on fake tensors run their meta functions: shapes and dtypes, never data', () => {
  const mode = new FakeTensorMode(eagerMetaContext);
  const out = withDispatchMode(mode, () => k.matmul(fake([2, 3]), fake([3, 4])).sum(-1).to('int32')) as k.Tensor;
  assert.instance(out, FakeTensor);
  assert.equal(out.shape, [2]);
  assert.is(out.dtype, 'int32');
});

Fake('views share the fake storage, so aliasing stays visible', () => {
  const mode = new FakeTensorMode(eagerMetaContext);
  const x = fake([2, 3]);
  const t = withDispatchMode(mode, () => x.transpose(0, 1)) as k.Tensor;
  assert.is(t.storage, x.storage);
  assert.instance(t.storage, FakeStorage);
});

Fake('reading data is a typed error with a hint', () => {
  const x = fake([2]);
  assert.throws(() => x.toArray(), (e: unknown) => e instanceof FakeTensorError && /fake tensor/.test((e as Error).message));
  assert.throws(() => k.exp(x), (e: unknown) => e instanceof FakeTensorError, 'an eager kernel cannot read a fake tensor');
});

Fake.run();

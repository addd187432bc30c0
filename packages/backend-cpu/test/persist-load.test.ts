// What a persistent compile cache keeps of a CPU program (runtime/persist.ts) goes through V8's serializer and
// back. A program bound to the loaded kernels behaves as the freshly compiled one: each kernel keeps the size
// checks found when it was generated (a loaded program does not walk its kernels again), so a call past the
// int32 range of the kernels still goes to eager code, and one in range gives the fresh program's values.
import { deserialize, serialize } from 'node:v8';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { traceOps } from '@kiln/graph';
import { lowerGraph } from '@kiln/lower';
import { ProgramRunner, compileKernels, cpuArena, cpuBackend, kernelSizeCheck } from '@kiln/backend-cpu';
import { instantiateKernels, type CompiledModule, type EmittedKernel } from '../src/runtime/compile.js';

const Load = suite('persistent cache: a CPU program loaded back');

/** The sum of an n × n expand view: its iteration space n² passes the int32 range at n = 46341. */
const sumOfSquareView = (t: k.Tensor, m: k.Tensor) => t.expand([m.shape[0]!, m.shape[0]!]).sum();

function freshAndLoaded() {
  const { coreGraph } = traceOps(sumOfSquareView, [k.randn([1]), k.zeros([8])], { dynamic: true });
  const program = lowerGraph(coreGraph);
  const kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
  const fresh = compileKernels(kernels, cpuArena());
  // What the cache keeps of the module, through the serializer a cache file goes through.
  const kept = deserialize(serialize({ emitted: fresh.emitted, wasm: fresh.wasm })) as { emitted: EmittedKernel[]; wasm: Uint8Array };
  const loaded: CompiledModule = { ...fresh, emitted: kept.emitted, wasm: kept.wasm, kernels: instantiateKernels(kept.emitted, kept.wasm, cpuArena()) };
  return { program, fresh, loaded };
}

Load('loaded kernels carry the size checks their generation found', () => {
  const { fresh, loaded } = freshAndLoaded();
  assert.ok(loaded.kernels.size > 0);
  for (const [name, kernel] of loaded.kernels) {
    assert.ok(kernel.sizeCheck.symbolic.length > 0, `${name}: a symbolic size to check`);
    assert.equal(kernel.sizeCheck, kernelSizeCheck(fresh.kernels.get(name)!.kernel), name);
  }
});

Load('a loaded program hands a call past the int32 range to eager code, and computes one in range as the fresh one does', () => {
  const { program, fresh, loaded } = freshAndLoaded();
  const eagerCalls: unknown[][] = [];
  const spy = (inputs: readonly unknown[]) => (eagerCalls.push([...inputs]), ['eager']);
  const t = k.randn([1]);
  for (const module of [fresh, loaded]) {
    const runner = new ProgramRunner(program, module, cpuArena(), spy);
    assert.equal(runner.run([t, k.zeros([46341])]), ['eager']);
    const [got] = runner.run([t, k.zeros([300])]) as k.Tensor[];
    const value = Number(got!.item()), want = Number(sumOfSquareView(t, k.zeros([300])).item());
    assert.ok(Math.abs(value - want) <= 1e-3 * Math.abs(want), `${value} against eager ${want}`);
  }
  assert.is(eagerCalls.length, 2, 'both programs gave the large call to eager code');
});

Load('an entry of the earlier format (kernels without size checks) is not loaded: the graph compiles afresh', () => {
  const { fresh, program } = freshAndLoaded();
  const emitted = fresh.emitted.map(({ sizeCheck: _, ...rest }) => rest);
  const earlier = { format: 1, program, emitted, wasm: fresh.wasm, setsImpreciseFlag: false, report: {} };
  assert.is(cpuBackend.persist!.load(earlier, undefined as never), undefined);
  assert.is(cpuBackend.persist!.load({ ...earlier, format: 2 }, undefined as never), undefined, 'format 2 without the checks');
});

Load('an entry whose products were built with another blocking than this process would choose is not loaded', () => {
  const { coreGraph } = traceOps((a: k.Tensor, b: k.Tensor) => a.matmul(b).relu(), [k.randn([8, 16]), k.randn([16, 4])]);
  const compiled = cpuBackend.compile(coreGraph, { capabilities: cpuBackend.capabilities, overrideLowering: () => undefined });
  const saved = deserialize(serialize(cpuBackend.persist!.save(compiled))) as { matmulBlocking?: string };
  assert.ok(saved.matmulBlocking, 'the entry records its blocking');
  assert.ok(cpuBackend.persist!.load(saved, () => coreGraph), 'the same blocking loads');
  const other = { ...JSON.parse(saved.matmulBlocking!), MR: 2, NR: 16 };
  if (JSON.stringify(other) === saved.matmulBlocking) other.MR = 4, other.NR = 8;
  assert.is(cpuBackend.persist!.load({ ...saved, matmulBlocking: JSON.stringify(other) }, () => coreGraph), undefined);
  assert.is(cpuBackend.persist!.load({ ...saved, matmulBlocking: undefined }, () => coreGraph), undefined, 'an entry without one');
});

Load.run();

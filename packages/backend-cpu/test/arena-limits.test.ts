// Issue #18 item 1: a request the wasm arena cannot serve raises a typed error naming the size and the
// limit, leaves the arena as it was, runs the call eagerly where JS memory can hold it (one warning), and
// never breaks later calls of other compiled functions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { Arena, ArenaOutOfMemoryError, ARENA_MAX_BYTES, compileGraphForCpu, cpuArena } from '@kiln/backend-cpu';
import { traceOps } from '@kiln/graph';
import { KilnError } from '@kiln/tensor';
import { assertTensorClose } from './lowering-check.js';

const MIB = 2 ** 20;

/** Arena state a failed request must not change. */
const snapshot = (a: Arena) => ({ used: a.usedBytes, inUse: a.bytesInUse, memory: a.memory.buffer.byteLength });

/** Collects the KilnWarnings emitted while `fn` runs (process warnings arrive on a later tick). */
async function warningsDuring(fn: () => void): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 10)); // warnings of earlier calls arrive first
  const seen: string[] = [];
  const listener = (w: Error & { code?: string }) => void (w.name === 'KilnWarning' && seen.push(`${w.code}: ${w.message}`));
  process.on('warning', listener);
  try {
    fn();
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

const arena = suite('arena: a request it cannot serve');

arena('past the limit: typed error naming both sizes, nothing committed, later requests served', () => {
  const a = new Arena(65536, { maxBytes: 4 * MIB });
  const kept = a.alloc(1024);
  const before = snapshot(a);
  try {
    a.alloc(8 * MIB);
    assert.unreachable('alloc should have failed');
  } catch (e) {
    assert.ok(e instanceof ArenaOutOfMemoryError && e instanceof KilnError, String(e));
    const oom = e as ArenaOutOfMemoryError;
    assert.is(oom.requestedBytes, 8 * MIB);
    assert.is(oom.limitBytes, 4 * MIB);
    assert.match(oom.message, '8.0 MiB');
    assert.match(oom.message, 'limit 4.0 MiB');
  }
  assert.equal(snapshot(a), before);
  const next = a.alloc(1024);
  assert.ok(next > kept && a.usedBytes <= 4 * MIB);
});

arena('the host refuses to grow: typed error with the RangeError as cause, the top not moved', () => {
  const a = new Arena(65536);
  const before = snapshot(a);
  const memory = a.memory as { grow(pages: number): number };
  memory.grow = () => {
    throw new RangeError('WebAssembly.Memory.grow(): Unable to grow instance memory');
  };
  try {
    a.alloc(4 * MIB);
    assert.unreachable('alloc should have failed');
  } catch (e) {
    assert.ok(e instanceof ArenaOutOfMemoryError, String(e));
    assert.ok((e as Error).cause instanceof RangeError);
  }
  assert.equal(snapshot(a), before);
  delete (memory as { grow?: unknown }).grow; // the prototype's grow again
  assert.ok(a.alloc(4 * MIB) > 0);
});

arena('no arena hands out more than 2 GiB (every byte address fits a signed i32)', () => {
  assert.is(ARENA_MAX_BYTES, 2 ** 31);
  assert.is(new Arena(65536, { maxBytes: 2 ** 40 }).maxBytes, ARENA_MAX_BYTES);
  assert.throws(() => new Arena(65536).alloc(2 ** 31), (e: unknown) => e instanceof ArenaOutOfMemoryError);
});

arena.run();

const compiled = suite('compiled calls the arena cannot hold');

compiled('issue repro: an oversized call raises a KilnError and every other compiled function still works', () => {
  const f = k.compile((t: k.Tensor) => t.mul(2));
  const g = k.compile((t: k.Tensor, n: number) => t.expand([n, n]).add(1));
  assert.equal(f(k.ones([4])).toArray(), [2, 2, 2, 2]);
  const before = snapshot(cpuArena());
  // 10¹⁰ float32 elements: 40 GB, more than the arena and more than JS can allocate, so eager fails too.
  try {
    g(k.ones([1]), 100000);
    assert.unreachable('g should have failed');
  } catch (e) {
    assert.ok(e instanceof ArenaOutOfMemoryError, `${(e as Error).constructor.name}: ${(e as Error).message}`);
    assert.ok((e as ArenaOutOfMemoryError).requestedBytes >= 4e10);
    assert.is((e as ArenaOutOfMemoryError).limitBytes, ARENA_MAX_BYTES);
  }
  assert.equal(snapshot(cpuArena()), before);
  assert.equal(f(k.ones([4])).toArray(), [2, 2, 2, 2]);
  assert.equal(g(k.ones([1]), 2).toArray(), [[2, 2], [2, 2]]);
  k.reset();
  assert.equal(f(k.ones([4])).toArray(), [2, 2, 2, 2]);
});

/** Runs `body` with the process arena limited to `room` bytes above what it uses now. */
function withRoom<T>(room: number, body: () => T): T {
  const a = cpuArena();
  const limit = a.maxBytes;
  a.maxBytes = a.usedBytes + room;
  try {
    return body();
  } finally {
    a.maxBytes = limit;
  }
}

compiled('outputs, copied-in inputs and intermediates that do not fit run eagerly, with one warning per function', async () => {
  // Each request is bigger than any free hole below the arena's top (holes are what earlier calls left),
  // so only the top can serve it, and a limit just above the top refuses.
  const rowsPastHoles = () => Math.ceil(Math.max(8 * MIB, cpuArena().usedBytes + MIB) / 4 / 2048);
  const cases: [string, (rows: number) => (t: k.Tensor) => k.Tensor, (rows: number) => k.Tensor][] = [
    ['an intermediate', (rows) => (t) => t.expand([rows, 2048]).cumsum(1).amax(), () => k.randn([2048])],
    ['an output', (rows) => (t) => t.expand([rows, 2048]).add(1), () => k.randn([2048])],
    ['an input copied in', () => (x) => x.mul(2).add(1), (rows) => k.randn([rows * 2048])],
  ];
  const other = k.compile((t: k.Tensor) => t.mul(3));
  for (const [what, makeFn, makeInput] of cases) {
    const rows = rowsPastHoles();
    const fn = makeFn(rows);
    const make = () => makeInput(rows);
    const f = k.compile(fn);
    const x = make();
    const before = snapshot(cpuArena());
    let got: k.Tensor | undefined;
    const warnings = await warningsDuring(() => {
      got = withRoom(4 * MIB, () => f(x));
      withRoom(4 * MIB, () => f(x)); // a second oversized call: no second warning
    });
    assertTensorClose(got!, fn(x), 1e-4, what);
    assert.is(warnings.length, 1, `${what}: ${warnings.join(' | ')}`);
    assert.match(warnings[0]!, 'KILN_CPU_EAGER_FALLBACK');
    assert.match(warnings[0]!, 'limit');
    assert.ok(snapshot(cpuArena()).inUse <= before.inUse, `${what}: blocks left behind`);
    assert.is(x.storage.external, null, `${what}: the input moved into the arena although the call failed there`);
    // The failed requests did not grow the memory (later tests rely on growing it from where it was),
    // and another compiled function still runs.
    assert.is(cpuArena().memory.buffer.byteLength, before.memory, `${what}: the memory grew`);
    assert.equal(Array.from(other(k.ones([3])).toTypedArray()), [3, 3, 3]);
  }
});

compiled('captured constants that do not fit: the graph runs on the interpreter, said in the report and a warning', async () => {
  const w = k.randn([Math.ceil(Math.max(8 * MIB, cpuArena().usedBytes + MIB) / 4)]);
  const fn = (x: k.Tensor) => x.add(w.mul(2));
  const x = k.randn([w.numel]);
  const { coreGraph } = traceOps(fn, [x]);
  const before = snapshot(cpuArena());
  let program: ReturnType<typeof compileGraphForCpu> | undefined;
  const warnings = await warningsDuring(() => {
    program = withRoom(4 * MIB, () => compileGraphForCpu(coreGraph));
  });
  assert.equal(snapshot(cpuArena()), before);
  assert.match(program!.report.wholeGraphFallback ?? '', 'cannot allocate');
  assert.is(warnings.length, 1, warnings.join(' | '));
  assertTensorClose((program!.run([x]) as k.Tensor[])[0]!, fn(x), 1e-6, 'constant case');
});

compiled.run();

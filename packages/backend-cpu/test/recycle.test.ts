// Recyclable outputs: in a synchronous loop past the burst allowance, a call evicts the previous call's
// output (its block goes back to the arena, its tensor keeps a recipe) instead of copying its own output
// out of the arena. An evicted output that is read again is recomputed from snapshots of its inputs, with
// the bits it had; writes to its inputs or to itself after the call never change what it reads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { ArenaOutOfMemoryError, ResidentBlock, ResidentConfigError, configureResident, cpuArena, residentPool } from '@kiln/backend-cpu';
import { collectGarbage, drainPool, isResident, js, withSettings } from './resident-support.js';

k.manualSeed(5);
const BYTES = 256 * 256 * 4; // past the resident minimum
const x = k.randn([256, 256]);
const softmax = (t: k.Tensor) => t.softmax(-1);
const want = Array.from(softmax(js(x)).toTypedArray());
const values = (t: k.Tensor) => Array.from(t.toTypedArray());
const close = (got: readonly number[], expected: readonly number[], what: string) => {
  assert.is(got.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-6 * Math.max(1, Math.abs(expected[i]!)), `${what}: element ${i}: ${got[i]} vs ${expected[i]}`);
};
const evicted = (t: k.Tensor) => t.storage.external instanceof ResidentBlock && t.storage.external.evicted;
const pool = () => residentPool(cpuArena());
/**
 * Starts from a fresh turn of the event loop (a full burst allowance) with the earlier tests' outputs
 * collected: a later call may evict any recyclable block still alive, whichever program made it.
 */
const freshTurn = () => collectGarbage();
/** A burst allowance of three outputs, so the fourth call of a loop must evict or copy out. */
const SMALL_BURST = { burstBytes: 3 * BYTES };

/** An output of a fresh compiled softmax of x that the same program's later calls evicted. */
function evictedSoftmax(): k.Tensor {
  const fast = compile(softmax);
  fast(x).dispose(); // the first call moves the input into the arena
  const y = withSettings(SMALL_BURST, () => {
    const out = fast(x);
    for (let i = 0; i < 4; i++) fast(x);
    return out;
  });
  assert.ok(evicted(y), 'evicted by the later calls');
  return y;
}

const R = suite('recyclable outputs: evicted when a later call needs the room, recomputed if read');
R.before(drainPool);
R.before.each(freshTurn);

R('a synchronous read loop keeps every output resident, evicting the previous one (no copy out)', () => {
  const fast = compile(softmax);
  fast(x).dispose(); // the first call moves the input into the arena
  const before = pool().evicted;
  withSettings(SMALL_BURST, () => {
    for (let i = 0; i < 20; i++) {
      const y = fast(x);
      assert.ok(isResident(y) && !evicted(y), `call ${i}: output resident`);
      close(values(y), want, `call ${i}`);
    }
  });
  assert.ok(pool().evicted - before >= 16, `outputs evicted: ${pool().evicted - before}`);
});

R('with the event loop turning between calls (an app), a call evicts an earlier turn\'s output still alive', async () => {
  const fast = compile(softmax);
  fast(x).dispose();
  const saved = configureResident();
  configureResident({ budgetBytes: pool().bytes + 3 * BYTES });
  const kept: k.Tensor[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      kept.push(fast(x));
      await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    configureResident(saved);
  }
  assert.ok(kept.every(isResident), 'every output stayed resident');
  assert.ok(kept.filter(evicted).length >= 4, `earlier turns' outputs evicted: ${kept.filter(evicted).length}`);
  kept.forEach((t, i) => close(values(t), want, `output ${i}`));
});

R('a script\'s first loop (inputs made just before it, no turn of the event loop) reads with no copy out', () => {
  const fast = compile((a: k.Tensor, b: k.Tensor) => a.mul(a).add(b.mul(b)).sqrt());
  const a = k.randn([256, 256]);
  const b = k.randn([256, 256]);
  const expected = values(js(a).mul(js(a)).add(js(b).mul(js(b))).sqrt());
  // The first call keeps both inputs (two blocks: the whole allowance here); the outputs have their own.
  const outs = withSettings({ burstBytes: 2 * BYTES }, () => Array.from({ length: 8 }, () => fast(a, b)));
  assert.ok(isResident(a) && isResident(b), 'the inputs kept');
  outs.forEach((y, i) => {
    assert.ok(isResident(y), `call ${i}: not copied out`);
    close(values(y), expected, `call ${i}`);
  });
});

R('outputs kept past their eviction read the bits they had, recomputed once', () => {
  const fast = compile(softmax);
  fast(x).dispose();
  const kept: k.Tensor[] = [];
  const firstReads: number[][] = [];
  withSettings(SMALL_BURST, () => {
    for (let i = 0; i < 8; i++) {
      const y = fast(x);
      firstReads.push(values(y));
      kept.push(y);
    }
  });
  assert.ok(kept.filter(evicted).length >= 4, `evicted: ${kept.filter(evicted).length} of 8`);
  const recomputed = pool().recomputed;
  kept.forEach((y, i) => assert.equal(values(y), firstReads[i], `kept output ${i}: bit for bit`));
  const reads = pool().recomputed - recomputed;
  assert.is(reads, kept.filter(evicted).length, 'one recomputation per evicted output');
  kept.forEach((y) => values(y));
  assert.is(pool().recomputed - recomputed, reads, 'a second read does not recompute');
});

R('an output computed split between threads and recomputed on one thread has the same bits', () => {
  const pool = cpuArena().threads;
  if (!pool || pool.threads < 2) return console.log('  (skipped: one thread here; nothing splits)');
  const big = k.randn([512, 512]); // 2¹⁸ elements: large enough to split
  const BIG = 512 * 512 * 4;
  const fast = compile(softmax);
  fast(big).dispose();
  const [adaptive, threads] = [pool.adaptive, pool.threads];
  pool.adaptive = false; // split every large call
  const kept: k.Tensor[] = [];
  const firstReads: number[][] = [];
  const splits = pool.stats.splitCalls;
  try {
    withSettings({ burstBytes: 3 * BIG }, () => {
      for (let i = 0; i < 6; i++) {
        const y = fast(big);
        firstReads.push(values(y));
        kept.push(y);
      }
    });
  } finally {
    pool.adaptive = adaptive;
  }
  assert.ok(pool.stats.splitCalls - splits >= 6, 'the calls split');
  assert.ok(kept.some(evicted), 'some outputs evicted');
  pool.threads = 1; // recomputed on the calling thread alone
  try {
    kept.forEach((y, i) => assert.equal(values(y), firstReads[i], `output ${i}: bit for bit`));
  } finally {
    pool.threads = threads;
  }
});

R('an evicted output keeps its recipe whatever the pool\'s lists do afterwards (disposes, more outputs, turns)', async () => {
  const fast = compile(softmax);
  const xs = Array.from({ length: 10 }, () => k.randn([256, 256]));
  const wants = xs.map((t) => values(softmax(js(t))));
  for (const t of xs) fast(t).dispose(); // every input moves into the arena
  await freshTurn();
  const outs = withSettings(SMALL_BURST, () => {
    const first = [0, 1, 2, 3].map((i) => fast(xs[i]!)); // the fourth evicts the first
    for (const t of first.slice(1)) t.dispose(); // room again: the next calls evict nothing
    return [...first, ...[4, 5, 6, 7, 8].map((i) => fast(xs[i]!))];
  });
  assert.ok(evicted(outs[0]!), 'the first output was evicted');
  close(values(outs[0]!), wants[0]!, 'the evicted output, after more outputs than the pool keeps recyclable');
  const later = fast(xs[9]!);
  await freshTurn();
  close(values(later), wants[9]!, 'after a turn of the event loop');
  outs.forEach((t, i) => i === 0 || i > 3 ? close(values(t), wants[i]!, `output ${i}`) : undefined);
});

R('bool and int32 outputs are recomputed with their own dtype', async () => {
  const xi = x.mul(100).to('int32'); // an int32 input (the cast itself is an eager step: never recyclable)
  const cases = [
    { fast: compile((t: k.Tensor) => t.gt(0)), eager: (t: k.Tensor) => t.gt(0), input: x },
    { fast: compile((t: k.Tensor) => t.mul(3).add(1)), eager: (t: k.Tensor) => t.mul(3).add(1), input: xi },
  ];
  for (const { fast, eager, input } of cases) {
    await freshTurn();
    fast(input).dispose();
    const expected = eager(js(input)).toTypedArray();
    const bytes = expected.byteLength; // bool: 1 byte an element
    const y = withSettings({ burstBytes: 2 * bytes }, () => {
      const out = fast(input);
      for (let i = 0; i < 3; i++) fast(input);
      return out;
    });
    assert.ok(evicted(y), `${y.dtype}: evicted`);
    const got = y.toTypedArray();
    assert.is(got.constructor, expected.constructor, `${y.dtype}: the same array type`);
    assert.equal(Array.from(got), Array.from(expected), `${y.dtype}: the same values`);
  }
});

R('inputs written in place or disposed after the eviction: the output reads what it was computed from', () => {
  const fast = compile((a: k.Tensor, b: k.Tensor) => a.mul(b).add(a));
  const a = k.randn([256, 256]);
  const b = k.randn([256, 256]);
  const expected = values(js(a).mul(js(b)).add(js(a)));
  const a0 = values(a);
  fast(a, b).dispose(); // both inputs move into the arena
  const y = withSettings(SMALL_BURST, () => {
    const out = fast(a, b);
    for (let i = 0; i < 4; i++) fast(a, b);
    return out;
  });
  assert.ok(evicted(y), 'evicted by the later calls');
  a.mul_(2);
  b.dispose();
  close(values(y), expected, 'after the inputs changed');
  close(values(a), a0.map((v) => 2 * v), 'the write to a happened');
});

R('an input written before the eviction keeps the output from being evicted', () => {
  const fast = compile((a: k.Tensor) => a.exp());
  const a = k.randn([256, 256]);
  const other = k.randn([256, 256]);
  const expected = values(js(a).exp());
  fast(a).dispose();
  fast(other).dispose();
  const y = withSettings(SMALL_BURST, () => {
    const out = fast(a);
    a.add_(1); // the output no longer matches its input: recomputing it would be wrong
    for (let i = 0; i < 4; i++) fast(other);
    return out;
  });
  assert.ok(isResident(y) && !evicted(y), 'kept as a plain resident block');
  close(values(y), expected, 'the values of the call');
});

R('an output written in place (or through a view) is not evicted; a clone written keeps the original', () => {
  const fast = compile(softmax);
  fast(x).dispose();
  const [written, viaView, cloned, clone] = withSettings(SMALL_BURST, () => {
    const w = fast(x);
    w.mul_(0.5);
    const v = fast(x);
    v.narrow(0, 0, 1).fill_(7);
    const c = fast(x);
    const copy = c.clone();
    copy.fill_(3);
    for (let i = 0; i < 6; i++) fast(x);
    return [w, v, c, copy];
  });
  assert.ok(!evicted(written) && !evicted(viaView), 'written outputs stay');
  close(values(written), want.map((v) => v * 0.5), 'written output');
  close(values(viaView), want.map((v, i) => (i < 256 ? 7 : v)), 'output written through a view');
  close(values(cloned), want, 'the original of a written clone');
  assert.ok(values(clone).every((v) => v === 3), 'the clone keeps its write');
});

R('an evicted output fed to a compiled call, and read through a view', () => {
  const twice = compile((t: k.Tensor) => t.mul(2).sum(-1));
  const y = evictedSoftmax();
  const rowSums = values(twice(y));
  rowSums.forEach((s, i) => assert.ok(Math.abs(s - 2) < 1e-4, `row ${i}: 2 × softmax sums to ${s}`));
  close(values(y.reshape([-1]).narrow(0, 256, 256)), want.slice(256, 512), 'a view of the second row');
});

R('a recomputation the arena cannot hold raises ArenaOutOfMemoryError (never eager bits); a later read succeeds', () => {
  const y = evictedSoftmax();
  const arena = cpuArena();
  arena.alloc = (bytes: number) => {
    throw new ArenaOutOfMemoryError(bytes, arena.maxBytes, arena.usedBytes, 'past the arena limit');
  };
  try {
    assert.throws(() => y.toTypedArray(), (e: unknown) => e instanceof ArenaOutOfMemoryError);
  } finally {
    delete (arena as { alloc?: unknown }).alloc; // back to the prototype's method
  }
  close(values(y), want, 'read again once the arena has room');
});

R('a program whose evicted outputs are read again often goes back to copying them out', () => {
  const fast = compile((t: k.Tensor) => t.tanh());
  fast(x).dispose();
  const round = () => {
    const kept = withSettings(SMALL_BURST, () => Array.from({ length: 8 }, () => fast(x)));
    kept.forEach(values); // every evicted output is recomputed
    return kept;
  };
  round();
  round();
  const kept = round();
  const last = kept.slice(4);
  assert.ok(last.some((t) => !isResident(t)), 'past the allowance, outputs are copied out again');
  assert.ok(!last.some(evicted), 'and not evicted');
  kept.forEach((t) => close(values(t), values(js(x).tanh()), 'values'));
});

R('matmul outputs are never evicted (recomputing one costs far more than the copy it saves)', () => {
  const mm = compile((a: k.Tensor, b: k.Tensor) => a.matmul(b));
  const w = k.randn([256, 256]);
  mm(x, w).dispose();
  const kept = withSettings(SMALL_BURST, () => Array.from({ length: 6 }, () => mm(x, w)));
  assert.ok(!kept.some(evicted), 'none evicted');
  assert.ok(kept.some((t) => !isResident(t)), 'copied out past the allowance');
});

R('recompute: false copies out instead; the setting is checked', () => {
  const fast = compile(softmax);
  fast(x).dispose();
  const kept = withSettings({ ...SMALL_BURST, recompute: false }, () => Array.from({ length: 6 }, () => fast(x)));
  assert.ok(!kept.some(evicted) && kept.some((t) => !isResident(t)));
  assert.throws(() => configureResident({ recompute: 'yes' as unknown as boolean }), (e: unknown) => e instanceof ResidentConfigError && /recompute must be true or false/.test(String(e)));
});

R.run();

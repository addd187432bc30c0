// Matmul blocking tuned per machine (runtime/matmul-autotune.ts): every blocking the tuner may choose
// multiplies correctly, the choice is cached on disk by machine, and the cache never makes a compile fail.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MatmulKernel } from '@kiln/lower';
import {
  DEFAULT_MATMUL_BLOCKING, MATMUL_SEARCH_SPACE, MatmulAutotuneConfigError, autotuneMatmul, autotuneOptionsFromEnv, chooseMatmulBlocking, compileKernels,
  machineKey, type MatmulBlocking,
} from '@kiln/backend-cpu';
import { assertClose, randomArray, runBoth, sharedArena } from './helpers.js';
import { matmulKernel } from './matmul.test.js';

const Tune = suite('matmul autotune');
const f32 = 'float32' as const;

/** A [k, m]-stored A read transposed: its panels are packed by the unit-stride fast path, MR at a time. */
function transposedA(m: number, n: number, k: number): MatmulKernel {
  return { ...matmulKernel(m, n, k), a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: 1, colStride: m } };
}

Tune('every blocking the tuner can choose gives the product (edge tiles, transposed A, several k blocks)', () => {
  const { tiles, KC, MC, NC } = MATMUL_SEARCH_SPACE;
  const shapes: [number, number, number][] = [[131, 67, 600], [13, 11, 19], [70, 300, 130]];
  for (const [MR, NR] of tiles) {
    for (const [kc, mc, nc] of [[KC[0], MC[0], NC[0]], [KC[KC.length - 1], MC[MC.length - 1], NC[NC.length - 1]]] as const) {
      const blocking: MatmulBlocking = { MR, NR, KC: kc, MC: mc, NC: nc };
      for (const [m, n, k] of shapes) {
        for (const kernel of [matmulKernel(m, n, k), transposedA(m, n, k)]) {
          const compiled = compileKernels([kernel], sharedArena, { matmulBlocking: blocking }).kernels.get('mm')!;
          const { got, want } = runBoth(kernel, { a: randomArray(f32, m * k), b: randomArray(f32, k * n) }, { c: m * n }, {}, compiled);
          assertClose(got.c!, want.c!, 1e-4, 1e-4 * Math.sqrt(k), `${JSON.stringify(blocking)} ${m}x${n}x${k}`);
        }
      }
    }
  }
});

const inSpace = (b: MatmulBlocking) =>
  MATMUL_SEARCH_SPACE.tiles.some(([mr, nr]) => mr === b.MR && nr === b.NR) &&
  (MATMUL_SEARCH_SPACE.KC as readonly number[]).includes(b.KC) && (MATMUL_SEARCH_SPACE.MC as readonly number[]).includes(b.MC) &&
  (MATMUL_SEARCH_SPACE.NC as readonly number[]).includes(b.NC);

Tune('a candidate that looked faster once must beat the default again in alternating rounds to be chosen', () => {
  const same = (a: MatmulBlocking, b: MatmulBlocking) => JSON.stringify(a) === JSON.stringify(b);
  const lucky: MatmulBlocking = { ...DEFAULT_MATMUL_BLOCKING, KC: MATMUL_SEARCH_SPACE.KC.find((v) => v !== DEFAULT_MATMUL_BLOCKING.KC)! };
  // every blocking takes 10 ms, but `lucky` was timed once while the machine was quiet: 9 ms, then 10 again
  let luckyTimings = 0;
  const burst = chooseMatmulBlocking((b) => {
    assert.ok(inSpace(b), JSON.stringify(b));
    if (!same(b, lucky)) return 10;
    return luckyTimings++ === 0 ? 9 : 10;
  });
  assert.ok(luckyTimings > 1, 'the apparent winner was timed again');
  assert.equal(burst.blocking, DEFAULT_MATMUL_BLOCKING);
  // a candidate faster every time is kept, with its own rate
  const faster = chooseMatmulBlocking((b) => (same(b, lucky) ? 9 : 10));
  assert.equal(faster.blocking, lucky);
  assert.ok(Math.abs(faster.gflops - (2 * 384 ** 3) / 9 / 1e6) < 1e-9, String(faster.gflops));
});

Tune('measures once, caches by machine, reads the cache next time; a hostile cached entry is ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-autotune-'));
  const file = join(dir, 'matmul-autotune.json');
  // a hand-edited file asking for a 1000-row tile must not reach the code generator
  writeFileSync(file, JSON.stringify({ version: 1, entries: { [machineKey()]: { blocking: { MR: 1000, NR: 8, KC: 256, MC: 128, NC: 512 }, gflops: 1 } } }));
  const first = autotuneMatmul({ mode: 'auto', cacheDir: dir });
  assert.is(first.source, 'measured');
  assert.ok(inSpace(first.blocking), JSON.stringify(first.blocking));
  assert.ok(first.gflops! > 0 && first.tuneMs! > 0);
  const stored = JSON.parse(readFileSync(file, 'utf8')).entries[machineKey()];
  assert.equal(stored.blocking, first.blocking);
  const second = autotuneMatmul({ mode: 'auto', cacheDir: dir });
  assert.is(second.source, 'cache');
  assert.equal(second.blocking, first.blocking);
  assert.ok(machineKey().includes('V8 '), machineKey());
});

Tune('an unwritable cache folder or a corrupt file never fails: the choice is measured and used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-autotune-'));
  const notADir = join(dir, 'file');
  writeFileSync(notADir, 'x');
  const result = autotuneMatmul({ mode: 'auto', cacheDir: join(notADir, 'cache') }); // mkdir fails: ENOTDIR
  assert.is(result.source, 'measured');
  assert.ok(inSpace(result.blocking));
  writeFileSync(join(dir, 'matmul-autotune.json'), '{ not json');
  const off = autotuneMatmul({ mode: 'off', cacheDir: join(dir, 'never-made') });
  assert.is(off.source, 'default');
  assert.equal(off.blocking, DEFAULT_MATMUL_BLOCKING);
  assert.not.ok(existsSync(join(dir, 'never-made')), 'off touches no disk');
});

Tune('KILN_MATMUL_AUTOTUNE and KILN_CACHE_DIR: off, retune, a folder; anything else is a clear error', () => {
  assert.is(autotuneOptionsFromEnv({ KILN_MATMUL_AUTOTUNE: 'off' }).mode, 'off');
  assert.is(autotuneOptionsFromEnv({ KILN_MATMUL_AUTOTUNE: 'retune' }).mode, 'retune');
  assert.is(autotuneOptionsFromEnv({}).mode, 'auto');
  assert.is(autotuneOptionsFromEnv({ KILN_CACHE_DIR: '/somewhere/kiln' }).cacheDir, '/somewhere/kiln');
  assert.ok(autotuneOptionsFromEnv({}).cacheDir!.startsWith(tmpdir()));
  try {
    autotuneOptionsFromEnv({ KILN_MATMUL_AUTOTUNE: 'fast' });
    assert.unreachable('a bad value must throw');
  } catch (err) {
    assert.instance(err, MatmulAutotuneConfigError);
    assert.match((err as Error).message, /KILN_MATMUL_AUTOTUNE="fast".*\n  hint: use off/);
  }
});

Tune('a process tunes at its first large product, not at a small one: small products take the default blocking', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-autotune-'));
  // a fresh process: this one has already chosen its blocking
  const script = `
    import { compileKernels, cpuArena, matmulAutotuneResult } from '@kiln/backend-cpu';
    const blockings = [];
    for (const kernel of ${JSON.stringify([matmulKernel(64, 256, 64), matmulKernel({ param: 's0' }, 64, 256, { params: ['s0'] })])}) {
      blockings.push(compileKernels([kernel], cpuArena()).matmulBlocking);
    }
    const afterSmall = { tuned: matmulAutotuneResult()?.source ?? 'none', blockings };
    compileKernels([${JSON.stringify(matmulKernel(128, 128, 128))}], cpuArena());
    const afterLarge = matmulAutotuneResult()?.source;
    const small = compileKernels([${JSON.stringify(matmulKernel(64, 256, 64))}], cpuArena()).matmulBlocking;
    const dynamicLayer = compileKernels([${JSON.stringify(matmulKernel({ param: 's0' }, 1024, 1024, { params: ['s0'] }))}], cpuArena()).matmulBlocking;
    console.log(JSON.stringify({ afterSmall, afterLarge, small, dynamicLayer }));`;
  const run = (cacheDir: string) => {
    const out = execFileSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)), env: { ...process.env, KILN_CACHE_DIR: cacheDir, KILN_MATMUL_AUTOTUNE: '' }, encoding: 'utf8',
    });
    type Result = { afterSmall: { tuned: string; blockings: MatmulBlocking[] }; afterLarge?: string; small: MatmulBlocking; dynamicLayer: MatmulBlocking };
    return JSON.parse(out.trim().split('\n').pop()!) as Result;
  };
  const first = run(dir);
  assert.is(first.afterSmall.tuned, 'none', '64×256×64, and s0×64×256, did not tune');
  assert.equal(first.afterSmall.blockings, [DEFAULT_MATMUL_BLOCKING, DEFAULT_MATMUL_BLOCKING]);
  assert.is(first.afterLarge, 'measured', '128³ (2^21 multiply-adds) tuned');
  assert.ok(existsSync(join(dir, 'matmul-autotune.json')));
  // a machine whose tuned choice is not the default: small products keep the default, large ones take it
  const tuned: MatmulBlocking = { ...DEFAULT_MATMUL_BLOCKING, MR: 2, NR: 16 };
  writeFileSync(join(dir, 'matmul-autotune.json'), JSON.stringify({ version: 1, entries: { [machineKey()]: { blocking: tuned, gflops: 1 } } }));
  const later = run(dir);
  assert.is(later.afterSmall.tuned, 'none');
  assert.equal(later.afterSmall.blockings, [DEFAULT_MATMUL_BLOCKING, DEFAULT_MATMUL_BLOCKING]);
  assert.is(later.afterLarge, 'cache');
  assert.equal(later.small, DEFAULT_MATMUL_BLOCKING, 'a small product after tuning: still the default (same bits as before tuning)');
  assert.equal(later.dynamicLayer, tuned, 'a 1024×1024 layer under a symbolic batch takes the tuned blocking');
});

Tune.run();

// Matmul blocking chosen by measurement on the machine that runs it, as Inductor's max-autotune chooses
// its kernel configs: the first large matmul a process compiles (2^21 multiply-adds or more; smaller ones take
// the default blocking, see matmulBlockingFor) times a few register tiles and cache blocks on a
// 384³ product (a fraction of a second, once), and the winner is written to a JSON file keyed by CPU model,
// V8 version and this tuner's version, so later processes on the same kind of machine only read it.
//   KILN_MATMUL_AUTOTUNE=off     the default blocking, no measuring, no disk access
//   KILN_MATMUL_AUTOTUNE=retune  measure again and overwrite the cached choice
//   KILN_CACHE_DIR=<folder>      where the file lives (default <os tmpdir>/kiln_<user>, as Inductor's
//                                /tmp/torchinductor_<user>)
// The file is only a shortcut: unreadable, unwritable (a read-only disk), corrupt or absent (a browser has
// no file system) all mean "measure", never an error. A cached choice outside the candidate set is ignored.
import type { Kernel, MatmulKernel } from '@kiln/lower';
import { KilnError } from '@kiln/tensor';
import { DEFAULT_MATMUL_BLOCKING, type MatmulBlocking } from '../codegen/kernels/matmul.js';
import { Arena } from './arena.js';
import { compileKernels, type CompiledKernel } from './compile.js';

/** Bumped when the kernel generator or the candidates change, so old choices are measured again. */
const TUNER_VERSION = 3;
const FILE_NAME = 'matmul-autotune.json';
/**
 * Register tiles (rows × columns of C) that fit V8's 16 xmm registers. A k step needs MR·NR/4 accumulators,
 * NR/4 vectors of B, a product temporary and, since TurboFan schedules the loads of A in program order ahead
 * of the arithmetic, MR splats of A live at once: 4×8 and 2×16 need 15; 3×12 (16), 5×8 (18) and 8×4 (18)
 * spill inside the loop and ran at half speed (384³, one thread, AMD EPYC: 4×8 45.4 GFLOP/s, 2×16 44.5,
 * 3×12 24.7, 5×8 26.5, 8×4 21.7), so they are not candidates: they only lengthened the first tuning.
 */
const TILES: readonly (readonly [number, number])[] = [[4, 8], [2, 16]];
const KCS = [128, 256, 512] as const;
const MCS = [64, 128, 256] as const;
const NCS = [256, 512, 1024] as const;
/** Every value the tuner may choose (tests multiply with each). */
export const MATMUL_SEARCH_SPACE = { tiles: TILES, KC: KCS, MC: MCS, NC: NCS } as const;
/** A candidate must beat the one kept so far by this factor: ties keep the default, so noise cannot flip it. */
const MARGIN = 1.03;
/** Alternating rounds of the default and the apparent winner before a non-default choice is kept. */
const REMATCH_ROUNDS = 3;
/** 384³: large enough that the cache blocks matter (B's 384×384 block is 576 KB), ≈ 2 ms a call. */
const SIZE = 384;

export class MatmulAutotuneConfigError extends KilnError {}

export type AutotuneMode = 'auto' | 'off' | 'retune';

export interface AutotuneOptions {
  readonly mode?: AutotuneMode;
  /** Cache folder; undefined: no disk cache (measure every process). */
  readonly cacheDir?: string;
}

export interface AutotuneResult {
  readonly blocking: MatmulBlocking;
  /** Where the choice came from. */
  readonly source: 'default' | 'cache' | 'measured';
  /** The cache key: CPU model, V8 version, tuner version. */
  readonly key: string;
  /** GFLOP/s of the chosen blocking on the 384³ product when it was measured (this process or an earlier one). */
  readonly gflops?: number;
  /** Wall time this process spent measuring. */
  readonly tuneMs?: number;
  readonly cacheFile?: string;
}

type Fs = typeof import('node:fs');
type Os = typeof import('node:os');
type Path = typeof import('node:path');

/** Node's built-in modules without a static import, so the backend still loads in a browser. */
function builtin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

export function machineKey(): string {
  const os = builtin<Os>('node:os');
  const model = os?.cpus()[0]?.model.trim() || 'unknown CPU';
  const v8 = (globalThis as { process?: { versions?: { v8?: string } } }).process?.versions?.v8 ?? 'unknown';
  return `${model} | V8 ${v8} | tuner ${TUNER_VERSION}`;
}

/** The options the environment asks for (see the top of this file). */
export function autotuneOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = builtin<NodeJS.Process>('node:process')?.env ?? {}): AutotuneOptions {
  const raw = (env.KILN_MATMUL_AUTOTUNE ?? '').trim().toLowerCase();
  const modes: Record<string, AutotuneMode> = { '': 'auto', auto: 'auto', '1': 'auto', on: 'auto', off: 'off', '0': 'off', retune: 'retune' };
  const mode = modes[raw];
  if (!mode) {
    throw new MatmulAutotuneConfigError(
      `KILN_MATMUL_AUTOTUNE=${JSON.stringify(env.KILN_MATMUL_AUTOTUNE)} is not a known setting`,
      'use off (default blocking, no disk access), retune (measure again) or leave it unset',
    );
  }
  const os = builtin<Os>('node:os');
  const path = builtin<Path>('node:path');
  let user = 'user';
  try {
    user = os?.userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_') || user;
  } catch {
    // no user name (a container without /etc/passwd entry): one shared folder
  }
  const cacheDir = env.KILN_CACHE_DIR || (os && path ? path.join(os.tmpdir(), `kiln_${user}`) : undefined);
  return { mode, ...(cacheDir ? { cacheDir } : {}) };
}

let chosen: AutotuneResult | undefined;

/** The blocking compileKernels uses by default: tuned once per process (or read from the cache). */
export function tunedMatmulBlocking(): MatmulBlocking {
  return (chosen ??= autotuneMatmul(autotuneOptionsFromEnv())).blocking;
}

/**
 * Tuning costs 0.3–0.5 s the first time on a machine (AMD EPYC, 2 vCPUs), and pays only where a product is
 * large: below 2^21 multiply-adds (128³, under ≈ 0.1 ms a call) the blocking changes little. So a module
 * whose products are all smaller takes the default blocking, without tuning and without reading the disk: the
 * demo's transformer block (64-wide products) does not make a first process on a new machine wait for the
 * tuner, a persistent cache can check such an entry's blocking for free, and a small product's last bits do
 * not depend on whether the machine has tuned yet. A size known only at run time (symbolic: a batch or a
 * sequence length) counts as SYMBOLIC_SIZE_GUESS: a 1024×1024 layer under a dynamic batch still tunes
 * (2^24), the demo's attention with a dynamic batch and sequence does not (16·4·16·16·16 = 2^18).
 */
const TUNE_FROM_MACS = 2 ** 21;
const SYMBOLIC_SIZE_GUESS = 16;

/**
 * The blocking a module with `kernels` is compiled with (undefined: it has no product). A persistent cache
 * compares it with the one its entry was built with, so a cached program always has the blocking a fresh
 * compile would choose.
 */
export function matmulBlockingFor(kernels: readonly Kernel[]): MatmulBlocking | undefined {
  const products = kernels.filter((k): k is MatmulKernel => k.kind === 'extern');
  if (products.length === 0) return undefined;
  return products.some((k) => likelyMacs(k) >= TUNE_FROM_MACS) ? tunedMatmulBlocking() : DEFAULT_MATMUL_BLOCKING;
}

function likelyMacs(k: MatmulKernel): number {
  return [...k.batch, k.m, k.n, k.k].reduce<number>((work, size) => work * (typeof size === 'number' ? size : SYMBOLIC_SIZE_GUESS), 1);
}

/** How this process's default blocking was chosen, for benches and logs; undefined before the first large matmul. */
export function matmulAutotuneResult(): AutotuneResult | undefined {
  return chosen;
}

/** Reads the cached choice for this machine, or measures and caches one. Never throws over the disk. */
export function autotuneMatmul(options: AutotuneOptions = {}): AutotuneResult {
  const key = machineKey();
  const mode = options.mode ?? 'auto';
  if (mode === 'off') return { blocking: DEFAULT_MATMUL_BLOCKING, source: 'default', key };
  const fs = builtin<Fs>('node:fs');
  const path = builtin<Path>('node:path');
  const file = options.cacheDir && fs && path ? path.join(options.cacheDir, FILE_NAME) : undefined;
  const entries = file ? readEntries(fs!, file) : {};
  const cached = entries[key];
  if (mode === 'auto' && cached && isCandidate(cached.blocking)) {
    return { blocking: cached.blocking, source: 'cache', key, gflops: cached.gflops, ...(file ? { cacheFile: file } : {}) };
  }
  const t0 = performance.now();
  const { blocking, gflops } = measureBest();
  const tuneMs = performance.now() - t0;
  if (file) writeEntries(fs!, path!, file, { ...entries, [key]: { blocking, gflops, measuredAt: new Date().toISOString() } });
  return { blocking, source: 'measured', key, gflops, tuneMs, ...(file ? { cacheFile: file } : {}) };
}

interface Entry {
  blocking: MatmulBlocking;
  gflops: number;
  measuredAt: string;
}

function readEntries(fs: Fs, file: string): Record<string, Entry> {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    const entries = (parsed as { version?: unknown; entries?: unknown }).entries;
    if ((parsed as { version?: unknown }).version !== 1 || !entries || typeof entries !== 'object') return {};
    return Object.assign(Object.create(null) as Record<string, Entry>, entries);
  } catch {
    return {}; // absent, unreadable or corrupt: measure
  }
}

function writeEntries(fs: Fs, path: Path, file: string, entries: Record<string, Entry>): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // write then rename: a process reading at the same moment sees the old file or the new one, never half
    const tmp = `${file}.${(globalThis as { process?: { pid?: number } }).process?.pid ?? 0}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 1, entries }, null, 1));
    fs.renameSync(tmp, file);
  } catch {
    // read-only or full disk: the choice holds for this process, the next one measures again
  }
}

/** Only blockings the tuner itself could have chosen: a hand-edited file cannot ask for a 1000-row tile. */
function isCandidate(b: unknown): b is MatmulBlocking {
  if (!b || typeof b !== 'object') return false;
  const { MR, NR, KC, MC, NC } = b as Record<string, unknown>;
  return (
    TILES.some(([mr, nr]) => mr === MR && nr === NR) &&
    (KCS as readonly unknown[]).includes(KC) && (MCS as readonly unknown[]).includes(MC) && (NCS as readonly unknown[]).includes(NC)
  );
}

/**
 * Register tile first (with the default cache blocks), then KC, MC and NC in turn (coordinate descent: 8
 * timings, not the full grid's 54), each timed as the best of a few calls. A candidate that comes out ahead of the
 * default is then timed against it again in alternating rounds, and kept only if it still wins by the
 * margin: on a busy machine a burst of load during one candidate's turn made another look faster, and the
 * choice is cached for every later process of this machine kind (four tunings at load average 10 chose four
 * different blockings, all equal within noise). `msPerCall` times one blocking on the 384³ product.
 */
export function chooseMatmulBlocking(msPerCall: (b: MatmulBlocking) => number): { blocking: MatmulBlocking; gflops: number } {
  const gflops = (ms: number) => (2 * SIZE ** 3) / ms / 1e6;
  let best = { blocking: DEFAULT_MATMUL_BLOCKING, ms: msPerCall(DEFAULT_MATMUL_BLOCKING) };
  const tryOne = (b: MatmulBlocking) => {
    const ms = msPerCall(b);
    if (ms * MARGIN < best.ms) best = { blocking: b, ms };
  };
  for (const [MR, NR] of TILES.slice(1)) tryOne({ ...DEFAULT_MATMUL_BLOCKING, MR, NR });
  for (const field of ['KC', 'MC', 'NC'] as const) {
    const from = best.blocking;
    for (const v of { KC: KCS, MC: MCS, NC: NCS }[field]) if (v !== from[field]) tryOne({ ...from, [field]: v });
  }
  if (best.blocking === DEFAULT_MATMUL_BLOCKING) return { blocking: best.blocking, gflops: gflops(best.ms) };
  let defaultMs = Infinity, winnerMs = Infinity;
  for (let round = 0; round < REMATCH_ROUNDS; round++) {
    defaultMs = Math.min(defaultMs, msPerCall(DEFAULT_MATMUL_BLOCKING));
    winnerMs = Math.min(winnerMs, msPerCall(best.blocking));
  }
  return winnerMs * MARGIN < defaultMs
    ? { blocking: best.blocking, gflops: gflops(winnerMs) }
    : { blocking: DEFAULT_MATMUL_BLOCKING, gflops: gflops(defaultMs) };
}

/** Times blockings on a 384³ product in an arena of its own, each kernel compiled once. */
function measureBest(): { blocking: MatmulBlocking; gflops: number } {
  const arena = new Arena(4 * 4 * SIZE * SIZE + (1 << 22));
  const ptrs = { a: arena.alloc(4 * SIZE * SIZE), b: arena.alloc(4 * SIZE * SIZE), c: arena.alloc(4 * SIZE * SIZE) };
  for (const ptr of [ptrs.a, ptrs.b]) {
    const values = arena.view('float32', ptr, SIZE * SIZE);
    for (let i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  }
  const compiled = new Map<string, CompiledKernel>();
  return chooseMatmulBlocking((blocking) => {
    const key = JSON.stringify(blocking);
    let kernel = compiled.get(key);
    if (!kernel) {
      kernel = compileKernels([productKernel()], arena, { matmulBlocking: blocking }).kernels.get('autotune')!;
      // V8 runs a wasm function's first calls as baseline (Liftoff) code and swaps in optimized code
      // compiled in the background: the best of several calls is the optimized figure.
      kernel.call(ptrs);
      compiled.set(key, kernel);
    }
    let bestMs = Infinity;
    const start = performance.now();
    for (let i = 0; i < 6 && (i < 3 || performance.now() - start < 25); i++) {
      const t = performance.now();
      kernel.call(ptrs);
      bestMs = Math.min(bestMs, performance.now() - t);
    }
    return bestMs;
  });
}

function productKernel(): MatmulKernel {
  return {
    kind: 'extern', op: 'matmul', name: 'autotune', params: [],
    inputs: [{ name: 'a', dtype: 'float32' }, { name: 'b', dtype: 'float32' }], outputs: [{ name: 'c', dtype: 'float32' }],
    batch: [], m: SIZE, n: SIZE, k: SIZE,
    a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: SIZE, colStride: 1 },
    b: { buffer: 'b', offset: 0, batchStrides: [], rowStride: SIZE, colStride: 1 },
    out: 'c',
  };
}

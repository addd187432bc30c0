// What machine a bench ran on, printed at the top of every CPU bench: the figures of two machine kinds
// (an AMD EPYC with AVX-512, an Intel Xeon at 2.8 GHz) differ by more than most changes, so a table means
// nothing without it. Linux's /proc/cpuinfo gives the model and the clock; elsewhere os.cpus() does.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { matmulAutotuneResult } from '@kiln/backend-cpu';

export interface Machine {
  /** "AMD EPYC", "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", … */
  readonly model: string;
  readonly cores: number;
  /** The clock the OS reports (MHz). In a VM this is often the nominal clock, not the boost clock. */
  readonly mhz: number;
  /** The widest x86 SIMD the CPU has (native code such as ort-node uses it; wasm is SIMD128 everywhere). */
  readonly simd: string;
}

function cpuinfoField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
}

export function machine(): Machine {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: os.cpus() below
  }
  const flags = ` ${cpuinfoField(text, 'flags') ?? ''} `;
  const simd = flags.includes(' avx512f ') ? 'AVX-512' : flags.includes(' avx2 ') ? 'AVX2' : flags.includes(' neon ') || flags.includes(' asimd ') ? 'NEON' : 'SSE/other';
  const mhz = Number(cpuinfoField(text, 'cpu MHz') ?? cpus()[0]?.speed ?? NaN);
  return { model: cpuinfoField(text, 'model name') ?? cpus()[0]?.model.trim() ?? 'unknown CPU', cores: cpus().length, mhz, simd };
}

/**
 * The clock the cores really run at, measured: a wasm loop of 32 dependent integer operations (add, xor:
 * one cycle of latency each on every x86-64 and arm64 core) per iteration, its loop counter off the chain,
 * so iterations × 32 / time is cycles per second. Best of several short runs (a run the scheduler
 * interrupts only looks slower). In a VM the reported clock is often the nominal one, below the boost
 * clock the kernels run at; this one is what a roofline should use. Measured once per process.
 */
export function measuredClockMhz(): number {
  return (measured ??= measureClock());
}
let measured: number | undefined;

function measureClock(): number {
  const chain: number[] = [];
  // x = (x + y) ^ z, 16 times: local 3 is x, params 1 and 2 are y and z (unknown to the compiler)
  for (let i = 0; i < 16; i++) chain.push(0x20, 3, 0x20, 1, 0x6a, 0x20, 2, 0x73, 0x21, 3);
  const body = [
    1, 1, 0x7f, // one i32 local
    0x03, 0x40, ...chain, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, // loop … n -= 1; br_if n
    0x20, 3, 0x0b,
  ];
  const entry = [...leb(body.length), ...body];
  const bytes = new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    1, 8, 1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, // type: (i32, i32, i32) -> i32
    3, 2, 1, 0, // function 0 has type 0
    7, 5, 1, 1, 0x66, 0, 0, // export "f"
    10, ...leb(1 + entry.length), 1, ...entry,
  ]);
  // the bench's TypeScript library has no WebAssembly types: the two constructors it needs
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: Record<string, unknown> } } }).WebAssembly;
  const f = new wasm.Instance(new wasm.Module(bytes)).exports.f as (n: number, y: number, z: number) => number;
  const iterations = 100_000; // 3.2 M cycles: ≈ 1 ms
  for (let i = 0; i < 20; i++) f(iterations, 3, 5); // past Liftoff, into TurboFan code
  let best = Infinity;
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    f(iterations, i, 7);
    best = Math.min(best, performance.now() - t);
  }
  return (32 * iterations) / best / 1000;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return out;
}

/**
 * Peak float32 GFLOP/s of wasm SIMD128 code on one core: two 4-lane f32x4.mul and two 4-lane f32x4.add
 * per cycle, ≈ 16 flop/cycle (Node 20's wasm has no FMA), at the measured clock (measuredClockMhz).
 */
export function simd128RooflineGflops(): number {
  return (16 * measuredClockMhz()) / 1000;
}

/** `SIMD128 roofline ≈ 58 GFLOP/s per core (16 flop/cycle at 3.6 GHz measured, 2.1 GHz reported)` */
export function rooflineLine(): string {
  return `SIMD128 roofline ≈ ${simd128RooflineGflops().toFixed(0)} GFLOP/s per core (16 flop/cycle at ${(measuredClockMhz() / 1000).toFixed(2)} GHz measured, ${(machine().mhz / 1000).toFixed(2)} GHz reported)`;
}

/** `machine: 2 × AMD EPYC (AVX-512, 2096 MHz), Node v20…, load average 1.2 / 0.9 / 0.7 (1, 5, 15 min)` */
export function machineLine(): string {
  const m = machine();
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ');
  return `machine: ${m.cores} × ${m.model} (${m.simd}, ${m.mhz.toFixed(0)} MHz reported), Node ${process.version}, load average ${load} (1, 5, 15 min)`;
}

/** Which matmul blocking this process used and where it came from (backend-cpu's per-machine autotune). */
export function blockingLine(): string {
  const r = matmulAutotuneResult();
  if (!r) return 'matmul blocking: no matmul compiled';
  const b = r.blocking;
  const from = r.source === 'measured' ? `measured in this process (${r.tuneMs!.toFixed(0)} ms)` : r.source === 'cache' ? `read from ${r.cacheFile}` : 'default (KILN_MATMUL_AUTOTUNE=off)';
  return `matmul blocking: ${b.MR}×${b.NR} tile, KC ${b.KC}, MC ${b.MC}, NC ${b.NC}, ${from}${r.gflops ? `; ${r.gflops.toFixed(1)} GFLOP/s on the tuning product when measured` : ''}`;
}

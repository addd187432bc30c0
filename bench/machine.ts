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
 * Peak float32 GFLOP/s of wasm SIMD128 code on one core: two 4-lane f32x4.mul and two 4-lane f32x4.add
 * per cycle, ≈ 16 flop/cycle (Node 20's wasm has no FMA). At the reported clock,
 * which in a VM can be below the boost clock the kernels really run at (then measured figures exceed it).
 */
export function simd128RooflineGflops(m: Machine = machine()): number {
  return (16 * m.mhz) / 1000;
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

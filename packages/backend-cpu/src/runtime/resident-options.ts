// The resident-output settings (configureResident) and the one-time heap hint for large reads; the pool
// that applies them is resident.ts.
import { KilnError } from '@kiln/tensor';

export interface ResidentOptions {
  /**
   * Bytes of resident outputs alive at once, per arena, above which outputs are copied out to JS arrays
   * again. V8 does not count wasm memory as GC pressure, so without this a loop making resident outputs
   * could grow the arena without bound before the registry gets to release anything. 0 turns them off.
   * The pool keeps below a tighter, self-adjusting limit too (see `ResidentPool.limit`).
   */
  budgetBytes: number;
  /**
   * Bytes handed out since the event loop last turned, above which outputs are copied out until it turns
   * (kept inputs have an allowance of their own of the same size). Finalizers only run between tasks, so a synchronous loop gets nothing back: without this it would
   * spend the whole budget on fresh arena pages (page faults make a new 4 MB block cost more than a copy
   * into a recycled JS array) and keep that footprint for good.
   */
  burstBytes: number;
  /**
   * Outputs smaller than this are copied out: for a few elements the copy costs less than registering
   * the block for finalization and re-checking the view on every read.
   */
  minBytes: number;
  /**
   * Whether an input copied into the arena stays there as its tensor's storage (within the same budgets),
   * so calling again with the same tensor passes it by pointer instead of copying it again.
   */
  keepInputs: boolean;
  /**
   * Whether the first output of at least `WARM_HEAP_MIN_BYTES` raises glibc's adaptive malloc thresholds
   * (`warmHeapFor`), so the fresh arrays that reads and copies out make reuse freed, already-mapped memory
   * instead of faulting in new pages on every call. Only read until it has acted, once per process.
   */
  warmHeap: boolean;
  /**
   * Whether the output of a program that is cheap to run again (pointwise and row kernels only, one output,
   * inputs resident) may give its block back before it dies, when a later call needs the room: its tensor
   * then recomputes its elements from snapshots of its inputs if it is ever read (`ResidentPool.makeRoom`).
   * Without it such an output is copied out of the arena instead, a copy a loop pays on every call.
   */
  recompute: boolean;
}

/** Process-wide settings; every pool reads them when it hands out an output. */
// burstBytes: 8 MiB, two 4 MB outputs. In a synchronous loop every block past it would be fresh arena pages,
// dearer than copying out into a recycled JS array (README, Budget); 64 MiB made the first 16 calls of a
// 1M-element loop pay them, most of a short timed loop on a loaded machine.
const options: ResidentOptions = { budgetBytes: 256 * 2 ** 20, burstBytes: 8 * 2 ** 20, minBytes: 16384, keepInputs: true, warmHeap: true, recompute: true };
/** The settings in force (configureResident changes them). */
export const residentSettings: Readonly<ResidentOptions> = options;

/**
 * What the pool may always have out, whatever live set it measured (see `ResidentPool.limit`): two default
 * bursts, so a loop whose outputs die at once still gets its outputs resident between GCs.
 */
export const RESIDENT_FLOOR_BYTES = 16 * 2 ** 20;

export class ResidentConfigError extends KilnError {}

const show = (v: unknown): string => {
  try {
    return typeof v === 'string' ? `'${v}'` : String(v);
  } catch {
    return typeof v;
  }
};

/** Changes the resident-output settings (all arenas); returns the settings now in force. */
export function configureResident(changes: Partial<ResidentOptions> = {}): Readonly<ResidentOptions> {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new ResidentConfigError(
      `configureResident: expects an object of settings, got ${changes === null ? 'null' : Array.isArray(changes) ? 'an array' : `${typeof changes} ${show(changes)}`}`,
      `e.g. configureResident({ budgetBytes: 64 * 2 ** 20 }); settings: ${Object.keys(options).join(', ')}`,
    );
  }
  for (const [key, value] of Object.entries(changes) as [keyof ResidentOptions, unknown][]) {
    if (value === undefined) continue;
    if (!Object.hasOwn(options, key)) throw new ResidentConfigError(`configureResident: unknown setting '${key}'`, `one of ${Object.keys(options).join(', ')}`);
    if (key === 'keepInputs' || key === 'warmHeap' || key === 'recompute') {
      if (typeof value !== 'boolean') throw new ResidentConfigError(`configureResident: ${key} must be true or false, got ${typeof value} ${show(value)}`, 'pass a boolean');
      options[key] = value;
    } else if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new ResidentConfigError(
        `configureResident: ${key} must be a finite number ≥ 0, got ${show(value)}`,
        key === 'budgetBytes' ? 'a byte count; 0 turns resident outputs off' : 'a byte count',
      );
    } else {
      options[key] = value;
    }
  }
  return { ...options };
}

/** Outputs from this size on make the arrays whose page faults `warmHeapFor` avoids (1 MiB: 256 Ki floats). */
export const WARM_HEAP_MIN_BYTES = 2 ** 20;
/** glibc's largest adaptive mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB on 64-bit). */
const GLIBC_MMAP_THRESHOLD_MAX = 32 * 2 ** 20;
let heapWarmed = false;

/**
 * Called with the size of each program output before it is handed out. At the first large one (once per
 * process, unless `warmHeap` is off) it allocates and drops a block just under 32 MiB. glibc's malloc maps
 * such a block on its own (mmap), and freeing a mapped block raises its adaptive thresholds to that block's
 * size: later blocks under 32 MiB come from its heap, and it returns freed memory at the top of that heap to
 * the OS only past 64 MiB instead of past twice the largest block freed so far (8 MiB after a 4 MB read).
 * Without it a loop that reads 4 MB results frees two of them per call (the read and the copy out of wasm
 * memory), the GC frees several calls' worth together, glibc trims them, and every fresh array faults its
 * 1024 pages in again: 12–20 µs each on the VM the bench runs on, 12–40 ms per call against a 0.6 ms kernel
 * (backend-cpu README, "What a read costs"). The block is never touched, so it costs a map and an unmap;
 * the price is up to 64 MiB of freed heap kept mapped. Other allocators (musl, macOS) are not affected.
 */
export function warmHeapFor(bytes: number): void {
  if (heapWarmed || bytes < WARM_HEAP_MIN_BYTES || !options.warmHeap) return;
  heapWarmed = true;
  try {
    // Two pages under the maximum, so the mapped block (header and page rounding included) stays within it.
    // Dropped at once: the next GC frees it, to glibc.
    void new ArrayBuffer(GLIBC_MMAP_THRESHOLD_MAX - 8192);
  } catch {
    // no room for it (RangeError): a hint only, and the call goes on without it
  }
}


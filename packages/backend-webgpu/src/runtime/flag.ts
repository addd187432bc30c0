// The eager-recompute flag, as on the CPU backend: a kernel whose float32 arithmetic cannot give eager's
// answer for some input (a float32 sum or product that overflowed where eager's float64 one need not; sin or
// cos of |x| > 1e5) writes 1 into a word of the call's flag buffer, and the call is then recomputed with the
// eager kernels on the CPU and its outputs overwritten: slower for such inputs, never wrong.
//
// Reading the flag costs a round trip to the device, so it is read only where values leave the queue:
// - a read of an output (`data()`, `array()`, `cpu()`) copies the flag word with the data into one staging
//   buffer: no extra round trip;
// - work that takes an output as input (another op or compiled call) waits until the flag is read first
//   (one round trip per flagged call that feeds more GPU work), so it never computes with wrong values.
// Programs with no kernel that can flag (matmul, most pointwise chains) pay nothing.
import type { GpuContext } from './device.js';
import { readBack } from './device-tensor.js';

export class FlagCheck {
  private settled?: Promise<void>;

  /**
   * @param flag the call's flag word (zeroed when the call starts); back to the pool once read
   * @param done resolves once the call's commands are submitted
   * @param recompute runs the call with the eager kernels and writes its outputs into their buffers
   */
  constructor(private readonly gpu: GpuContext, readonly flag: GPUBuffer, private readonly done: Promise<unknown>, private readonly recompute: () => Promise<void>) {
    pendingFlags.register(this, { gpu, flag }, this);
  }

  /** Whether nobody has read the flag yet (a download can then read it along with its data). */
  get pending(): boolean {
    return this.settled === undefined;
  }

  /** Resolves once the outputs hold their final values: reads the flag (a round trip) unless already read. */
  verify(): Promise<void> {
    return (this.settled ??= this.done.then(async () => {
      const { flagged } = await readBack(this.gpu, undefined, 'int32', 0, this.flag);
      await this.conclude(flagged);
    }));
  }

  /** A download that read the flag word along with its data reports what it saw. */
  observe(flagged: boolean): Promise<void> {
    return (this.settled ??= this.conclude(flagged));
  }

  private async conclude(flagged: boolean): Promise<void> {
    pendingFlags.unregister(this);
    this.gpu.pool.give(this.flag);
    if (!flagged) return;
    this.gpu.stats.recomputed++;
    await this.recompute();
  }
}

/** A flag nobody read (outputs dropped unread) goes back to the pool when its check is collected. */
const pendingFlags = new FinalizationRegistry<{ gpu: GpuContext; flag: GPUBuffer }>(({ gpu, flag }) => gpu.pool.give(flag));

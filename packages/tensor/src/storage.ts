import type { DType, TypedArray } from './dtype.js';

/** The bytes behind one or more storages; `owners` counts the storages that may read them. */
class SharedBuffer {
  constructor(
    readonly data: TypedArray,
    public owners: number,
  ) {}
}

/**
 * Copy-on-write storage. Views of a tensor share one `Storage` object, so they alias: a write through any of
 * them is seen by all. `clone()` makes a new `Storage` over the same buffer and bumps its owner count; the
 * first write through either side (`writable()`) copies the buffer for that side only. Owner counts are not
 * decremented when a storage is garbage-collected, so a buffer whose other owner died may be copied once
 * more than needed: a wasted copy, never a wrong value.
 */
export class Storage {
  private shared: SharedBuffer;

  constructor(
    data: TypedArray,
    readonly dtype: DType,
  ) {
    this.shared = new SharedBuffer(data, 1);
  }

  /** The data for reading. Never write into it: use `writable()`. */
  get data(): TypedArray {
    return this.shared.data;
  }

  get size(): number {
    return this.shared.data.length;
  }

  /** The data for writing, copied first if another storage shares it. */
  writable(): TypedArray {
    const shared = this.shared;
    if (shared.owners > 1) {
      shared.owners--;
      this.shared = new SharedBuffer(shared.data.slice(), 1);
    }
    return this.shared.data;
  }

  /** A lazy copy: shares the buffer until either side writes. */
  cowClone(): Storage {
    const copy = Object.create(Storage.prototype) as Storage;
    (copy as unknown as { dtype: DType }).dtype = this.dtype;
    copy.shared = this.shared;
    this.shared.owners++;
    return copy;
  }

  /** Whether two storages currently share bytes (for tests and the aliasing checks of in-place ops). */
  sharesBufferWith(other: Storage): boolean {
    return this.shared === other.shared;
  }
}

import { copyElements, type DType, type TypedArray } from './dtype.js';
import { DisposedTensorError } from './errors.js';

/**
 * Bytes that live outside the JS heap, e.g. a block of a WebAssembly memory (backends hand out their
 * outputs this way instead of copying them into a JS array). `view()` must return a view that is valid
 * now: a memory that has grown detaches its old ArrayBuffer, so an implementation re-makes its view
 * whenever the memory's buffer changed. A view is only guaranteed valid until the owner next allocates
 * (for the CPU backend: the next compiled call), so callers never keep one across such a call.
 */
export interface ExternalBytes {
  view(): TypedArray;
  /**
   * The device the bytes live on when it is not the CPU (`webgpu`): every tensor made over a storage of
   * these bytes (a view that core or a backend builds, too) is on that device. Absent for host memory
   * (a wasm memory is the CPU's).
   */
  readonly device?: string;
  /**
   * Gives the bytes back to their owner now (the last storage reading them was disposed), instead of when
   * the `ExternalBytes` object is garbage-collected. Absent where the owner only frees on collection.
   */
  release?(): void;
}

/**
 * The bytes behind one or more storages; `owners` counts the storages that may read them. `external` is
 * null for a JS typed array (then `data` is it); otherwise the bytes live there and `data` is unused.
 * One class for both kinds keeps the property accesses of the hot `Storage.data` path monomorphic.
 */
class SharedBuffer {
  constructor(
    readonly data: TypedArray,
    public owners: number,
    readonly external: ExternalBytes | null,
    /** `data` is a copy only this buffer references (`Storage.ofCopy`): a consuming read may hand it out. */
    readonly handOff = false,
  ) {}
}

const NO_DATA = new Uint8Array(0);

/** What a disposed storage reads: every access fails with a clear error instead of reading freed bytes. */
const DISPOSED: ExternalBytes = {
  view(): never {
    throw new DisposedTensorError('this tensor was disposed: its bytes were given back by dispose()', 'read a tensor before disposing it (or clone() it first)');
  },
};

/**
 * Copy-on-write storage. Views of a tensor share one `Storage` object, so they alias: a write through any of
 * them is seen by all. `clone()` makes a new `Storage` over the same buffer and bumps its owner count; the
 * first write through either side (`writable()`) copies the buffer for that side only. Owner counts are not
 * decremented when a storage is garbage-collected, so a buffer whose other owner died may be copied once
 * more than needed: a wasted copy, never a wrong value.
 *
 * External storages (`Storage.fromExternal`) behave the same: reads see the external bytes; a write through
 * the only owner goes into them in place; a copy-on-write copy goes into a fresh JS array, so eager code
 * never allocates external memory (it cannot grow a wasm memory under a caller's views, nor push a
 * backend past its budget). Whoever owns the external bytes must keep them alive as long as the
 * `ExternalBytes` object is reachable: every storage that shares them references that object.
 */
export class Storage {
  private shared: SharedBuffer;
  /**
   * Bumped by every write (`writable()`). Views share the Storage object and so the counter; a lazy clone
   * has its own. Autograd compares it with the value it saw when it saved a tensor for the backward pass.
   */
  version = 0;

  constructor(
    data: TypedArray,
    readonly dtype: DType,
  ) {
    this.shared = new SharedBuffer(data, 1, null);
  }

  /**
   * A storage over a JS array that nothing else references (a backend's copy of its result, never handed
   * out): a consuming read (`toTypedArray({ dispose: true })`) of its only owner returns the array itself
   * instead of copying it (`take`).
   */
  static ofCopy(data: TypedArray, dtype: DType): Storage {
    const s = new Storage(NO_DATA, dtype);
    s.shared = new SharedBuffer(data, 1, null, true);
    return s;
  }

  /**
   * Disposes this storage and returns its array, when that needs no copy: the bytes are a `Storage.ofCopy`
   * array that no other storage shares (no copy-on-write clone). Undefined otherwise, changing nothing.
   */
  take(): TypedArray | undefined {
    const s = this.shared;
    if (!s.handOff || s.owners !== 1) return undefined;
    this.dispose();
    return s.data;
  }

  /** A storage over bytes that live outside the JS heap (see `ExternalBytes`). */
  static fromExternal(bytes: ExternalBytes, dtype: DType): Storage {
    const s = new Storage(NO_DATA, dtype);
    s.shared = new SharedBuffer(NO_DATA, 1, bytes);
    return s;
  }

  /**
   * The data for reading. Never write into it: use `writable()`. For an external storage it is a view that
   * stays valid only until the owner of the bytes next allocates, so take it again rather than keeping it.
   */
  get data(): TypedArray {
    const s = this.shared;
    return s.external === null ? s.data : s.external.view();
  }

  get size(): number {
    return this.data.length;
  }

  /** Where the bytes live: the external bytes' device, else the CPU. A tensor's device defaults to this. */
  get device(): string {
    return this.shared.external?.device ?? 'cpu';
  }

  /** The external bytes this storage reads, or null for a JS array (backends pass these by pointer). */
  get external(): ExternalBytes | null {
    return this.shared.external;
  }

  /**
   * Moves this storage's bytes into `bytes`, which must already hold a copy of them (a backend keeps an
   * input it copied into its memory there, so the next call reads it in place). Storages that shared the
   * old buffer through copy-on-write keep it; views of this storage follow, since they share this object.
   */
  moveToExternal(bytes: ExternalBytes): void {
    this.shared.owners--;
    this.shared = new SharedBuffer(NO_DATA, 1, bytes);
  }

  /** The data for writing, copied first (into a new JS array) if another storage shares it. */
  writable(): TypedArray {
    this.version++;
    let s = this.shared;
    if (s.owners > 1) {
      s.owners--;
      this.shared = s = new SharedBuffer(copyElements(s.external === null ? s.data : s.external.view()), 1, null);
    }
    return s.external === null ? s.data : s.external.view();
  }

  /**
   * A write of all of `src`'s values at once without copying them: this storage shares `src`'s bytes
   * copy-on-write from now on (as `cowClone` would), and counts as a write. Views of this storage follow;
   * storages that shared the old bytes keep them. For a compiled call's fresh output written back into an
   * argument (an optimizer's parameters and state): the values move instead of being copied.
   */
  takeBytesOf(src: Storage): void {
    this.version++;
    if (this.shared === src.shared) return;
    this.shared.owners--;
    this.shared = src.shared;
    src.shared.owners++;
  }

  /**
   * Gives the bytes back now (as tfjs's `dispose()`): a backend that owns them (a compiled CPU call's
   * resident output) reuses them at once instead of after a garbage collection, which a synchronous loop
   * never reaches. Views of this storage are disposed with it; reading any of them afterwards throws
   * DisposedTensorError. Bytes another storage still shares (copy-on-write) stay with that one.
   */
  dispose(): void {
    const s = this.shared;
    if (s.external === DISPOSED) return;
    this.version++;
    this.shared = new SharedBuffer(NO_DATA, 1, DISPOSED);
    if (--s.owners === 0) s.external?.release?.();
  }

  /** Whether `dispose()` was called on this storage (or a view sharing it). */
  get disposed(): boolean {
    return this.shared.external === DISPOSED;
  }

  /** A lazy copy: shares the buffer until either side writes. */
  cowClone(): Storage {
    const copy = Object.create(Storage.prototype) as Storage;
    (copy as unknown as { dtype: DType }).dtype = this.dtype;
    copy.shared = this.shared;
    copy.version = 0;
    this.shared.owners++;
    return copy;
  }

  /** Whether two storages currently share bytes (for tests and the aliasing checks of in-place ops). */
  sharesBufferWith(other: Storage): boolean {
    return this.shared === other.shared;
  }
}

// An outside array as the frame sees it after changing it. Tracing never mutates the real array (the
// changes are replayed after the graph runs), so the tracer keeps its own picture. Appends and index
// writes need no knowledge of the contents and stay pending: a frame that only pushes to a log must not
// guard (and recompile on) the log's length. The first operation that depends on the contents (`pop`,
// `shift`, `splice`, reading `length` or an element) guards the length and replays the pending operations
// onto slots that name the original elements by index (read, and guarded, only when the frame uses them).
import type { Value } from '../values.js';

/** An element the array held when the frame started (by index), or a value the frame put there. */
export type Slot = { readonly original: number } | { readonly value: Value };

type Pending = { readonly kind: 'push' | 'unshift'; readonly values: readonly Value[] } | { readonly kind: 'index'; readonly index: number; readonly value: Value };

export class ArrayShadow {
  private readonly pending: Pending[] = [];
  private slots: Slot[] | undefined;

  get materialized(): boolean {
    return this.slots !== undefined;
  }

  /**
   * The contents, once known. `length` is the array's guarded length at frame start; the reason is returned
   * (and nothing changes) when a pending write would leave a hole.
   */
  materialize(length: number): string | undefined {
    if (this.slots) return undefined;
    const slots: Slot[] = Array.from({ length }, (_, i) => ({ original: i }));
    for (const op of this.pending) {
      if (op.kind === 'index') {
        if (op.index > slots.length) return `index ${op.index} is past the end (the write would leave a hole)`;
        slots[op.index] = { value: op.value };
      } else if (op.kind === 'push') slots.push(...op.values.map((value) => ({ value })));
      else slots.unshift(...op.values.map((value) => ({ value })));
    }
    this.slots = slots;
    this.pending.length = 0;
    return undefined;
  }

  get contents(): Slot[] {
    if (!this.slots) throw new Error('ArrayShadow: contents read before materialize()');
    return this.slots;
  }

  push(values: readonly Value[]): void {
    if (this.slots) this.slots.push(...values.map((value) => ({ value })));
    else this.pending.push({ kind: 'push', values });
  }

  unshift(values: readonly Value[]): void {
    if (this.slots) this.slots.unshift(...values.map((value) => ({ value })));
    else this.pending.push({ kind: 'unshift', values });
  }

  /** `arr[index] = value`; a reason when it would leave a hole in known contents. */
  setIndex(index: number, value: Value): string | undefined {
    if (!this.slots) {
      this.pending.push({ kind: 'index', index, value });
      return undefined;
    }
    if (index > this.slots.length) return `index ${index} is past the end (the write would leave a hole)`;
    this.slots[index] = { value };
    return undefined;
  }
}

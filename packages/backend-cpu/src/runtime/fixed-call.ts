// The small-call path of a program runner: a program whose sizes are all static, whose steps are all
// kernels and whose buffers are small runs with one fixed layout (a slot per buffer in one arena block)
// instead of through the general executor. A tiny compiled call (8 elements, two ops) spent most of its
// time in what the executor repeats on every call and such a program does not need: an arena alloc and
// release per buffer (each a scan of the free list), per-call parameter and block records, the memory plan
// walked step by step, the keep-input and burst checks. Here a call takes one block, checks and copies its
// inputs into their slots (or reads a resident input in place), calls the kernels on the slots' addresses,
// copies its outputs out (as the general path does for outputs this small) and gives the block back.
import type { LoweredProgram, LoopDType } from '@kiln/lower';
import { BYTES_PER_ELEMENT } from '@kiln/lower';
import type { Tensor, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, contiguousStridesOf } from '@kiln/tensor';
import type { Arena } from './arena.js';
import type { CompiledKernel, CompiledModule } from './compile.js';
import type { ResidentPool } from './resident.js';
import { checkKernelSizes } from './size-limits.js';

/**
 * Bytes of buffers (inputs, intermediates, outputs) at most for the fixed layout, which gives every buffer a
 * slot of its own: past this, reusing blocks by liveness (the executor's memory plan) pays.
 */
export const FIXED_LAYOUT_MAX_BYTES = 16384;
const ALIGN = 64;
const NO_PARAMS: Readonly<Record<string, number>> = Object.freeze({});

interface InputSlot {
  readonly name: string;
  readonly input: number;
  readonly dtype: LoopDType;
  readonly shape: readonly number[];
  readonly numel: number;
  /** Byte offset of the slot inside the region. */
  readonly offset: number;
}

interface OutputSlot {
  /** Where the output's elements are: a slot of the region, or a constant's block. */
  readonly buffer: string;
  readonly dtype: LoopDType;
  readonly shape: readonly number[];
  readonly numel: number;
}

type Views = { [D in LoopDType]: TypedArray };
const VIEW = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, float64: Float64Array } as const;

export class FixedLayoutCall {
  /** The region the slots' addresses in `blocks` are for (the arena usually hands the same one back). */
  private region = -1;
  /** Byte address of every buffer for this call: its slot in the region, a constant's block, or an input read in place. */
  private readonly blocks: Record<string, number>;
  private views: Views | undefined;

  private constructor(
    private readonly arena: Arena,
    private readonly pool: ResidentPool,
    private readonly kernels: readonly CompiledKernel[],
    private readonly inputs: readonly InputSlot[],
    private readonly outputs: readonly (OutputSlot | { readonly value: unknown })[],
    private readonly slots: ReadonlyMap<string, number>,
    private readonly regionBytes: number,
    /** The largest output and input, in bytes: the pool would keep one resident at or above its minimum. */
    private readonly largestBytes: number,
    constantPointers: ReadonlyMap<string, number>,
  ) {
    this.blocks = Object.fromEntries(constantPointers);
  }

  /**
   * The fixed layout of `program`, or undefined when the program needs the general executor. The slots come
   * first, in a function of their own: most programs are too large for the layout, and V8 then never
   * compiles the rest (a fresh process compiles a function's whole body at its first call).
   */
  static of(program: LoweredProgram, module: CompiledModule, arena: Arena, pool: ResidentPool, constantPointers: ReadonlyMap<string, number>): FixedLayoutCall | undefined {
    const layout = slotsOf(program, constantPointers);
    return layout && FixedLayoutCall.withSlots(program, module, arena, pool, constantPointers, layout.slots, layout.bytes);
  }

  private static withSlots(
    program: LoweredProgram, module: CompiledModule, arena: Arena, pool: ResidentPool, constantPointers: ReadonlyMap<string, number>,
    slots: ReadonlyMap<string, number>, bytes: number,
  ): FixedLayoutCall | undefined {
    const buffers = new Map(program.buffers.map((b) => [b.name, b]));
    const kernels: CompiledKernel[] = [];
    for (const step of program.steps) {
      if (step.kind !== 'kernel') return undefined;
      const kernel = module.kernels.get(step.kernel.name);
      if (!kernel) return undefined;
      try {
        checkKernelSizes(kernel.sizeCheck, NO_PARAMS); // static sizes: checked once, here
      } catch {
        return undefined; // the general path raises it (or runs eagerly) on every call
      }
      kernels.push(kernel);
    }
    // A step that writes an input buffer gets a copy in the general path too; here every input is copied
    // into its slot, except resident ones read in place, which must then never be written.
    const written = new Set(program.steps.flatMap((s) => (s.kind === 'kernel' ? s.kernel.outputs.map((o) => o.name) : [])));
    const inputs: InputSlot[] = [];
    let largestBytes = 0;
    for (const b of program.buffers) {
      if (b.input === undefined) continue;
      if (written.has(b.name)) return undefined;
      const n = b.numel as number; // static: slotsOf checked every buffer
      inputs.push({ name: b.name, input: b.input, dtype: b.dtype, shape: (b.shape ?? []) as number[], numel: n, offset: slots.get(b.name)! });
      largestBytes = Math.max(largestBytes, n * BYTES_PER_ELEMENT[b.dtype]);
    }
    const outputs: (OutputSlot | { value: unknown })[] = [];
    for (const o of program.outputs) {
      if (o.kind === 'constant') outputs.push({ value: o.value });
      else if (o.kind === 'size') {
        if (typeof o.value !== 'number') return undefined;
        outputs.push({ value: o.value });
      } else {
        const b = buffers.get(o.buffer);
        if (!b || !o.shape.every((s) => typeof s === 'number')) return undefined;
        const shape = o.shape as number[];
        const n = shape.reduce((p, s) => p * s, 1);
        outputs.push({ buffer: o.buffer, dtype: o.dtype, shape, numel: n });
        largestBytes = Math.max(largestBytes, Math.max(n * BYTES_PER_ELEMENT[o.dtype], 1));
      }
    }
    return new FixedLayoutCall(arena, pool, kernels, inputs, outputs, slots, bytes, largestBytes, constantPointers);
  }

  /**
   * Whether this call can take the fixed layout: no output or input large enough for the resident pool to
   * keep (its settings can change at any time; configureResident). The general path handles those.
   */
  applies(): boolean {
    return !this.pool.admits(this.largestBytes);
  }

  /**
   * Runs the program; undefined when `checkFlag` is set and a kernel flagged an input its fast path cannot
   * compute as eager does (the runner then answers with the eager kernels, see ProgramRunner).
   */
  run(args: readonly unknown[], checkFlag: boolean): unknown[] | undefined {
    // One block per call for every buffer (one alloc and one release, where the executor makes one per
    // buffer); raises ArenaOutOfMemoryError, which the runner answers as for any call.
    const region = this.arena.alloc(this.regionBytes);
    try {
      return this.runAt(region, args, checkFlag);
    } finally {
      this.arena.release(region);
    }
  }

  private runAt(region: number, args: readonly unknown[], checkFlag: boolean): unknown[] | undefined {
    const { blocks, pool } = this;
    if (region !== this.region) {
      this.region = region;
      for (const [name, offset] of this.slots) blocks[name] = region + offset;
    }
    const views = this.viewsFor(this.views);
    for (const slot of this.inputs) {
      const t = args[slot.input] as Tensor;
      checkShape(t, slot);
      const contiguous = t.isContiguous();
      const resident = contiguous ? pool.pointerOf(t.storage, t.offset, slot.dtype) : undefined;
      blocks[slot.name] = resident ?? region + slot.offset;
      if (resident !== undefined) continue;
      const data = contiguous ? t.storage.data : (t.toTypedArray() as TypedArray);
      const start = contiguous ? t.offset : 0;
      const into = (region + slot.offset) / BYTES_PER_ELEMENT[slot.dtype];
      // The whole storage in one set(); a view's elements through a subarray (one small allocation).
      views[slot.dtype].set(start === 0 && data.length === slot.numel ? data : data.subarray(start, start + slot.numel), into);
    }
    if (checkFlag) this.arena.flagWord()[0] = 0;
    for (const kernel of this.kernels) kernel.call(blocks, NO_PARAMS);
    if (checkFlag && this.arena.flagWord()[0] !== 0) return undefined;
    const out: unknown[] = [];
    for (const o of this.outputs) {
      if ('value' in o) {
        out.push(o.value);
        continue;
      }
      const from = blocks[o.buffer]! / BYTES_PER_ELEMENT[o.dtype];
      // slice(): one allocation and one copy, the general path's copy-out for outputs this small.
      const data = views[o.dtype].slice(from, from + o.numel) as TypedArray;
      const shape = o.shape.slice();
      out.push(new TensorClass(new Storage(data, o.dtype), shape, contiguousStridesOf(shape), 0, o.dtype));
    }
    return out;
  }

  /** Typed views of the whole memory, made again once it grew (growth detaches or outgrows the old ones). */
  private viewsFor(views: Views | undefined): Views {
    // A grown memory is a new buffer object: a non-shared one detaches the old, a shared one outgrows it.
    const buffer = this.arena.memory.buffer as ArrayBuffer;
    if (views && views.bool.buffer === buffer) return views;
    return (this.views = { float32: new VIEW.float32(buffer), int32: new VIEW.int32(buffer), bool: new VIEW.bool(buffer), float64: new VIEW.float64(buffer) });
  }
}

/** The executor's input check (guards keep wrong inputs away; bytes are never misread anyway). */
function checkShape(t: Tensor, slot: InputSlot): void {
  if (t instanceof TensorClass && t.dtype === slot.dtype && t.shape.length === slot.shape.length) {
    let same = true;
    for (let d = 0; d < slot.shape.length; d++) same &&= t.shape[d] === slot.shape[d];
    if (same) return;
  }
  throw new KilnError(
    `compiled program: input ${slot.input} must be a ${slot.dtype} tensor of shape [${slot.shape.join(', ')}], got ${t instanceof TensorClass ? `${t.dtype}[${t.shape.join(', ')}]` : typeof t}`,
    'recompile for these inputs (compile() does this through its guards)',
  );
}

/**
 * A slot for every buffer but the constants (byte offsets in one region) and the region's size, or
 * undefined when the program cannot take the fixed layout: sizes that are not all static, a step that is
 * not a kernel, or more than FIXED_LAYOUT_MAX_BYTES of buffers.
 */
function slotsOf(program: LoweredProgram, constantPointers: ReadonlyMap<string, number>): { slots: Map<string, number>; bytes: number } | undefined {
  if (program.params.length > 0 || program.steps.some((s) => s.kind !== 'kernel')) return undefined;
  const slots = new Map<string, number>();
  let bytes = 0;
  for (const b of program.buffers) {
    if (constantPointers.has(b.name)) continue;
    const n = b.numel;
    if (typeof n !== 'number' || (b.shape && !b.shape.every((s) => typeof s === 'number'))) return undefined;
    slots.set(b.name, bytes);
    bytes += Math.max(ALIGN, Math.ceil((n * BYTES_PER_ELEMENT[b.dtype]) / ALIGN) * ALIGN);
    if (bytes > FIXED_LAYOUT_MAX_BYTES) return undefined;
  }
  return { slots, bytes };
}

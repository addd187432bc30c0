// Addresses of affine accesses inside a loop nest. The part of `offset + Σ index*stride` that does not
// depend on the innermost (vector) axis is computed once per row into a local; inside the row an access
// is contiguous (v128.load), broadcast (load-and-splat), or strided (four lane loads, a gather), decided
// per access at compile time from its inner stride.
import type { Access, LoopDType, SizeExpr, ValueExpr } from '@kiln/lower';
import { BYTES_PER_ELEMENT, walk } from '@kiln/lower';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { emitSize } from './sizes.js';
import type { LaneMode, ValueSources } from './expr.js';

export interface KernelFrame {
  readonly f: FunctionBuilder;
  readonly params: ReadonlyMap<string, Local<'i32'>>;
  readonly pointers: ReadonlyMap<string, Local<'i32'>>;
  readonly dtypes: ReadonlyMap<string, LoopDType>;
}

interface Bound {
  readonly rowBase: Local<'i32'>;
  readonly innerStride: number | 'dynamic';
  readonly strideBytes?: Local<'i32'>;
  readonly bytes: number;
  readonly dtype: LoopDType;
}

const key = (buffer: string, a: Access) => `${buffer}|${JSON.stringify(a)}`;

/**
 * Addressing for one row of a loop nest: `indices` are the locals of every axis but the vector one, in
 * axis order; `inner` is the vector axis' index local, or null when the space has no vector axis (a single
 * point). The vector axis is the last one unless `vectorAxis` says otherwise (reductions vectorised across
 * an outer axis).
 */
export class RowAddressing implements ValueSources {
  private readonly bound = new Map<string, Bound>();
  private readonly vectorAxis: number;

  constructor(
    private readonly frame: KernelFrame,
    private readonly indices: readonly Local<'i32'>[],
    private readonly inner: Local<'i32'> | null,
    private accs: readonly Local<'v128'>[] = [],
    vectorAxis?: number,
  ) {
    this.vectorAxis = inner ? (vectorAxis ?? indices.length) : -1;
  }

  /** Switches the finished reductions `acc(i)` reads (one set per lane group of an unrolled loop). */
  useAccs(accs: readonly Local<'v128'>[]): void {
    this.accs = accs;
  }

  /** The index local of a non-vector axis. */
  private axisLocal(axis: number): Local<'i32'> {
    return this.indices[this.vectorAxis >= 0 && axis > this.vectorAxis ? axis - 1 : axis]!;
  }

  /** Emits row bases for every access in `values` and `stores`; call inside the outer loops, before the row. */
  prepare(values: readonly ValueExpr[], stores: readonly { buffer: string; access: Access }[] = []): void {
    for (const v of values) walk(v, (e) => (e.kind === 'load' || e.kind === 'gather') && this.bind(e.buffer, e.access));
    for (const s of stores) this.bind(s.buffer, s.access);
  }

  /** True when every access is contiguous or broadcast along the inner axis (no gathers). */
  get allUnitStride(): boolean {
    return [...this.bound.values()].every((b) => b.innerStride === 0 || b.innerStride === 1);
  }

  private bind(buffer: string, access: Access): void {
    const k = key(buffer, access);
    if (this.bound.has(k)) return;
    const { f, params, pointers, dtypes } = this.frame;
    const dtype = dtypes.get(buffer)!;
    const bytes = BYTES_PER_ELEMENT[dtype];
    const rowBase = f.local('i32');
    f.get(pointers.get(buffer)!);
    emitSize(f, access.offset, params);
    for (let i = 0; i < access.strides.length; i++) {
      if (access.strides[i] === 0 || i === this.vectorAxis) continue;
      f.get(this.axisLocal(i));
      emitSize(f, access.strides[i]!, params);
      f.op('i32_mul', 'i32_add');
    }
    if (bytes !== 1) f.i32(bytes).op('i32_mul');
    f.op('i32_add').set(rowBase);
    const s = this.inner ? access.strides[this.vectorAxis]! : 0;
    if (typeof s === 'number') {
      this.bound.set(k, { rowBase, innerStride: s, bytes, dtype });
    } else {
      const strideBytes = f.local('i32');
      emitSize(f, s, params);
      f.i32(bytes).op('i32_mul').set(strideBytes);
      this.bound.set(k, { rowBase, innerStride: 'dynamic', strideBytes, bytes, dtype });
    }
  }

  /**
   * Element offset added to the inner index: lets one prepared row serve several lane groups (`inner`,
   * `inner + 4`, …) of an unrolled loop, with the offset folded into the memory instruction.
   */
  laneBase = 0;

  /**
   * Pushes the address of element `inner + laneBase + lane` of this row, minus the returned constant, which
   * the caller passes as the memory instruction's offset (wasm offsets are unsigned, so only ≥ 0 ones).
   */
  private address(b: Bound, lane = 0): number {
    const f = this.frame.f;
    f.get(b.rowBase);
    if (!this.inner || b.innerStride === 0) return 0;
    f.get(this.inner);
    const extra = lane + this.laneBase;
    if (b.innerStride === 'dynamic') {
      if (extra) f.i32(extra).op('i32_add');
      f.get(b.strideBytes!).op('i32_mul', 'i32_add');
      return 0;
    }
    const scale = b.innerStride * b.bytes;
    if (scale !== 1) f.i32(scale).op('i32_mul');
    f.op('i32_add');
    if (extra * scale >= 0) return extra * scale;
    f.i32(extra * scale).op('i32_add');
    return 0;
  }

  load(e: Extract<ValueExpr, { kind: 'load' }>, mode: LaneMode): void {
    const f = this.frame.f;
    const b = this.bound.get(key(e.buffer, e.access))!;
    const isBool = b.dtype === 'bool';
    if (mode === 'scalar' || b.innerStride === 0 || !this.inner) {
      const off = this.address(b);
      if (isBool) f.mem('i32_load8_u', off).simd('i32x4_splat').i32x4(0).simd('i32x4_ne');
      else f.simdMem('v128_load32_splat', off);
      return;
    }
    if (b.innerStride === 1) {
      const off = this.address(b);
      if (isBool) {
        f.simdMem('v128_load32_zero', off).simd('i16x8_extend_low_i8x16_u', 'i32x4_extend_low_i16x8_u');
        f.i32x4(0).simd('i32x4_ne');
      } else f.simdMem('v128_load', off);
      return;
    }
    // gather four lanes
    f.i32x4(0);
    for (let lane = 0; lane < 4; lane++) {
      const off = this.address(b, lane);
      f.mem(isBool ? 'i32_load8_u' : 'i32_load', off).lane('i32x4_replace_lane', lane);
    }
    if (isBool) f.i32x4(0).simd('i32x4_ne');
  }

  /**
   * An indirect load: per lane, the affine address plus `position * stride` elements, one scalar load each
   * (lane 0 only, splatted, in scalar mode). Lowering has checked every position against its extent.
   */
  gather(e: Extract<ValueExpr, { kind: 'gather' }>, position: Local<'v128'>, mode: LaneMode): void {
    const f = this.frame.f;
    const b = this.bound.get(key(e.buffer, e.access))!;
    const isBool = b.dtype === 'bool';
    const load = isBool ? 'i32_load8_u' : 'i32_load';
    const addPosition = (lane: number) => {
      f.get(position).lane('i32x4_extract_lane', lane);
      if (typeof e.stride === 'number') f.i32(e.stride * b.bytes);
      else {
        emitSize(f, e.stride, this.frame.params);
        if (b.bytes !== 1) f.i32(b.bytes).op('i32_mul');
      }
      f.op('i32_mul', 'i32_add');
    };
    if (mode === 'scalar' || !this.inner) {
      const off = this.address(b);
      addPosition(0);
      f.mem(load, off).simd('i32x4_splat');
    } else {
      f.i32x4(0);
      for (let lane = 0; lane < 4; lane++) {
        const off = this.address(b, lane);
        addPosition(lane);
        f.mem(load, off).lane('i32x4_replace_lane', lane);
      }
    }
    if (isBool) f.i32x4(0).simd('i32x4_ne');
  }

  size(value: SizeExpr): void {
    emitSize(this.frame.f, value, this.frame.params);
    this.frame.f.simd('i32x4_splat');
  }

  floatParam(param: string): void {
    this.frame.f.get(this.frame.params.get(param)!).op('f32_reinterpret_i32').simd('f32x4_splat');
  }

  /** Stores the v128 on the stack (four lanes, or lane 0 in scalar mode). */
  store(buffer: string, access: Access, mode: LaneMode): void {
    const f = this.frame.f;
    const b = this.bound.get(key(buffer, access))!;
    const value = f.local('v128');
    f.set(value);
    if (b.dtype === 'bool') {
      // mask → 0/1 bytes in the low lanes
      f.get(value).simd('i32x4_neg').get(value).simd('i32x4_neg', 'i16x8_narrow_i32x4_u').set(value);
      f.get(value).get(value).simd('i8x16_narrow_i16x8_u').set(value);
    }
    const lanes = mode === 'scalar' || !this.inner ? 1 : 4;
    if (lanes === 4 && b.innerStride === 1 && b.dtype !== 'bool') {
      const off = this.address(b);
      f.get(value).simdMem('v128_store', off);
      return;
    }
    for (let lane = 0; lane < lanes; lane++) {
      const off = this.address(b, lane);
      if (b.dtype === 'bool') f.get(value).lane('i32x4_extract_lane', 0).i32(lane * 8).op('i32_shr_u').mem('i32_store8', off);
      else f.get(value).lane('i32x4_extract_lane', lane).mem('i32_store', off);
    }
  }

  index(axis: number, mode: LaneMode): void {
    const f = this.frame.f;
    if (axis !== this.vectorAxis) {
      f.get(this.axisLocal(axis)).simd('i32x4_splat');
      return;
    }
    f.get(this.inner!);
    if (this.laneBase) f.i32(this.laneBase).op('i32_add');
    f.simd('i32x4_splat');
    if (mode === 'vector') f.v128Bytes(new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer)).simd('i32x4_add');
  }

  acc(stage: number): void {
    this.frame.f.get(this.accs[stage]!);
  }
}

// A typed builder for one wasm function body. Locals are typed handles, control flow is structured
// (callbacks for bodies), so an emitted function is well nested by construction.
import { ByteWriter } from './encoding.js';
import {
  MEMORY, PLAIN, SIMD, SIMD_LANE, SIMD_MEMORY, SIMD_MEMORY_LANE, SIMD_PREFIX, VALTYPE,
  type MemoryOp, type PlainOp, type SimdLaneOp, type SimdMemoryLaneOp, type SimdMemoryOp, type SimdOp, type ValType,
} from './opcodes.js';

export interface Local<T extends ValType = ValType> {
  readonly index: number;
  readonly type: T;
}

const NATURAL_ALIGN: Record<string, number> = { i32_load8_u: 0, i32_store8: 0 };

export class FunctionBuilder {
  readonly code = new ByteWriter();
  private readonly prologue = new ByteWriter();
  private readonly constants = new Map<string, Local<'v128'>>();
  private readonly extraLocals: ValType[] = [];
  readonly params: Local[];
  /** Set by codegen/imprecise.ts when this function may ask for the call to be recomputed eagerly. */
  setsImpreciseFlag = false;

  constructor(
    readonly name: string,
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local<T extends ValType>(type: T): Local<T> {
    this.extraLocals.push(type);
    return { index: this.paramTypes.length + this.extraLocals.length - 1, type };
  }

  // --- plain instructions ------------------------------------------------------------------------------
  op(...ops: PlainOp[]): this {
    for (const o of ops) this.code.byte(PLAIN[o]);
    return this;
  }
  simd(...ops: SimdOp[]): this {
    for (const o of ops) this.code.byte(SIMD_PREFIX).u32(SIMD[o]);
    return this;
  }
  i32(v: number): this {
    this.code.byte(0x41).i32(v);
    return this;
  }
  f32(v: number): this {
    this.code.byte(0x43).f32(v);
    return this;
  }
  /**
   * A splatted constant. TurboFan does not hoist loop-invariant code out of wasm loops, so a splat inside
   * a loop would be re-materialised every iteration (2–3 instructions each; exp has a dozen constants).
   * Constants are therefore built once in the function prologue and read from a local.
   */
  f32x4(v: number): this {
    return this.hoisted(`f${Object.is(v, -0) ? '-0' : v}`, (w) => w.byte(0x43).f32(v).byte(SIMD_PREFIX).u32(SIMD.f32x4_splat));
  }
  i32x4(v: number): this {
    return this.hoisted(`i${v | 0}`, (w) => w.byte(0x41).i32(v).byte(SIMD_PREFIX).u32(SIMD.i32x4_splat));
  }

  private hoisted(key: string, build: (w: ByteWriter) => void): this {
    let l = this.constants.get(key);
    if (!l) {
      l = this.local('v128');
      build(this.prologue);
      this.prologue.byte(0x21).u32(l.index);
      this.constants.set(key, l);
    }
    return this.get(l);
  }
  /** v128.const from 16 raw bytes. */
  v128Bytes(bytes: ArrayLike<number>): this {
    this.code.byte(SIMD_PREFIX).u32(0x0c).bytes(bytes);
    return this;
  }
  get(l: Local): this {
    this.code.byte(0x20).u32(l.index);
    return this;
  }
  set(l: Local): this {
    this.code.byte(0x21).u32(l.index);
    return this;
  }
  tee(l: Local): this {
    this.code.byte(0x22).u32(l.index);
    return this;
  }
  call(funcIndex: number): this {
    this.code.byte(0x10).u32(funcIndex);
    return this;
  }

  // --- memory ------------------------------------------------------------------------------------------
  mem(o: MemoryOp, offset = 0): this {
    this.code.byte(MEMORY[o]).u32(NATURAL_ALIGN[o] ?? 2).u32(offset);
    return this;
  }
  simdMem(o: SimdMemoryOp, offset = 0): this {
    // Alignment hints are only hints; we claim 4-byte alignment, which every f32/i32 buffer satisfies.
    this.code.byte(SIMD_PREFIX).u32(SIMD_MEMORY[o]).u32(2).u32(offset);
    return this;
  }
  simdMemLane(o: SimdMemoryLaneOp, lane: number, offset = 0): this {
    this.code.byte(SIMD_PREFIX).u32(SIMD_MEMORY_LANE[o]).u32(2).u32(offset).byte(lane);
    return this;
  }
  lane(o: SimdLaneOp, lane: number): this {
    this.code.byte(SIMD_PREFIX).u32(SIMD_LANE[o]).byte(lane);
    return this;
  }
  /** i8x16.shuffle with 16 lane indices. */
  shuffle(lanes: readonly number[]): this {
    this.code.byte(SIMD_PREFIX).u32(0x0d).bytes(lanes);
    return this;
  }

  // --- structured control flow -------------------------------------------------------------------------
  block(body: () => void, result?: ValType): this {
    this.code.byte(0x02).byte(result ? VALTYPE[result] : 0x40);
    body();
    this.code.byte(0x0b);
    return this;
  }
  loop(body: () => void): this {
    this.code.byte(0x03).byte(0x40);
    body();
    this.code.byte(0x0b);
    return this;
  }
  /** Consumes an i32 condition. */
  if(then: () => void, otherwise?: () => void, result?: ValType): this {
    this.code.byte(0x04).byte(result ? VALTYPE[result] : 0x40);
    then();
    if (otherwise) {
      this.code.byte(0x05);
      otherwise();
    }
    this.code.byte(0x0b);
    return this;
  }
  br(depth: number): this {
    this.code.byte(0x0c).u32(depth);
    return this;
  }
  brIf(depth: number): this {
    this.code.byte(0x0d).u32(depth);
    return this;
  }

  /**
   * `for (i = start; i < end; i += step) body()` on i32 locals. `start` and `end` push one i32 each.
   * Inside `body`, depth 0 is the loop (continue) and depth 1 the enclosing block (break).
   */
  forRange(i: Local<'i32'>, start: () => void, end: Local<'i32'>, step: number, body: () => void): this {
    start();
    this.set(i);
    return this.block(() =>
      this.loop(() => {
        this.get(i).get(end).op('i32_ge_s').brIf(1);
        body();
        this.get(i).i32(step).op('i32_add').set(i);
        this.br(0);
      }),
    );
  }

  /** The function body: locals declaration (run-length encoded), code, `end`. */
  encodeBody(): Uint8Array {
    const w = new ByteWriter();
    const runs: [number, ValType][] = [];
    for (const t of this.extraLocals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    w.u32(runs.length);
    for (const [n, t] of runs) w.u32(n).byte(VALTYPE[t]);
    w.bytes(this.prologue.finish()).bytes(this.code.finish()).byte(0x0b);
    return w.finish();
  }
}

// Value expressions → f32x4 / i32x4 code. Every value is a v128 of four lanes: a vector step computes four
// consecutive elements, a scalar tail computes lane 0 of a splat, so there is one code generator for both.
// Booleans live in registers as lane masks (all ones / zero), which makes `where` a bitselect; they become
// 0/1 bytes only in memory. Nodes used more than once (a DAG built by sharing objects) are computed once.
import type { BinaryOp, LoopDType, SizeExpr, UnaryOp, ValueExpr } from '@kiln/lower';
import { dtypeOf, operands, someNode, type DTypeEnv } from '@kiln/lower';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import type { SimdOp } from '../wasm/opcodes.js';
import type { MathFunction, MathLibrary } from '../math/library.js';
import { CpuCodegenError } from './errors.js';
import { emitFloatFloorDivMod, emitIntFloorDivMod } from './division.js';

export type LaneMode = 'vector' | 'scalar';

/** What an expression reads from its surroundings: loads, loop indices, finished reductions. */
export interface ValueSources {
  load(e: Extract<ValueExpr, { kind: 'load' }>, mode: LaneMode): void;
  /** An indirect load; `position` holds the four int32 positions (lane 0 in scalar mode). */
  gather(e: Extract<ValueExpr, { kind: 'gather' }>, position: Local<'v128'>, mode: LaneMode): void;
  /** A size expression over the kernel's parameters, splatted. */
  size(value: SizeExpr): void;
  /** A float32 parameter (passed as its bit pattern in an i32 slot), splatted. */
  floatParam(param: string): void;
  index(axis: number, mode: LaneMode): void;
  acc(stage: number): void;
}

/** Unary and binary ops that ExprEmitter emits as a math library function (a long polynomial chain). */
const MATH_UNARY: ReadonlySet<UnaryOp> = new Set(['exp', 'log', 'log1p', 'expm1', 'tanh', 'sigmoid', 'erf', 'sin', 'cos']);
const MATH_BINARY: ReadonlySet<BinaryOp> = new Set(['pow', 'atan2']);

/** Whether `e` calls a math library function (exp, log, tanh, …) somewhere. */
export function callsMathFunction(e: ValueExpr): boolean {
  return someNode(e, (n) => (n.kind === 'unary' && MATH_UNARY.has(n.op)) || (n.kind === 'binary' && MATH_BINARY.has(n.op)));
}

export class ExprEmitter {
  /** Whether a value is known to be ≤ 0 or NaN (set by reductions: x minus the max of x); exp is cheaper there. */
  nonPositive: (e: ValueExpr) => boolean = () => false;
  /** Whether a non-positive exp node may give exp·2^25 (set by reductions whose stash allows it: stash.ts). */
  scaledExp: (e: ValueExpr) => boolean = () => false;
  private readonly memo = new Map<ValueExpr, Local<'v128'>>();
  private readonly uses = new Map<ValueExpr, number>();

  constructor(
    private readonly f: FunctionBuilder,
    private readonly math: MathLibrary,
    private readonly env: DTypeEnv,
    roots: readonly ValueExpr[],
  ) {
    const count = (e: ValueExpr): void => {
      const n = (this.uses.get(e) ?? 0) + 1;
      this.uses.set(e, n);
      if (n === 1) operands(e).forEach(count);
    };
    roots.forEach(count);
  }

  private readonly dtypes = new Map<ValueExpr, LoopDType>();

  /** Memoised: `emit` asks at every node, and dtypeOf walks the whole subtree (quadratic otherwise). */
  dtype(e: ValueExpr): LoopDType {
    let d = this.dtypes.get(e);
    if (!d) {
      d = dtypeOf(e, this.env);
      this.dtypes.set(e, d);
    }
    return d;
  }

  /** Starts a new straight-line body (vector step or tail): shared values are recomputed there. */
  resetMemo(): void {
    this.memo.clear();
    this.shared = null;
  }

  /**
   * For unrolled lane groups that share one step (across-outer reductions): values for which `invariant`
   * holds (they do not depend on the group) are computed once and kept until the next `resetMemo`, while
   * this call forgets the group-dependent ones. The caller decides invariance; see `invariantAlong`.
   */
  nextGroup(invariant: (e: ValueExpr) => boolean): void {
    this.shared = invariant;
    for (const e of [...this.memo.keys()]) if (!invariant(e)) this.memo.delete(e);
  }
  private shared: ((e: ValueExpr) => boolean) | null = null;

  emit(e: ValueExpr, src: ValueSources, mode: LaneMode): LoopDType {
    const cached = this.memo.get(e);
    const dtype = this.dtype(e);
    if (cached) {
      this.f.get(cached);
      return dtype;
    }
    this.emitNode(e, src, mode);
    const reused = (this.uses.get(e) ?? 0) > 1 || (this.shared !== null && this.shared(e));
    if (reused && e.kind !== 'const') {
      const l = this.f.local('v128');
      this.f.tee(l);
      this.memo.set(e, l);
    }
    return dtype;
  }

  private emitNode(e: ValueExpr, src: ValueSources, mode: LaneMode): void {
    const f = this.f;
    switch (e.kind) {
      case 'load':
        return src.load(e, mode);
      case 'index':
        return src.index(e.axis, mode);
      case 'size':
        return src.size(e.value);
      case 'floatParam':
        return src.floatParam(e.param);
      case 'gather': {
        this.emit(e.position, src, mode);
        const position = f.local('v128');
        f.set(position);
        return src.gather(e, position, mode);
      }
      case 'acc':
        return src.acc(e.stage);
      case 'const':
        if (e.dtype === 'float32') f.f32x4(e.value);
        else if (e.dtype === 'int32') f.i32x4(e.value | 0);
        else if (e.dtype === 'bool') f.i32x4(e.value ? -1 : 0);
        else this.unsupported(e.dtype);
        return;
      case 'cast':
        return this.emitCast(this.emit(e.x, src, mode), e.dtype);
      case 'unary': {
        const t = this.emit(e.x, src, mode);
        if (e.op === 'exp' && t === 'float32' && this.nonPositive(e.x)) return void this.call(this.scaledExp(e) ? 'expNonPositiveTimes2p25' : 'expNonPositive');
        return this.emitUnary(e.op, t);
      }
      case 'binary': {
        const t = this.emit(e.a, src, mode);
        this.emit(e.b, src, mode);
        return this.emitBinary(e.op, t);
      }
      case 'where':
        this.emit(e.a, src, mode);
        this.emit(e.b, src, mode);
        this.emit(e.cond, src, mode);
        f.simd('v128_bitselect');
        return;
      default:
        e satisfies never;
    }
  }

  private unsupported(what: string): never {
    throw new CpuCodegenError(this.env.kernel, `${what} is not supported by the wasm backend yet`);
  }

  private call(fn: MathFunction): void {
    this.math.emit(this.f, fn);
  }

  private emitCast(from: LoopDType, to: LoopDType): void {
    const f = this.f;
    if (from === to) return;
    if (from === 'float64' || to === 'float64') this.unsupported('float64');
    if (to === 'bool') {
      // nonzero → true; NaN is nonzero, as in PyTorch
      if (from === 'float32') f.f32x4(0).simd('f32x4_ne');
      else f.i32x4(0).simd('i32x4_ne');
      return;
    }
    if (from === 'bool') {
      f.simd('i32x4_neg'); // mask -1 → 1
      if (to === 'float32') f.simd('f32x4_convert_i32x4_s');
      return;
    }
    // float32 ↔ int32: truncation toward zero, saturating (NaN → 0)
    f.simd(to === 'int32' ? 'i32x4_trunc_sat_f32x4_s' : 'f32x4_convert_i32x4_s');
  }

  private emitUnary(op: UnaryOp, t: LoopDType): void {
    const f = this.f;
    if (t === 'float64') this.unsupported('float64');
    if (t === 'int32' || t === 'bool') return this.emitIntUnary(op, t);
    const simple: Partial<Record<UnaryOp, SimdOp>> = {
      neg: 'f32x4_neg', abs: 'f32x4_abs', sqrt: 'f32x4_sqrt', floor: 'f32x4_floor', ceil: 'f32x4_ceil',
      round: 'f32x4_nearest', trunc: 'f32x4_trunc',
    };
    const s = simple[op];
    if (s) return void f.simd(s);
    switch (op) {
      case 'exp': case 'log': case 'log1p': case 'expm1': case 'tanh': case 'sigmoid': case 'erf': case 'sin': case 'cos':
        return this.call(op satisfies MathFunction);
      case 'rsqrt':
        return void this.reciprocal(() => f.simd('f32x4_sqrt'));
      case 'reciprocal':
        return void this.reciprocal(() => {});
      case 'relu':
        // pmax is one maxps; with 0 as its second operand it keeps NaN (x < 0 is false for NaN)
        return void f.f32x4(0).simd('f32x4_pmax');
      case 'sign': {
        // (x > 0) - (x < 0) as floats, NaN and ±0 pass through
        const x = f.local('v128');
        f.set(x);
        f.f32x4(1).f32x4(-1).get(x).f32x4(0).simd('f32x4_gt', 'v128_bitselect');
        f.get(x);
        f.get(x).f32x4(0).simd('f32x4_ne').get(x).get(x).simd('f32x4_eq', 'v128_and', 'v128_bitselect');
        return;
      }
      default:
        return this.unsupported(`${op} on float32`);
    }
  }

  private reciprocal(inner: () => void): void {
    const x = this.f.local('v128');
    this.f.set(x);
    this.f.f32x4(1).get(x);
    inner();
    this.f.simd('f32x4_div');
  }

  private emitIntUnary(op: UnaryOp, t: 'int32' | 'bool'): void {
    const f = this.f;
    if (t === 'bool') {
      if (op === 'not') return void f.simd('v128_not');
      return this.unsupported(`${op} on bool`);
    }
    switch (op) {
      case 'neg': return void f.simd('i32x4_neg');
      case 'abs': return void f.simd('i32x4_abs');
      case 'relu': return void f.i32x4(0).simd('i32x4_max_s');
      case 'floor': case 'ceil': case 'round': case 'trunc': return;
      case 'sign': {
        const x = f.local('v128');
        f.tee(x).i32x4(0).simd('i32x4_gt_s').simd('i32x4_neg'); // 1 where > 0
        f.get(x).i32x4(0).simd('i32x4_lt_s', 'i32x4_add'); // + (-1) where < 0
        return;
      }
      default:
        return this.unsupported(`${op} on int32`);
    }
  }

  private emitBinary(op: BinaryOp, t: LoopDType): void {
    const f = this.f;
    if (t === 'float64') this.unsupported('float64');
    const logic: Partial<Record<BinaryOp, SimdOp>> = { and: 'v128_and', or: 'v128_or', xor: 'v128_xor' };
    if (t === 'float32') {
      const ops: Partial<Record<BinaryOp, SimdOp>> = {
        add: 'f32x4_add', sub: 'f32x4_sub', mul: 'f32x4_mul', div: 'f32x4_div', max: 'f32x4_max', min: 'f32x4_min',
        eq: 'f32x4_eq', ne: 'f32x4_ne', lt: 'f32x4_lt', le: 'f32x4_le', gt: 'f32x4_gt', ge: 'f32x4_ge',
      };
      if (op === 'pow' || op === 'atan2') return this.call(op);
      if (op === 'floordiv' || op === 'mod') return void emitFloatFloorDivMod(f, op);
      const s = ops[op];
      if (!s) return this.unsupported(`${op} on float32`);
      return void f.simd(s);
    }
    if (t === 'bool') {
      const ops: Partial<Record<BinaryOp, SimdOp>> = { ...logic, eq: 'i32x4_eq', ne: 'i32x4_ne' };
      const s = ops[op];
      if (!s) return this.unsupported(`${op} on bool`);
      return void f.simd(s);
    }
    const ops: Partial<Record<BinaryOp, SimdOp>> = {
      ...logic, add: 'i32x4_add', sub: 'i32x4_sub', mul: 'i32x4_mul', max: 'i32x4_max_s', min: 'i32x4_min_s',
      eq: 'i32x4_eq', ne: 'i32x4_ne', lt: 'i32x4_lt_s', le: 'i32x4_le_s', gt: 'i32x4_gt_s', ge: 'i32x4_ge_s',
    };
    if (op === 'floordiv' || op === 'mod') return void emitIntFloorDivMod(f, op);
    const s = ops[op];
    if (!s) return this.unsupported(`${op} on int32`);
    f.simd(s);
  }
}

/** A predicate: does `e` stay the same when only the index of `axis` changes? (Memoised per node.) */
export function invariantAlong(axis: number): (e: ValueExpr) => boolean {
  const seen = new Map<ValueExpr, boolean>();
  const check = (e: ValueExpr): boolean => {
    const hit = seen.get(e);
    if (hit !== undefined) return hit;
    let r: boolean;
    switch (e.kind) {
      case 'load': r = e.access.strides[axis] === 0; break;
      case 'index': r = e.axis !== axis; break;
      case 'const': case 'acc': case 'size': case 'floatParam': r = e.kind !== 'acc'; break;
      case 'gather': r = e.access.strides[axis] === 0 && check(e.position); break;
      case 'unary': case 'cast': r = check(e.x); break;
      case 'binary': r = check(e.a) && check(e.b); break;
      case 'where': r = check(e.cond) && check(e.a) && check(e.b); break;
      default: r = false;
    }
    seen.set(e, r);
    return r;
  };
  return check;
}

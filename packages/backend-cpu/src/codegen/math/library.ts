// Transcendentals have no wasm instruction. Each is a wasm function `(v128) -> v128` (f32x4 lanes),
// added to a module the first time a kernel uses it; scalar tails call the same function on a splat.
// Measured against JS imports (Math.exp per element) in the README: a call out to JS per element costs
// more than the whole polynomial, and cannot be vectorised.
import { FunctionBuilder, type Local } from '../wasm/function.js';
import type { ModuleBuilder } from '../wasm/module.js';
import { emitExp, emitExpNonPositive, emitLog } from './exp-log.js';
import { emitSinCos } from './trig.js';
import { emitErf } from './erf.js';
import { emitAtan2 } from './atan2.js';

export const MATH_FUNCTIONS = ['exp', 'expNonPositive', 'expNonPositiveTimes2p25', 'log', 'log1p', 'expm1', 'tanh', 'sigmoid', 'erf', 'sin', 'cos', 'pow', 'atan2'] as const;
/** Functions of two operands: the second is on top of the stack. */
const BINARY_MATH: ReadonlySet<MathFunction> = new Set(['pow', 'atan2']);
export type MathFunction = (typeof MATH_FUNCTIONS)[number];

export interface MathOptions {
  /**
   * Emit each use inline in the kernel (default) rather than as a call. V8 (Node 20) does not inline wasm
   * calls, and a call spills the caller's live v128 registers: inlining made softmax 1024×1024 about
   * 1.5× faster here (README).
   */
  readonly inline?: boolean;
}

type Emitter = (f: FunctionBuilder, x: Local<'v128'>, y: Local<'v128'> | null, nested: (fn: MathFunction) => void) => void;

const EMITTERS: Record<MathFunction, Emitter> = {
  exp: (f, x) => emitExp(f, x),
  expNonPositive: (f, x) => emitExpNonPositive(f, x),
  expNonPositiveTimes2p25: (f, x) => emitExpNonPositive(f, x, true),
  log: (f, x) => emitLog(f, x),
  sin: (f, x) => emitSinCos(f, x, 'sin'),
  cos: (f, x) => emitSinCos(f, x, 'cos'),
  // erf's exp(-x²) and tanh's exp(-2|x|) never see a positive argument: the cheaper non-positive exp
  erf: (f, x, _y, nested) => emitErf(f, x, () => nested('expNonPositive')),
  tanh: (f, x, _y, nested) => emitTanh(f, x, () => nested('expNonPositive')),
  // 1 / (1 + exp(-x)): exact limits at ±inf, NaN stays NaN. (A non-positive exp with a select for x < 0
  // measured no faster: the select and |x| cost what the cheaper exp saves.)
  sigmoid: (f, x, _y, nested) => {
    f.f32x4(1).f32x4(1).get(x).simd('f32x4_neg');
    nested('exp');
    f.simd('f32x4_add', 'f32x4_div');
  },
  pow: (f, x, y, nested) => emitPow(f, x, y!, () => nested('exp'), () => nested('log')),
  atan2: (f, x, y) => emitAtan2(f, x, y!),
  log1p: (f, x, _y, nested) => emitLog1p(f, x, () => nested('log')),
  expm1: (f, x, _y, nested) => emitExpm1(f, x, () => nested('exp'), () => nested('log')),
};

// log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg): the rounding error of 1 + x cancels, so small
// x keep full relative accuracy; u == 1 means x is below half an ulp of 1 and log1p(x) = x.
function emitLog1p(f: FunctionBuilder, x: Local<'v128'>, log: () => void): void {
  const u = f.local('v128'), d = f.local('v128'), r = f.local('v128');
  f.f32x4(1).get(x).simd('f32x4_add').set(u);
  f.get(u).f32x4(1).simd('f32x4_sub').set(d);
  f.get(u);
  log();
  f.get(x).get(d).simd('f32x4_div', 'f32x4_mul').set(r);
  f.get(x).get(r).get(d).f32x4(0).simd('f32x4_eq', 'v128_bitselect').set(r);
  f.f32x4(Infinity).get(r).get(x).f32x4(Infinity).simd('f32x4_eq', 'v128_bitselect'); // inf/inf above
}

// expm1(x) = (u - 1) * x / log(u) with u = exp(x) (Kahan), exact limits: u == 1 → x, u == 0 → -1, u == inf → inf.
function emitExpm1(f: FunctionBuilder, x: Local<'v128'>, exp: () => void, log: () => void): void {
  const u = f.local('v128'), um1 = f.local('v128'), r = f.local('v128');
  f.get(x);
  exp();
  f.set(u);
  f.get(u).f32x4(1).simd('f32x4_sub').set(um1);
  f.get(um1).get(x).get(u);
  log();
  f.simd('f32x4_div', 'f32x4_mul').set(r);
  f.get(x).get(r).get(um1).f32x4(0).simd('f32x4_eq', 'v128_bitselect').set(r);
  f.f32x4(-1).get(r).get(um1).f32x4(-1).simd('f32x4_eq', 'v128_bitselect').set(r);
  f.f32x4(Infinity).get(r).get(u).f32x4(Infinity).simd('f32x4_eq', 'v128_bitselect');
}

export class MathLibrary {
  private readonly indices = new Map<MathFunction, number>();
  constructor(
    private readonly module: ModuleBuilder,
    private readonly options: MathOptions = {},
  ) {}

  /** Emits `fn` applied to the v128 operand(s) on the stack of `f`, leaving the v128 result. */
  emit(f: FunctionBuilder, fn: MathFunction): void {
    if (this.options.inline === false) {
      f.call(this.index(fn));
      return;
    }
    const y = BINARY_MATH.has(fn) ? f.local('v128') : null;
    if (y) f.set(y);
    const x = f.local('v128');
    f.set(x);
    EMITTERS[fn](f, x, y, (inner) => this.emit(f, inner));
  }

  /** The function index of `fn` as a separate wasm function, emitting it on first use. */
  index(fn: MathFunction): number {
    const known = this.indices.get(fn);
    if (known !== undefined) return known;
    const binary = BINARY_MATH.has(fn);
    const f = new FunctionBuilder(`math_${fn}`, binary ? ['v128', 'v128'] : ['v128'], ['v128']);
    const nested = (inner: MathFunction) => f.call(this.index(inner));
    EMITTERS[fn](f, f.params[0] as Local<'v128'>, binary ? (f.params[1] as Local<'v128'>) : null, nested);
    const index = this.module.addFunction(f);
    this.indices.set(fn, index);
    return index;
  }
}

/** Horner's rule on the value in `z`: pushes c[0]*z^n + … + c[n]. */
export function horner(f: FunctionBuilder, z: Local<'v128'>, coefficients: readonly number[]): void {
  f.f32x4(coefficients[0]!);
  for (const c of coefficients.slice(1)) f.get(z).simd('f32x4_mul').f32x4(c).simd('f32x4_add');
}

// tanh: odd polynomial below 0.625 (relative accuracy near 0), (1 - t)/(1 + t) with t = exp(-2|x|) above
// (never overflows), sign restored.
function emitTanh(f: FunctionBuilder, x: Local<'v128'>, exp: () => void): void {
  const ax = f.local('v128');
  const z = f.local('v128');
  const small = f.local('v128');
  f.get(x).simd('f32x4_abs').set(ax);
  f.get(x).get(x).simd('f32x4_mul').set(z);
  // small = x + x*z*P(z)
  horner(f, z, [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]);
  f.get(z).simd('f32x4_mul').get(x).simd('f32x4_mul').get(x).simd('f32x4_add').set(small);
  // large = (1 - t) / (1 + t) with t = exp(-2|x|) ≤ 1, with the sign of x
  const t = f.local('v128');
  f.get(ax).get(ax).simd('f32x4_add', 'f32x4_neg');
  exp();
  f.set(t);
  f.f32x4(1).get(t).simd('f32x4_sub').f32x4(1).get(t).simd('f32x4_add', 'f32x4_div');
  f.get(x).f32x4(-0).simd('v128_and', 'v128_or'); // copy the sign bit of x
  // select: |x| < 0.625 ? small : large (NaN fails the test and takes `large`, which is NaN too)
  const large = f.local('v128');
  f.set(large);
  f.get(small).get(large).get(ax).f32x4(0.625).simd('f32x4_lt', 'v128_bitselect');
}

// pow(a, b) = exp(b * log|a|), with the special cases of eager's Math.pow (ECMAScript, which differs from C99
// for a == ±1): b == 0 → 1; a == 1 → 1 for finite b only (1^NaN and 1^±Inf are NaN, as exp(NaN·0) gives);
// negative a with integral b takes the sign of (-1)^b; negative finite a with fractional b is NaN, while
// (-Inf)^b for fractional b is +Inf or +0 like Inf^b.
function emitPow(f: FunctionBuilder, a: Local<'v128'>, b: Local<'v128'>, exp: () => void, log: () => void): void {
  const r = f.local('v128');
  const bInt = f.local('v128');
  f.get(a).simd('f32x4_abs');
  log();
  f.get(b).simd('f32x4_mul');
  exp();
  f.set(r);
  f.get(b).simd('f32x4_trunc').get(b).simd('f32x4_eq').set(bInt);
  // odd b: integral and trunc(b/2)*2 != b; sign bit where a < 0 and b odd
  f.get(r);
  f.get(b).f32x4(0.5).simd('f32x4_mul', 'f32x4_trunc').f32x4(2).simd('f32x4_mul').get(b).simd('f32x4_ne').get(bInt).simd('v128_and');
  f.get(a).f32x4(0).simd('f32x4_lt', 'v128_and').f32x4(-0).simd('v128_and', 'v128_xor').set(r);
  // NaN where a < 0 (not -Inf) and b is not integral
  f.f32x4(NaN).get(r).get(a).f32x4(0).simd('f32x4_lt').get(a).f32x4(-Infinity).simd('f32x4_ne', 'v128_and');
  f.get(bInt).simd('v128_andnot', 'v128_bitselect').set(r);
  // 1 where b == 0, or a == 1 and b is finite (b - b == 0)
  f.f32x4(1).get(r).get(b).f32x4(0).simd('f32x4_eq').get(a).f32x4(1).simd('f32x4_eq');
  f.get(b).get(b).simd('f32x4_sub').f32x4(0).simd('f32x4_eq', 'v128_and', 'v128_or', 'v128_bitselect');
}

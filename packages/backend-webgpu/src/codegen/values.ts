// Value and size expressions of the loop IR → WGSL. Every expression node becomes one `let` in the kernel
// body, so a node shared by several uses (lowering builds DAGs) is computed once, and the generated text
// stays linear in the size of the DAG. Nothing user-controlled reaches the text: buffers are bound by
// position (`b3`), parameters by slot (`P[2]`), and numbers are printed from their float32 bits.
import type { BinaryOp, DTypeEnv, LoopDType, SizeExpr, UnaryOp, ValueExpr } from '@kiln/lower';
import { dtypeOf, operands } from '@kiln/lower';
import { WebGpuCodegenError } from './errors.js';
import type { Prelude } from './prelude.js';

/** WGSL register type of a loop-IR dtype. Booleans are `bool` in registers and `i32` (0/1) in memory. */
export function wgslType(d: LoopDType, kernel: string): 'f32' | 'i32' | 'bool' {
  if (d === 'float32') return 'f32';
  if (d === 'int32') return 'i32';
  if (d === 'bool') return 'bool';
  throw new WebGpuCodegenError(kernel, `${d} is not computed by the WebGPU backend (WGSL has no 64-bit floats)`);
}

/** Element type of a storage buffer holding `d`. */
export function storageType(d: LoopDType, kernel: string): 'f32' | 'i32' {
  return wgslType(d, kernel) === 'f32' ? 'f32' : 'i32';
}

/**
 * A float32 constant, exact: small integers as decimals, other finite values from their bits. WGSL folds
 * constant expressions and rejects infinities and NaN there, so those read a module-scope variable that
 * the prelude declares (a run-time value).
 */
export function f32Literal(v: number, prelude: Prelude): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return `bitcast<f32>(${prelude.use('kiln_nan_bits')})`;
  if (f === Infinity) return `bitcast<f32>(${prelude.use('kiln_inf_bits')})`;
  if (f === -Infinity) return `-bitcast<f32>(${prelude.use('kiln_inf_bits')})`;
  if (Number.isInteger(f) && Math.abs(f) < 2 ** 24 && !Object.is(f, -0)) return `${f}.0`;
  const bits = new Uint32Array(new Float32Array([f]).buffer)[0]!;
  return `bitcast<f32>(0x${bits.toString(16)}u)`;
}

export function i32Literal(v: number): string {
  return `i32(${v | 0})`;
}

/** Where the names a kernel body refers to come from: a buffer's binding, a parameter's slot. */
export interface Bindings {
  buffer(name: string): { readonly id: string; readonly dtype: LoopDType };
  param(name: string): number;
  /** A statement flagging the call for an eager recompute when `condition` holds (ShaderFrame.flagIf). */
  flagIf(condition: string): string;
}

/**
 * sin and cos beyond this |x| flag the call for an eager recompute: WGSL promises their accuracy only on
 * [-π, π] and implementations reduce the argument in float32, which loses every digit by here; the CPU
 * backend's limit is the same.
 */
export const SIN_COS_LIMIT = 1e5;

/** A size expression as i32 WGSL over the parameter array `P`. Python-style floor division and modulo. */
export function sizeText(e: SizeExpr, b: Bindings, prelude: Prelude): string {
  if (typeof e === 'number') return i32Literal(e);
  if ('param' in e) return `P[${b.param(e.param)}]`;
  const [x, y] = [sizeText(e.a, b, prelude), sizeText(e.b, b, prelude)];
  switch (e.op) {
    case 'add': return `(${x} + ${y})`;
    case 'sub': return `(${x} - ${y})`;
    case 'mul': return `(${x} * ${y})`;
    case 'max': return `max(${x}, ${y})`;
    case 'min': return `min(${x}, ${y})`;
    case 'floordiv': return `${prelude.use('kiln_idiv')}(${x}, ${y})`;
    case 'mod': return `${prelude.use('kiln_imod')}(${x}, ${y})`;
    default: return e.op satisfies never;
  }
}

/** What an expression reads that depends on the kernel's shape: loop indices, finished reductions, element addresses. */
export interface ValueSources {
  /** The element address of a load or gather base (an i32 WGSL expression). */
  address(access: Extract<ValueExpr, { kind: 'load' }>['access']): string;
  index(axis: number): string;
  acc(stage: number): string;
}

export class ValueWriter {
  readonly lines: string[] = [];
  private readonly names = new Map<ValueExpr, string>();
  private readonly dtypes = new Map<ValueExpr, LoopDType>();
  private counter = 0;

  constructor(
    private readonly env: DTypeEnv,
    private readonly bind: Bindings,
    private readonly prelude: Prelude,
    private readonly src: ValueSources,
    private readonly prefix = 'v',
  ) {}

  dtype(e: ValueExpr): LoopDType {
    let d = this.dtypes.get(e);
    if (!d) this.dtypes.set(e, (d = dtypeOf(e, this.env)));
    return d;
  }

  /** Emits `let`s for `e` and returns the name (or literal) that holds its value. */
  value(e: ValueExpr): string {
    const hit = this.names.get(e);
    if (hit) return hit;
    for (const o of operands(e)) this.value(o);
    const text = this.node(e);
    if (e.kind === 'const') {
      this.names.set(e, text);
      return text;
    }
    const name = `${this.prefix}${this.counter++}`;
    this.lines.push(`let ${name}: ${wgslType(this.dtype(e), this.env.kernel)} = ${text};`);
    this.names.set(e, name);
    return name;
  }

  /** Forgets computed values (a new scope: a loop body whose loads differ per iteration). */
  reset(): void {
    this.names.clear();
  }

  private node(e: ValueExpr): string {
    const v = (x: ValueExpr) => this.names.get(x)!;
    switch (e.kind) {
      case 'load': {
        const buf = this.bind.buffer(e.buffer);
        return this.fromStorage(`${buf.id}[${this.src.address(e.access)}]`, buf.dtype);
      }
      case 'gather': {
        const buf = this.bind.buffer(e.buffer);
        const at = `${this.src.address(e.access)} + ${v(e.position)} * ${sizeText(e.stride, this.bind, this.prelude)}`;
        return this.fromStorage(`${buf.id}[${at}]`, buf.dtype);
      }
      case 'const':
        if (e.dtype === 'float32') return f32Literal(e.value, this.prelude);
        if (e.dtype === 'int32') return i32Literal(e.value);
        if (e.dtype === 'bool') return e.value ? 'true' : 'false';
        return wgslType(e.dtype, this.env.kernel);
      case 'index': return this.src.index(e.axis);
      case 'size': return sizeText(e.value, this.bind, this.prelude);
      case 'floatParam': return `bitcast<f32>(P[${this.bind.param(e.param)}])`;
      case 'acc': return this.src.acc(e.stage);
      case 'cast': return this.cast(v(e.x), this.dtype(e.x), e.dtype);
      case 'unary': return this.unary(e.op, v(e.x), this.dtype(e.x));
      case 'binary': return this.binary(e.op, v(e.a), v(e.b), this.dtype(e.a));
      case 'where': return `select(${v(e.b)}, ${v(e.a)}, ${v(e.cond)})`;
      default: return e satisfies never;
    }
  }

  private fromStorage(text: string, d: LoopDType): string {
    return d === 'bool' ? `(${text} != 0)` : text;
  }

  private cast(x: string, from: LoopDType, to: LoopDType): string {
    if (from === to) return x;
    wgslType(from, this.env.kernel);
    if (to === 'bool') return from === 'float32' ? `(${x} != 0.0)` : `(${x} != 0)`; // NaN is nonzero
    if (from === 'bool') return to === 'float32' ? `select(0.0, 1.0, ${x})` : `select(0, 1, ${x})`;
    // float32 → int32 truncates toward zero and saturates, NaN → 0, as the eager cast does
    return to === 'int32' ? `${this.prelude.use('kiln_f2i')}(${x})` : `f32(${x})`;
  }

  private unary(op: UnaryOp, x: string, t: LoopDType): string {
    const p = this.prelude;
    if (t === 'bool') {
      if (op === 'not') return `!${x}`;
      return this.unsupported(`${op} on bool`);
    }
    if (t === 'int32') {
      switch (op) {
        case 'neg': return `-${x}`;
        case 'abs': return `abs(${x})`;
        case 'relu': return `max(${x}, 0)`;
        case 'sign': return `sign(${x})`;
        case 'floor': case 'ceil': case 'round': case 'trunc': return x;
        default: return this.unsupported(`${op} on int32`);
      }
    }
    wgslType(t, this.env.kernel);
    switch (op) {
      case 'neg': return `-${x}`;
      case 'abs': return `abs(${x})`;
      case 'sqrt': return `sqrt(${x})`;
      case 'rsqrt': return `${p.use('kiln_fdiv')}(1.0, sqrt(${x}))`;
      case 'reciprocal': return `${p.use('kiln_fdiv')}(1.0, ${x})`;
      case 'floor': return `floor(${x})`;
      case 'ceil': return `ceil(${x})`;
      case 'round': return `round(${x})`; // ties to even, as PyTorch
      case 'trunc': return `trunc(${x})`;
      // x < 0 is false for NaN, so NaN passes through as in eager
      case 'relu': return `select(${x}, 0.0, ${x} < 0.0)`;
      case 'sign': return `select(select(${x}, -1.0, ${x} < 0.0), 1.0, ${x} > 0.0)`;
      case 'exp': return `exp(${x})`;
      case 'log': return `log(${x})`;
      case 'sin': case 'cos':
        this.lines.push(this.bind.flagIf(`abs(${x}) > ${SIN_COS_LIMIT.toFixed(1)}`));
        return `${op}(${x})`;
      case 'sigmoid': return `(1.0 / (1.0 + exp(-${x})))`;
      case 'tanh': return `${p.use('kiln_tanh')}(${x})`;
      case 'erf': return `${p.use('kiln_erf')}(${x})`;
      case 'log1p': return `${p.use('kiln_log1p')}(${x})`;
      case 'expm1': return `${p.use('kiln_expm1')}(${x})`;
      case 'not': return this.unsupported('not on float32');
      default: return op satisfies never;
    }
  }

  private binary(op: BinaryOp, a: string, b: string, t: LoopDType): string {
    const p = this.prelude;
    // Shader compilers may evaluate float `!=` as an ordered comparison (lavapipe does: NaN != x gave
    // false); IEEE and eager say true, so NaN is tested on the bits.
    if (op === 'ne' && t === 'float32') return `(${a} != ${b} || ${p.use('kiln_isnan')}(${a}) || ${p.use('kiln_isnan')}(${b}))`;
    const cmp: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
    if (cmp[op]) return `(${a} ${cmp[op]} ${b})`;
    if (t === 'bool') {
      if (op === 'and') return `(${a} && ${b})`;
      if (op === 'or') return `(${a} || ${b})`;
      if (op === 'xor') return `(${a} != ${b})`;
      return this.unsupported(`${op} on bool`);
    }
    if (t === 'int32') {
      switch (op) {
        case 'add': return `(${a} + ${b})`;
        case 'sub': return `(${a} - ${b})`;
        case 'mul': return `(${a} * ${b})`;
        case 'max': return `max(${a}, ${b})`;
        case 'min': return `min(${a}, ${b})`;
        case 'and': return `(${a} & ${b})`;
        case 'or': return `(${a} | ${b})`;
        case 'xor': return `(${a} ^ ${b})`;
        case 'floordiv': return `${p.use('kiln_idiv')}(${a}, ${b})`;
        case 'mod': return `${p.use('kiln_imod')}(${a}, ${b})`;
        default: return this.unsupported(`${op} on int32`);
      }
    }
    wgslType(t, this.env.kernel);
    switch (op) {
      case 'add': return `(${a} + ${b})`;
      case 'sub': return `(${a} - ${b})`;
      case 'mul': return `(${a} * ${b})`;
      case 'div': return `${p.use('kiln_fdiv')}(${a}, ${b})`;
      case 'max': return `${p.use('kiln_fmax')}(${a}, ${b})`;
      case 'min': return `${p.use('kiln_fmin')}(${a}, ${b})`;
      case 'pow': return `${p.use('kiln_pow')}(${a}, ${b})`;
      case 'atan2': return `atan2(${a}, ${b})`;
      case 'floordiv': return `floor(${p.use('kiln_fdiv')}(${a}, ${b}))`;
      case 'mod': return `${p.use('kiln_fmod')}(${a}, ${b})`;
      default: return this.unsupported(`${op} on float32`);
    }
  }

  private unsupported(what: string): never {
    throw new WebGpuCodegenError(this.env.kernel, `${what} is not supported by the WebGPU code generator`);
  }
}

// Dtype inference for value expressions. The IR carries no per-node dtype: it follows from the buffers'
// declarations and the ops, which keeps hand-built kernels short and impossible to annotate inconsistently.
import { LoopIRError } from './errors.js';
import { COMPARISON_OPS, type BufferDecl, type LoopDType, type ValueExpr } from './loop-ir.js';

export interface DTypeEnv {
  readonly kernel: string;
  readonly buffers: ReadonlyMap<string, BufferDecl>;
  /** Dtype of each `acc` stage visible to the expression. */
  readonly accs: readonly LoopDType[];
}

const FLOAT_ONLY = new Set(['sqrt', 'rsqrt', 'reciprocal', 'exp', 'log', 'log1p', 'expm1', 'tanh', 'sigmoid', 'erf', 'sin', 'cos', 'pow', 'atan2', 'div']);

export function dtypeOf(e: ValueExpr, env: DTypeEnv): LoopDType {
  switch (e.kind) {
    case 'load': {
      const b = env.buffers.get(e.buffer);
      if (!b) throw new LoopIRError(env.kernel, `load from unknown buffer '${e.buffer}'`, 'declare it in inputs');
      return b.dtype;
    }
    case 'gather': {
      const b = env.buffers.get(e.buffer);
      if (!b) throw new LoopIRError(env.kernel, `gather from unknown buffer '${e.buffer}'`, 'declare it in inputs');
      if (dtypeOf(e.position, env) !== 'int32') throw new LoopIRError(env.kernel, `gather position must be int32`, 'cast the index to int32');
      return b.dtype;
    }
    case 'const':
      return e.dtype;
    case 'index':
    case 'size':
      return 'int32';
    case 'floatParam':
      return 'float32';
    case 'acc': {
      const d = env.accs[e.stage];
      if (!d) throw new LoopIRError(env.kernel, `acc ${e.stage} is not available here`);
      return d;
    }
    case 'cast':
      dtypeOf(e.x, env);
      return e.dtype;
    case 'unary': {
      const x = dtypeOf(e.x, env);
      if (e.op === 'not') return expectSame(env, 'not', x, 'bool');
      if (FLOAT_ONLY.has(e.op) && x !== 'float32' && x !== 'float64') {
        throw new LoopIRError(env.kernel, `${e.op} needs a float operand, got ${x}`, `cast to float32 first`);
      }
      return x;
    }
    case 'binary': {
      const a = dtypeOf(e.a, env);
      const b = dtypeOf(e.b, env);
      if (a !== b) throw new LoopIRError(env.kernel, `${e.op} mixes ${a} and ${b}`, 'insert a cast: the IR never promotes implicitly');
      if (FLOAT_ONLY.has(e.op) && a !== 'float32' && a !== 'float64') {
        throw new LoopIRError(env.kernel, `${e.op} needs float operands, got ${a}`, 'cast to float32 first');
      }
      return COMPARISON_OPS.has(e.op) ? 'bool' : a;
    }
    case 'where': {
      expectSame(env, 'where condition', dtypeOf(e.cond, env), 'bool');
      const a = dtypeOf(e.a, env);
      return expectSame(env, 'where branches', dtypeOf(e.b, env), a);
    }
    default:
      return e satisfies never;
  }
}

function expectSame(env: DTypeEnv, what: string, got: LoopDType, want: LoopDType): LoopDType {
  if (got !== want) throw new LoopIRError(env.kernel, `${what}: expected ${want}, got ${got}`);
  return got;
}

export function bufferMap(...lists: readonly (readonly BufferDecl[])[]): Map<string, BufferDecl> {
  const m = new Map<string, BufferDecl>();
  for (const list of lists) for (const b of list) m.set(b.name, b);
  return m;
}

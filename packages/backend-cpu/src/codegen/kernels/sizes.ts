// Emits size expressions as i32 code over the kernel's parameter locals.
import type { SizeExpr, SizeOp } from '@kiln/lower';
import type { FunctionBuilder, Local } from '../wasm/function.js';

const OPS: Record<Exclude<SizeOp, 'floordiv' | 'mod' | 'max' | 'min'>, 'i32_add' | 'i32_sub' | 'i32_mul'> = {
  add: 'i32_add',
  sub: 'i32_sub',
  mul: 'i32_mul',
};

export function emitSize(f: FunctionBuilder, e: SizeExpr, params: ReadonlyMap<string, Local<'i32'>>): void {
  if (typeof e === 'number') {
    f.i32(e);
    return;
  }
  if ('param' in e) {
    f.get(params.get(e.param)!);
    return;
  }
  emitSize(f, e.a, params);
  emitSize(f, e.b, params);
  switch (e.op) {
    case 'add':
    case 'sub':
    case 'mul':
      f.op(OPS[e.op]);
      return;
    case 'floordiv':
    case 'mod': {
      // Sizes are non-negative in practice; floor semantics for negatives would need a fix-up. We use
      // truncating division, which agrees for non-negative operands.
      f.op(e.op === 'floordiv' ? 'i32_div_s' : 'i32_rem_s');
      return;
    }
    case 'max':
    case 'min': {
      const a = f.local('i32');
      const b = f.local('i32');
      f.set(b).set(a);
      f.get(a).get(b).get(a).get(b).op(e.op === 'max' ? 'i32_gt_s' : 'i32_lt_s').op('select');
      return;
    }
    default:
      e.op satisfies never;
  }
}

/** A size that is a compile-time integer, or undefined. */
export function constSize(e: SizeExpr): number | undefined {
  return typeof e === 'number' ? e : undefined;
}

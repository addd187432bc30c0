// Symbolic sizes from @kiln/shapes (SymInt) as loop-IR size expressions over named kernel parameters.
import { expr as shapesExpr } from '@kiln/shapes';
import type { ExprJson } from '@kiln/shapes';
import { LoweringError } from './errors.js';
import type { SizeExpr } from '../loop-ir/loop-ir.js';
import { sizeOp, sizeParam } from '../loop-ir/sizes.js';

type AtomJson = { sym: string } | { nested: number } | { call: string; args: ExprJson[] };

/** A size expression as @kiln/shapes serializes it (ExprJson) → the loop IR's SizeExpr. */
export function sizeFromExprJson(j: ExprJson): SizeExpr {
  if (typeof j === 'number') return j;
  let total: SizeExpr = j.constant;
  for (const [coeff, factors] of j.terms) {
    let term: SizeExpr = coeff;
    for (const [atom, power] of factors as [AtomJson, number][]) {
      const a = fromAtom(atom);
      for (let p = 0; p < power; p++) term = sizeOp('mul', term, a);
    }
    total = sizeOp('add', total, term);
  }
  return total;
}

const CALLS: Record<string, 'floordiv' | 'mod' | 'min' | 'max'> = { FloorDiv: 'floordiv', Mod: 'mod', Min: 'min', Max: 'max' };

function fromAtom(atom: AtomJson): SizeExpr {
  if ('sym' in atom) {
    // Backed symbols (s0) are bound from input shapes; unbacked ones (u0) by the fallback step that
    // computes them (nonzero, item). Both are kernel parameters.
    if (!/^[su]\d+$/.test(atom.sym)) throw new LoweringError(`size symbol ${atom.sym} is not lowered`);
    return sizeParam(atom.sym);
  }
  if ('nested' in atom) throw new LoweringError('ragged (nested int) sizes are not lowered');
  const op = CALLS[atom.call];
  if (!op || atom.args.length !== 2) throw new LoweringError(`size function ${atom.call} is not lowered`);
  return sizeOp(op, sizeFromExprJson(atom.args[0]!), sizeFromExprJson(atom.args[1]!));
}

/** A number stays a number; a SymInt becomes an expression over parameters named after its symbols. */
export function toSizeExpr(size: unknown): SizeExpr {
  if (typeof size === 'number') return size;
  if (typeof size === 'object' && size !== null && 'isSymInt' in size) {
    return sizeFromExprJson(shapesExpr.exprToJson((size as unknown as { expr: Parameters<typeof shapesExpr.exprToJson>[0] }).expr));
  }
  throw new LoweringError(`expected a size, got ${String(size)}`);
}

/** The parameter name when `size` is exactly one backed symbol (`s0`), else undefined. */
export function bareSymbol(size: unknown): string | undefined {
  const e = toSizeExpr(size);
  return typeof e === 'object' && 'param' in e ? e.param : undefined;
}

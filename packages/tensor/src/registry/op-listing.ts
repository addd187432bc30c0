// The registry read as a table: one row per op for the policy audit, `kiln ops` and the README's op table,
// and how autograd differentiates each op.
import type { OpDef } from './op-types.js';
import { allOps } from './registry.js';
import { formatSchema } from './schema.js';

/** One row per op, for the policy audit and `kiln ops`. */
export function listOps() {
  return allOps().map((op) => ({
    name: op.name,
    schema: formatSchema(op.name, op.schema),
    category: op.category,
    method: op.method,
    publicFunction: op.publicFunction,
    hasMeta: op.meta !== undefined,
    hasKernel: op.kernel !== undefined,
    hasDecomposition: op.decompose !== undefined,
    hasFormula: op.formula !== undefined,
    isCore: op.isCore,
    mutatesSelf: op.mutatesSelf,
    random: op.random,
    dataDependent: op.dataDependent,
    view: op.view,
    derivative: derivativeKind(op),
  }));
}

/** How autograd differentiates an op: its own formula, through its decomposition, not at all, or it cannot. */
export type DerivativeKind = 'formula' | 'decomposition' | 'nonDifferentiable' | 'missing';

const TENSOR_ARG_TYPES = new Set(['Tensor', 'Tensor?', 'TensorOrScalar', 'Tensor[]']);

export function derivativeKind(op: OpDef): DerivativeKind {
  const takesTensor = [...op.schema.positional, ...op.schema.keywordOnly].some((a) => TENSOR_ARG_TYPES.has(a.type));
  if (op.derivative === 'nonDifferentiable' || !takesTensor) return 'nonDifferentiable';
  if (op.derivative) return 'formula';
  return op.decompose ? 'decomposition' : 'missing';
}

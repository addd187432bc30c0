// The tracer asks the policy about every call. Until @kiln/policy exports `decide`, this adapter applies
// the same default rules: tensor API functions and Tensor methods go into the graph; user functions are
// inlined; library code (node_modules, node:*), the tensor package's other functions and unknown natives
// are skipped. The decision and its reason are recorded for `explain`.
import { Tensor, allOps } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
import { parseFunction, isNativeFunction } from './functions.js';

export type PolicyKind = 'inline' | 'skip' | 'allowInGraph';

export interface PolicyDecision {
  readonly kind: PolicyKind;
  readonly rule: string;
  readonly reason: string;
  /** For allowInGraph: the op it records. */
  readonly op?: OpDef;
}

let opByFunction: Map<Function, OpDef> | undefined;
let opByMethod: Map<Function, OpDef> | undefined;

function tables(): { fns: Map<Function, OpDef>; methods: Map<Function, OpDef> } {
  if (!opByFunction || !opByMethod) {
    opByFunction = new Map();
    opByMethod = new Map();
    for (const op of allOps()) {
      opByFunction.set(op.fn, op);
      const method = op.method ? (Tensor.prototype as unknown as Record<string, unknown>)[op.name] : undefined;
      if (typeof method === 'function') opByMethod.set(method, op);
    }
  }
  return { fns: opByFunction, methods: opByMethod };
}

const tensorPackage = /\/packages\/tensor\/|@kiln\/tensor/;

export function decideCall(fn: Function): PolicyDecision {
  const { fns, methods } = tables();
  const op = fns.get(fn) ?? methods.get(fn);
  if (op) {
    if (op.mutatesSelf) return { kind: 'skip', rule: 'builtin:inplace', reason: `'${op.name}' mutates its input in place` };
    if (op.dataDependent) return { kind: 'skip', rule: 'builtin:data-dependent', reason: `'${op.name}' reads tensor values (data-dependent)` };
    return { kind: 'allowInGraph', rule: `builtin:tensor-api:${op.name}`, reason: `public tensor op '${op.name}'`, op };
  }
  if (isNativeFunction(fn)) return { kind: 'skip', rule: 'builtin:native', reason: `native function '${fn.name || 'anonymous'}' has no traceable source` };
  const parsed = parseFunction(fn);
  if (!parsed) return { kind: 'skip', rule: 'builtin:unparsable', reason: `the source of '${fn.name || 'anonymous'}' cannot be parsed` };
  if (parsed.info.isLibrary) return { kind: 'skip', rule: 'builtin:library', reason: `'${fn.name || 'anonymous'}' is library code (${parsed.info.url.split('/').slice(-2).join('/')})` };
  if (tensorPackage.test(parsed.info.url)) return { kind: 'skip', rule: 'builtin:tensor-internal', reason: `'${fn.name}' is tensor-library code that is not an op` };
  return { kind: 'inline', rule: 'builtin:user-code', reason: 'user code is inlined' };
}

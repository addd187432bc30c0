import { getOp } from '@kiln/tensor';
import { Overrides } from '../overrides.js';
import type { TableRule } from '../rules/table.js';
import { builtinFunctionTable, resolveTable } from '../rules/table.js';
import type { ApiSources } from './api.js';
import { enumerateTensorApi, liveApiSources } from './api.js';

export interface MissingEntries {
  /** Lines to paste into TENSOR_ALLOWLIST (rules/allowlist.ts). */
  readonly allowlist: readonly string[];
  /** Lines to paste into TENSOR_API_RULES (rules/tensor-api.ts), after choosing inline or skip. */
  readonly tensorApi: readonly string[];
  /** Rules that name nothing any more: delete them. */
  readonly stale: readonly string[];
}

/**
 * What the tables lack, as source lines for a human to paste (and review: the effect of each op is read
 * from its registry flags, and non-op functions need a decision). Nothing is added at run time.
 */
export function missingEntries(sources: ApiSources = liveApiSources(), rules: readonly TableRule[] = builtinFunctionTable()): MissingEntries {
  const table = resolveTable(rules, { '@kiln/tensor': sources.tensorExports });
  const overrides = new Overrides();
  const allowlist: string[] = [];
  const tensorApi: string[] = [];
  for (const a of enumerateTensorApi(sources)) {
    if (table.byFunction.has(a.fn) || overrides.functionRules(a.fn)) continue;
    const key = a.name.slice(a.name.lastIndexOf('.') + 1).replace(/^.*#/, '');
    const fnOp = (a.fn as { op?: { name: string } }).op;
    const op = fnOp ? getOp(fnOp.name) : a.where === 'method' ? getOp(key) : undefined;
    if (op && (fnOp || op.method)) {
      const effect = op.random ? ", 'rng'" : op.mutatesSelf ? ", 'mutates-input'" : '';
      allowlist.push(`${fnOp ? 'fn' : 'method'}('${op.name}'${effect}),  // ${op.category}`);
    } else {
      const path = a.name.slice('@kiln/tensor#'.length);
      tensorApi.push(`skip('${path}', 'TODO: say why, or make it inline(...) if it is a pure helper'),`);
    }
  }
  return { allowlist, tensorApi, stale: table.unresolved.map((u) => `${u.rule.name}  (${u.rule.origin}: ${u.why})`) };
}

import { derivativeKind, getOp } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
import type { AnyFunction } from '../frame.js';
import { Overrides } from '../overrides.js';
import type { ModuleTable } from '../qualified.js';
import { BUILTIN_MODULES, resolveQualifiedName } from '../qualified.js';
import { MATH_ALLOWLIST } from '../rules/math.js';
import type { MathEntry } from '../rules/math.js';
import type { TableRule } from '../rules/table.js';
import { builtinFunctionTable, resolveTable } from '../rules/table.js';
import type { ApiSources } from './api.js';
import { enumerateTensorApi, liveApiSources } from './api.js';
import { checkDecomposition, checkFake, checkMathEntry, checkPurity } from './op-checks.js';
import type { FakeCheck } from './op-checks.js';
import { checkAllowlistOps, checkCoverage, checkDuplicatesAndConflicts, checkModuleOverrides, checkPolyfills, checkStaleRules } from './rule-checks.js';
import { samplesFor } from './samples.js';
import type { AuditReport, BackendCoverage, CheckResult, Finding, FunctionRow, Lowering, LoweringOverride, MathRow, PurityResult } from './types.js';
import { statusOf } from './types.js';

/**
 * A backend's lowering table as the audit reads it: the op names it lowers directly, as a list or through
 * core's `Backend.loweredOps()` (so a registered backend can be passed as it is).
 */
export type BackendLoweringTable = (
  | { readonly name: string; readonly ops: Iterable<string> }
  | { readonly name: string; loweredOps?(): Iterable<string> }
) & {
  /** The plugins' per-op lowering hook on this backend (core's compiler lists them): they win over the table. */
  readonly overrides?: readonly LoweringOverride[];
};

const loweredBy = (b: BackendLoweringTable): Iterable<string> => ('ops' in b ? b.ops : b.loweredOps?.() ?? []);

export interface AuditOptions {
  /** The public API to classify (default: the live `@kiln/tensor` exports and `Tensor.prototype`). */
  readonly sources?: ApiSources;
  /** The per-function table (default: the built-in one). */
  readonly table?: readonly TableRule[];
  /** User overrides to audit along (from the config). */
  readonly overrides?: Overrides;
  /** One lowering table per registered backend; empty until backends land. */
  readonly backends?: readonly BackendLoweringTable[];
  readonly math?: readonly MathEntry[];
  /** Where installed packages are looked for when checking user module rules (default: the cwd). */
  readonly root?: string;
}

const check = (id: string, title: string, findings: Finding[]): CheckResult => ({ id, title, status: statusOf(findings), findings });

interface OpAudit {
  fake: FakeCheck;
  coreOps: string[];
  decompositionFinding?: Finding;
}

/** Per op: fake-tensor run and decomposition, done once even when a function and a method share the op. */
function auditOps(allowlisted: readonly TableRule[]) {
  const opAudits = new Map<string, OpAudit>();
  const fakeFindings: Finding[] = [];
  const decompositionFindings: Finding[] = [];
  for (const rule of allowlisted) {
    const op = getOp(rule.op!)!;
    if (opAudits.has(op.name)) continue;
    const samples = samplesFor(op.name);
    if (!samples) {
      const message = `no sample inputs found for op '${op.name}'; add an entry to SAMPLES in packages/policy/src/audit/samples.ts`;
      fakeFindings.push({ severity: 'fail', subject: op.name, message });
      opAudits.set(op.name, { fake: { result: 'not-run' }, coreOps: [] });
      continue;
    }
    const fake = checkFake(op, samples, op.name);
    if (fake.finding) fakeFindings.push(fake.finding);
    const audit: OpAudit = { fake, coreOps: op.isCore ? [op.name] : [] };
    if (op.decompose) {
      const d = checkDecomposition(op, samples, op.name);
      audit.coreOps = d.coreOps;
      if (d.finding) decompositionFindings.push(d.finding);
    }
    opAudits.set(op.name, audit);
  }
  return { opAudits, fakeFindings, decompositionFindings };
}

/**
 * Ops defined outside Kiln (a plugin's or the user's `defineOp`) and allowed in the graph by an override:
 * rows audited exactly like allowlist entries (fake tensors, decomposition, purity, backend coverage).
 */
function customOpRules(overrides: Overrides): { rules: TableRule[]; fns: Map<string, AnyFunction> } {
  const rules: TableRule[] = [];
  const fns = new Map<string, AnyFunction>();
  for (const o of overrides.allFunctionRules()) {
    const op = (o.fn as { op?: OpDef }).op;
    if (o.kind !== 'allowInGraph' || op === undefined || getOp(op.name) !== op) continue;
    const name = `custom op ${op.name}`;
    rules.push({ id: o.id, name, kind: 'allowInGraph', table: 'allowlist', origin: o.origin, reason: `allowed in the graph by allowInGraph() at ${o.origin}`, op: op.name });
    fns.set(name, o.fn);
  }
  return { rules, fns };
}

/** Purity of every allowlisted function (functions and methods apart: each is its own code path). */
function auditPurity(allowlisted: readonly TableRule[], modules: ModuleTable, customFns: ReadonlyMap<string, AnyFunction>) {
  const findings: Finding[] = [];
  const purity = new Map<string, PurityResult>();
  for (const rule of allowlisted) {
    const samples = samplesFor(rule.op!);
    const custom = customFns.get(rule.name);
    const res = custom ? { ok: true as const, fn: custom } : resolveQualifiedName(rule.name, modules);
    if (!samples || !res.ok) continue;
    const checked = checkPurity(rule, res.fn, samples);
    purity.set(rule.name, checked.result);
    findings.push(...checked.findings);
  }
  return { purity, findings };
}

function auditMath(entries: readonly MathEntry[], rules: readonly TableRule[]) {
  const findings: Finding[] = [];
  const rows: MathRow[] = [];
  for (const entry of entries) {
    const res = resolveQualifiedName(entry.name);
    if (!res.ok) continue;
    const checked = checkMathEntry(entry, res.fn);
    findings.push(...checked.findings);
    rows.push({ name: entry.name, kind: 'allowInGraph', constantFold: entry.constantFold, symInt: entry.symInt, purity: checked.result });
  }
  for (const rule of rules) if (rule.table === 'math' && rule.kind === 'skip') rows.push({ name: rule.name, kind: 'skip' });
  return { rows, findings };
}

/** Runs every check and returns the report; `passed` is false when any check fails. */
export function runAudit(options: AuditOptions = {}): AuditReport {
  const sources = options.sources ?? liveApiSources();
  const rules = options.table ?? builtinFunctionTable();
  const overrides = options.overrides ?? new Overrides();
  const modules: ModuleTable = { ...BUILTIN_MODULES, '@kiln/tensor': sources.tensorExports };
  const table = resolveTable(rules, modules);
  const api = enumerateTensorApi(sources);
  const custom = customOpRules(overrides);
  const allowlisted = [...rules.filter((r) => r.table === 'allowlist' && r.op !== undefined && getOp(r.op)), ...custom.rules];
  const { opAudits, fakeFindings, decompositionFindings } = auditOps(allowlisted);
  const { purity, findings: purityFindings } = auditPurity(allowlisted, modules, custom.fns);
  const { rows: mathRows, findings: mathFindings } = auditMath(options.math ?? MATH_ALLOWLIST, rules);
  const { coverage, backendFindings, lowering } = backendCoverage(options.backends ?? [], allowlisted, opAudits);

  const checks: CheckResult[] = [
    check('coverage', 'Every public function of @kiln/tensor and Math is classified, and every rule names one', checkCoverage(api, table, overrides)),
    check('stale-rules', 'Every rule resolves to a live function, op or module', [
      ...checkStaleRules(table, rules),
      ...checkModuleOverrides(overrides, options.root ?? process.cwd()),
    ]),
    check('conflicts', 'No duplicate or conflicting rules', checkDuplicatesAndConflicts(rules, overrides, modules)),
    check('allowlist-ops', 'Each allowlist entry names its op and declares its effects', checkAllowlistOps(rules, table, modules)),
    check('fake-tensors', 'Each allowlisted op runs on fake tensors, matching eager shapes and dtypes', fakeFindings),
    check('decompositions', 'Decompositions expand to core ops only', decompositionFindings),
    check('purity', 'Allowlisted functions do not change global state', [...purityFindings, ...mathFindings]),
    check('polyfills', 'Polyfills match their builtins in signature and behaviour', checkPolyfills(rules)),
    check('backends', 'Backend lowering tables name registered ops', backendFindings),
  ];

  const functions = [
    ...api.map((a): FunctionRow => functionRow(a.name, a.fn, table.byFunction.get(a.fn), overrides, opAudits, purity, lowering)),
    ...custom.rules.map((r): FunctionRow => functionRow(r.name, custom.fns.get(r.name)!, r, new Overrides(), opAudits, purity, lowering)),
  ];
  const failures = checks.reduce((n, c) => n + c.findings.filter((f) => f.severity === 'fail').length, 0);
  const warnings = checks.reduce((n, c) => n + c.findings.filter((f) => f.severity === 'warn').length, 0);
  return {
    passed: failures === 0,
    summary: {
      apiFunctions: functions.length,
      classified: functions.filter((f) => f.kind !== 'unclassified').length,
      allowlisted: functions.filter((f) => f.kind === 'allowInGraph').length,
      failures,
      warnings,
    },
    checks,
    functions,
    math: mathRows,
    backends: coverage,
  };
}

function functionRow(
  name: string,
  fn: AnyFunction,
  rule: TableRule | undefined,
  overrides: Overrides,
  opAudits: ReadonlyMap<string, OpAudit>,
  purity: ReadonlyMap<string, PurityResult>,
  lowering: ReadonlyMap<string, Record<string, Lowering>>,
): FunctionRow {
  const override = overrides.functionRules(fn)?.[0];
  if (override) return { name, kind: override.kind === 'allowInGraph' ? 'allowInGraph' : override.kind === 'inline' ? 'inline' : 'skip', rule: override.id };
  if (!rule) return { name, kind: 'unclassified', rule: '' };
  if (rule.op === undefined) return { name, kind: rule.kind, rule: rule.id };
  const op: OpDef | undefined = getOp(rule.op);
  const audit = opAudits.get(rule.op);
  return {
    name,
    kind: rule.kind,
    rule: rule.id,
    op: rule.op,
    ...(op && { category: op.category, hasMeta: op.meta !== undefined, hasDecomposition: op.decompose !== undefined, derivative: derivativeKind(op) }),
    ...(audit && { fake: audit.fake.result, coreOps: audit.coreOps }),
    purity: purity.get(name) ?? 'not-run',
    backends: lowering.get(rule.op) ?? {},
  };
}

/** Per backend, which allowlisted ops it lowers: directly, or through a decomposition into ops it lowers. */
function backendCoverage(backends: readonly BackendLoweringTable[], allowlisted: readonly TableRule[], opAudits: ReadonlyMap<string, OpAudit>) {
  const backendFindings: Finding[] = [];
  const lowering = new Map<string, Record<string, Lowering>>();
  const opNames = [...new Set(allowlisted.map((r) => r.op!))].sort();
  const coverage: BackendCoverage[] = backends.map((b) => {
    const overrides = b.overrides ?? [];
    // A plugin's answer comes before the table (as in lowering): 'eager' takes an op out, a rule puts it in.
    const byPlugin = new Map(overrides.map((o) => [o.op, o.lowering]));
    const lowers = new Set([...loweredBy(b)].filter((op) => byPlugin.get(op) !== 'eager'));
    for (const name of [...lowers, ...byPlugin.keys()]) {
      if (!getOp(name)) backendFindings.push({ severity: 'fail', subject: `${b.name}:${name}`, message: `stale lowering: backend ${b.name} lowers '${name}', which is not a registered op` });
    }
    const lowersOp = (op: string) => byPlugin.get(op) === 'rule' || lowers.has(op);
    const missing: string[] = [];
    for (const op of opNames) {
      const core = opAudits.get(op)?.coreOps ?? [];
      const how: Lowering =
        byPlugin.get(op) === 'rule' ? 'plugin' : lowers.has(op) ? 'direct' : core.length > 0 && core.every(lowersOp) ? 'decomposed' : 'no';
      if (how === 'no') missing.push(op);
      lowering.set(op, { ...lowering.get(op), [b.name]: how });
    }
    return { backend: b.name, lowered: opNames.length - missing.length, total: opNames.length, missing, overrides };
  });
  return { coverage, backendFindings, lowering };
}

/** The audit's report: plain data, so the JSON output is the same object the other formats render. */
import type { DerivativeKind } from '@kiln/tensor';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Finding {
  readonly severity: 'fail' | 'warn' | 'info';
  /** The qualified name or rule id the finding is about. */
  readonly subject: string;
  readonly message: string;
}

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly findings: readonly Finding[];
}

/** How a function fared in the purity check. */
export type PurityResult = 'pure' | 'rng' | 'mutates-input' | 'impure' | 'not-run';
/** How an allowlisted op runs on fake tensors. */
export type FakeResult = 'meta' | 'decomposition' | 'constant' | 'failed' | 'not-run';
/** direct: the backend's table; decomposed: through ops it lowers; plugin: a plugin's lowering (the lowerOp hook). */
export type Lowering = 'direct' | 'decomposed' | 'plugin' | 'no';

/** An op whose lowering a plugin overrides on one backend through the per-op lowering hook. */
export interface LoweringOverride {
  readonly op: string;
  /** The hook tap's name (the plugin's). */
  readonly plugin: string;
  /** rule: the plugin lowers it (a pointwise formula); eager: the plugin runs it on its eager kernel. */
  readonly lowering: 'rule' | 'eager';
}

export interface FunctionRow {
  readonly name: string;
  readonly kind: 'inline' | 'skip' | 'allowInGraph' | 'unclassified';
  readonly rule: string;
  readonly op?: string;
  readonly category?: string;
  readonly hasMeta?: boolean;
  readonly hasDecomposition?: boolean;
  /** How autograd differentiates the op: its own formula, its decomposition, not at all, or missing. */
  readonly derivative?: DerivativeKind;
  readonly fake?: FakeResult;
  readonly purity?: PurityResult;
  /** Core ops the decomposition expands to. */
  readonly coreOps?: readonly string[];
  readonly backends?: Readonly<Record<string, Lowering>>;
}

export interface MathRow {
  readonly name: string;
  readonly kind: 'allowInGraph' | 'skip' | 'unclassified';
  readonly constantFold?: boolean;
  readonly symInt?: boolean;
  readonly purity?: PurityResult;
}

export interface BackendCoverage {
  readonly backend: string;
  readonly lowered: number;
  readonly total: number;
  readonly missing: readonly string[];
  /** Ops plugins lower (or send to eager) on this backend through the lowerOp hook. */
  readonly overrides: readonly LoweringOverride[];
}

export interface AuditReport {
  readonly passed: boolean;
  readonly summary: {
    readonly apiFunctions: number;
    readonly classified: number;
    readonly allowlisted: number;
    readonly failures: number;
    readonly warnings: number;
  };
  readonly checks: readonly CheckResult[];
  readonly functions: readonly FunctionRow[];
  readonly math: readonly MathRow[];
  readonly backends: readonly BackendCoverage[];
}

export const statusOf = (findings: readonly Finding[]): CheckStatus =>
  findings.some((f) => f.severity === 'fail') ? 'fail' : findings.some((f) => f.severity === 'warn') ? 'warn' : 'pass';

/**
 * `Math.*`: which functions the tracer may constant-fold (pure and deterministic on numbers) and which may go
 * in the graph on SymInts (they have a symbolic form: an integer size in, an integer size out). A Math
 * function that is foldable but not SymInt-safe, called on a SymInt, specializes: the tracer guards on the
 * concrete value. `Math.random` reads hidden global state and is skipped.
 */
export interface MathEntry {
  readonly name: string;
  readonly constantFold: boolean;
  readonly symInt: boolean;
  /** Sample arguments for the audit's purity and determinism check. */
  readonly sample: readonly number[];
}

const fold = (key: string, sample: readonly number[]): MathEntry => ({ name: `Math.${key}`, constantFold: true, symInt: false, sample });
const sym = (key: string, sample: readonly number[]): MathEntry => ({ name: `Math.${key}`, constantFold: true, symInt: true, sample });

export const MATH_ALLOWLIST: readonly MathEntry[] = [
  // Closed over integers, with a SymInt form (sizes are integers, so floor/ceil/round/trunc are identities).
  sym('abs', [-3]), sym('max', [2, 5, 3]), sym('min', [2, 5, 3]), sym('floor', [2.5]), sym('ceil', [2.5]),
  sym('round', [2.5]), sym('trunc', [-2.5]),
  // Foldable on constants; on a SymInt the tracer guards on the value.
  fold('sign', [-2]), fold('acos', [0.5]), fold('acosh', [2]), fold('asin', [0.5]), fold('asinh', [1]),
  fold('atan', [1]), fold('atanh', [0.5]), fold('atan2', [1, 2]), fold('cbrt', [27]), fold('expm1', [1]),
  fold('clz32', [1]), fold('cos', [1]), fold('cosh', [1]), fold('exp', [1]), fold('fround', [1.1]),
  fold('hypot', [3, 4]), fold('imul', [3, 4]), fold('log', [2]), fold('log1p', [1]), fold('log2', [8]),
  fold('log10', [100]), fold('pow', [2, 10]), fold('sin', [1]), fold('sinh', [1]), fold('sqrt', [2]),
  fold('tan', [1]), fold('tanh', [1]),
];

export const MATH_SKIP = {
  name: 'Math.random',
  why: 'reads hidden global state, so its value cannot be traced; use rand() from @kiln/tensor, or call it outside the compiled function and pass the value in',
} as const;

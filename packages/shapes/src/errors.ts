// Typed errors. Each names the expression involved and the user source location that was current when it
// happened, and says what the user can do about it.
export { SymbolicArithmeticError } from './expr/functions.js';
export { JsEmitError } from './expr/js.js';

export interface UnbackedOrigin {
  readonly symbol: string;
  /** What produced it (`nonzero`, `item`, or an input source marked unbacked). */
  readonly origin: string | undefined;
  readonly location: string | undefined;
}

/** Raised when control flow depends on a value that only exists at run time (an unbacked symbol). */
export class DataDependentError extends Error {
  override name = 'DataDependentError';
  constructor(
    readonly expr: string,
    readonly symbols: readonly UnbackedOrigin[],
    readonly location: string | undefined,
  ) {
    super(dataDependentMessage(expr, symbols, location));
  }
}

function dataDependentMessage(expr: string, symbols: readonly UnbackedOrigin[], location: string | undefined): string {
  const names = symbols.map((s) => s.symbol).join(', ');
  const lines = [
    `Could not guard on data-dependent expression ${expr} (symbols without an example value: ${names})`,
    `  at ${location ?? '<unknown location>'}`,
  ];
  for (const s of symbols) {
    const from = s.origin ? ` from ${s.origin}` : '';
    lines.push(`  ${s.symbol} was created${from}${s.location ? ` at ${s.location}` : ''}`);
  }
  const first = symbols[0]?.symbol ?? 'u0';
  lines.push(
    'Fixes:',
    `  - check(${expr}) before this line if it always holds: it becomes a runtime assert instead of a guard`,
    `  - checkIsSize(${first}) if ${first} is a size: size-oblivious reasoning then treats it as >= 2`,
    `  - markUnbacked: if ${first} is an input size marked with markUnbacked, remove the mark so this branch` +
      ' may specialize on the example value',
    '  - in library code, guardOrFalse / guardOrTrue answer without raising',
  );
  return lines.join('\n');
}

/** Raised when a `check()` condition is false for the example values, or provably false. */
export class CheckFailedError extends Error {
  override name = 'CheckFailedError';
  constructor(
    readonly expr: string,
    readonly location: string | undefined,
    detail: string,
  ) {
    super(`check(${expr}) failed ${detail} at ${location ?? '<unknown location>'}`);
  }
}

/** Raised by operations a nested (ragged) int does not support: it equals itself and nothing else. */
export class NestedIntError extends Error {
  override name = 'NestedIntError';
  constructor(
    readonly expr: string,
    readonly operation: string,
    readonly location: string | undefined,
  ) {
    super(
      `nested int ${expr} does not support ${operation} at ${location ?? '<unknown location>'}: ` +
        'a ragged dimension equals only itself and can only be scaled by a constant',
    );
  }
}

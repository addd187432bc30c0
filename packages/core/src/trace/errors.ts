import { KilnError } from '@kiln/tensor';
import type { SourceLocation } from '@kiln/graph';

export const formatLocation = (loc: SourceLocation | undefined): string => (loc ? `${loc.file}:${loc.line}` : '<unknown>');

/**
 * Raised inside the tracer when it meets code it cannot capture. For now the whole frame then runs eagerly;
 * the break is always raised at a statement (its `location`), so a later tracer can split the frame there.
 */
export class GraphBreak extends KilnError {
  constructor(
    readonly reason: string,
    readonly location: SourceLocation | undefined,
    hint?: string,
  ) {
    super(`graph break at ${formatLocation(location)}: ${reason}`, hint);
  }
}

/** A frame the tracer never enters (async functions, generators, native code). */
export class FrameSkipped extends KilnError {
  constructor(
    readonly reason: string,
    readonly location: SourceLocation | undefined,
  ) {
    super(`frame skipped at ${formatLocation(location)}: ${reason}`);
  }
}

/** `fullgraph: true` and the frame could not be captured as one graph. */
export class FullGraphError extends KilnError {
  constructor(
    readonly reason: string,
    readonly location: SourceLocation | undefined,
    hint?: string,
  ) {
    super(`fullgraph: cannot capture one graph at ${formatLocation(location)}: ${reason}`, hint ?? 'remove fullgraph: true to let the frame fall back to eager');
  }
}

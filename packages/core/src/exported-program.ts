// What core knows of an exported program: plain data an exporter (@kiln/export) fills in, so that explain()
// and plugins (the compile report) show exported programs while core never imports the exporter (packages
// depend one way: export on core). An exporter attaches it to each program under EXPORTED_PROGRAM_INFO and
// announces each new export on `hooks.programExported`.
import type { Graph } from '@kiln/graph';

/** A user input of the program: a tensor (its printed type, the placeholder it feeds) or a baked-in constant. */
export interface ExportedInputInfo {
  /** The user's name: parameter and path (`x`, `batch.tokens`). */
  readonly name: string;
  /** `f32[batch, 64]`, or the constant's value as JSON for a constant. */
  readonly type: string;
  readonly kind: 'tensor' | 'constant';
  /** The graph placeholder it feeds (null: the graph never reads it, or a constant). */
  readonly placeholder: string | null;
}

/** A tensor lifted from closures or `this` to a graph input, under its state-dict name. */
export interface ExportedStateInfo {
  readonly kind: 'parameter' | 'buffer' | 'constant';
  readonly name: string;
  readonly type: string;
  readonly placeholder: string;
}

/** A dynamic dim: its name, the symbol the graph uses, its inclusive range (max Infinity: unbounded). */
export interface ExportedDimInfo {
  readonly name: string;
  readonly symbol: string;
  readonly min: number;
  readonly max: number;
  /** The input dims it sizes (`x.shape[0]`). */
  readonly places: readonly string[];
}

/** A runtime assert the program checks before each call. */
export interface ExportedAssertInfo {
  readonly kind: string;
  readonly text: string;
  readonly location?: string | undefined;
  readonly message?: string | undefined;
}

export interface ExportedProgramInfo {
  /** The exported function's name. */
  readonly name: string;
  readonly kilnVersion: string;
  /** The core graph the program runs. */
  readonly graph: Graph;
  /** The graph as captured, before the passes (API calls as written), when the exporter still has it. */
  readonly apiGraphText?: string | undefined;
  readonly inputs: readonly ExportedInputInfo[];
  readonly state: readonly ExportedStateInfo[];
  /** The return value's structure and one line per output leaf (`f32[batch, 4] = graph output 0`). */
  readonly outputTree: string;
  readonly outputs: readonly string[];
  readonly dims: readonly ExportedDimInfo[];
  readonly asserts: readonly ExportedAssertInfo[];
  /** The exporter's own printed form of the whole program (the one printer of that IR). */
  readonly text: string;
}

/** The key under which an exported program carries its ExportedProgramInfo (shared across module copies). */
export const EXPORTED_PROGRAM_INFO: unique symbol = Symbol.for('kiln.exportedProgramInfo') as never;

/** A value explain() accepts in place of a function: an exported program. */
export interface ExplainableProgram {
  readonly [EXPORTED_PROGRAM_INFO]: ExportedProgramInfo;
}

/** The program's info when `value` is an exported program, else undefined. */
export function exportedProgramInfo(value: unknown): ExportedProgramInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const info = (value as Partial<ExplainableProgram>)[EXPORTED_PROGRAM_INFO];
  return info && typeof info === 'object' && typeof info.text === 'string' ? info : undefined;
}

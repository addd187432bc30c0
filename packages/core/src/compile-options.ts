// compile()'s options: their type and the up-front check that names a typo or a wrong type (a bad option
// must never silently change what compiles).
import { backendNames } from './backends/names.js';
import { Compiler as CompilerClass } from './compiler.js';
import type { Compiler } from './compiler.js';
import { KilnConfigError } from './config/index.js';

export interface CompileOptions {
  /**
   * A backend added through hooks.backends (a config plugin, or registerBackend). `eager` (the graph
   * Interpreter) is built in; `auto` (the default) is the available backend with the highest priority.
   */
  readonly backend?: string;
  /** true: every dimension dynamic from the start; false: never; default: automatic dynamic. */
  readonly dynamic?: boolean;
  /** Raise instead of falling back to eager when the frame cannot be captured as one graph. */
  readonly fullgraph?: boolean;
  /** Cache entries per code location before the frame runs eagerly (default 8). */
  readonly recompileLimit?: number;
  /** The compiler whose config and hooks apply (default: getDefaultCompiler(), see configure()). */
  readonly compiler?: Compiler;
}

/** A short description of a bad argument for error messages: its type and, for small values, the value. */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `array [${x.map((e) => (typeof e === 'string' ? `'${e}'` : String(e))).join(', ')}]`;
  if (typeof x === 'string') return `string '${x}'`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return `${typeof x} ${String(x)}`;
}

const OPTION_KEYS = ['backend', 'dynamic', 'fullgraph', 'recompileLimit', 'compiler'] as const;

/** Checks compile()'s options up front: a typo or a wrong type must not silently change what compiles. */
export function validateCompileOptions(options: unknown, api = 'compile'): CompileOptions {
  if (options === undefined) return {};
  const where = `${api}() options`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new KilnConfigError(where, '<root>', `must be an object, got ${describeValue(options)}`, `call ${api}(fn, { backend: 'eager' }) or ${api}(fn)`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new KilnConfigError(where, key, 'unknown option', `known options: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const bad = (key: string, what: string, hint?: string) => {
    throw new KilnConfigError(where, key, `must be ${what}, got ${describeValue(o[key])}`, hint);
  };
  if (o.backend !== undefined && (typeof o.backend !== 'string' || o.backend === '')) bad('backend', 'a backend name (a string)', `registered backends: auto, ${backendNames().join(', ')}`);
  if (o.dynamic !== undefined && typeof o.dynamic !== 'boolean') bad('dynamic', 'true or false', 'leave it out for automatic dynamic shapes');
  if (o.fullgraph !== undefined && typeof o.fullgraph !== 'boolean') bad('fullgraph', 'true or false');
  if (o.recompileLimit !== undefined && !(Number.isInteger(o.recompileLimit) && (o.recompileLimit as number) > 0)) bad('recompileLimit', 'a positive integer', 'the default is 8');
  if (o.compiler !== undefined && !(o.compiler instanceof CompilerClass)) bad('compiler', 'a Compiler (from createCompiler() or configure())');
  return o as CompileOptions;
}


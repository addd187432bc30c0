// What aotCompile starts from: a core graph whose output node is a flat list, what each of its inputs is
// (an argument of the call, or a weight), the outputs' structure and the symbolic dims' ranges.
import type { Graph } from '@kiln/graph';
import { Node, traceOps } from '@kiln/graph';
import { treeFlatten, deserializeTreeSpec } from '@kiln/pytree';
import type { Tensor } from '@kiln/tensor';
import type { AotOutputTemplate, AotSymbolRange } from '../runtime/plan.js';
import { AotCompileError } from './plan-cpu.js';

export type AotSourceInput = { readonly kind: 'user'; readonly name: string } | { readonly kind: 'weight'; readonly name: string; readonly value: Tensor };

export interface AotSource {
  /** Shown in errors of the module (`model: input 'x' …`). */
  readonly name: string;
  /** A core graph whose output node holds a flat list of values. */
  readonly graph: Graph;
  /** One per placeholder, in order. */
  readonly inputs: readonly AotSourceInput[];
  /** The outputs' structure over the output list (see outputTemplate). */
  readonly outputTree: AotOutputTemplate;
  readonly symbols: Readonly<Record<string, AotSymbolRange>>;
}

/** Parses a graph's symbol range as printed (`[2, inf]`). */
export function parseRange(range: string): AotSymbolRange {
  const m = /^\[(-?\d+), (-?\d+|inf)\]$/.exec(range);
  if (!m) return { min: 0, max: null };
  return { min: Number(m[1]), max: m[2] === 'inf' ? null : Number(m[2]) };
}

/**
 * Replaces a graph output node holding a nested value (`{ y, n }`) by the flat list of its leaves, and
 * returns the structure as a serialized TreeSpec.
 */
export function flattenGraphOutput(graph: Graph): string {
  const out = graph.outputNode();
  if (!out) throw new Error('aot: the graph has no output node');
  const value = out.args[0];
  const [leaves, spec] = treeFlatten(value as never, { isLeaf: (v: unknown) => v instanceof Node });
  graph.setArgs(out, [leaves as never]);
  return spec.serialize();
}

/**
 * An AotSource from a function of tensors by op-level tracing (`traceOps`): tensor arguments become the
 * module's inputs (named `names[i]` or `arg<i>`), tensors it closes over become weights. Every dim is
 * symbolic unless `dynamic: false`. (exportProgram, with the frame tracer, is the general way in.)
 */
export function traceForAot(fn: (...args: never[]) => unknown, exampleArgs: readonly Tensor[], options: { name?: string; names?: readonly string[]; dynamic?: boolean } = {}): AotSource {
  // Traced as `[fn(...)]`, so that a function returning one tensor and one returning `[tensor]` differ.
  const wrapped = (...args: unknown[]) => [(fn as (...a: unknown[]) => unknown)(...args)];
  const { coreGraph } = traceOps(wrapped, exampleArgs, { dynamic: options.dynamic ?? true });
  const outputTree = (outputTemplate(flattenGraphOutput(coreGraph)) as readonly AotOutputTemplate[])[0]!;
  const inputs = coreGraph.placeholders().map((_, i) => ({ kind: 'user' as const, name: options.names?.[i] ?? `arg${i}` }));
  const symbols = Object.fromEntries(coreGraph.symbols.map((s) => [s.name, parseRange(s.range)]));
  return { name: options.name ?? (fn.name || 'model'), graph: coreGraph, inputs, outputTree, symbols };
}

/**
 * A serialized TreeSpec as the runtime's output template: the structure rebuilt with markers for leaves,
 * then walked. Arrays and plain objects nest; JSON values stay; other node types (Maps, registered
 * classes) cannot be rebuilt without their code and are an AotCompileError.
 */
export function outputTemplate(serializedSpec: string): AotOutputTemplate {
  const spec = deserializeTreeSpec(serializedSpec);
  const markers = Array.from({ length: spec.numLeaves }, (_, i) => ({ leaf: i }));
  const walk = (v: unknown, path: string): AotOutputTemplate => {
    const marker = markers.indexOf(v as { leaf: number });
    if (marker >= 0) return { leaf: marker };
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return { value: v ?? null };
    if (Object.getPrototypeOf(v) === Object.prototype) return { object: Object.entries(v).map(([k, x]) => [k, walk(x, `${path}.${k}`)] as const) };
    throw new AotCompileError(`the output at ${path || 'the top'} is a ${(v as object).constructor?.name ?? 'object'}, which a standalone module cannot rebuild`, 'return arrays, plain objects, tensors and numbers');
  };
  return walk(spec.unflatten(markers), '');
}

// What aotCompile starts from, made from an ExportedProgram (@kiln/export): the core graph, what each of its
// placeholders is (a tensor argument or a weight), the arguments' and outputs' structures as templates the
// runtime rebuilds without @kiln/pytree, the dynamic dims with their ranges, and the size facts to check.
import type { Graph } from '@kiln/graph';
import type { ExportedProgram, OutputSpec, SizeSpec, UserInputSpec } from '@kiln/export';
import { sizeFromExprJson } from '@kiln/lower';
import type { TreeSpec } from '@kiln/pytree';
import type { BoolJson } from '@kiln/shapes';
import type { Tensor } from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import type { AotCondition, AotDim, AotInputSpec, AotOutputTemplate, AotPrecondition, AotSymbolRange } from '../runtime/plan.js';

/** A program that cannot become a standalone module (an op without a kernel, an input it cannot take). */
export class AotCompileError extends KilnError {}

/** Graph placeholder i is tensor argument `user`, or the weight `weight` (its value goes into the blob). */
export type AotPlaceholder = { readonly user: number } | { readonly weight: string; readonly value: Tensor };

export interface AotSource {
  /** Shown in errors of the module (`model: input 'x' …`). */
  readonly name: string;
  readonly graph: Graph;
  readonly placeholders: readonly AotPlaceholder[];
  readonly inputs: readonly AotInputSpec[];
  readonly argsTree: AotOutputTemplate;
  readonly symbols: Readonly<Record<string, AotSymbolRange>>;
  readonly preconditions: readonly AotPrecondition[];
  /** Leaves `{ leaf: i }` are graph output i. */
  readonly outputTree: AotOutputTemplate;
  /** In-place writes: graph output `output` is the new value of tensor argument `arg` or of state `weight`. */
  readonly mutations: readonly ({ readonly arg: number; readonly output: number } | { readonly weight: string; readonly output: number })[];
}

/** A condition over sizes with its sides as loop-IR size expressions (evaluated without symbolic algebra). */
export function aotCondition(c: BoolJson): AotCondition {
  if (typeof c === 'boolean') return c;
  if ('rel' in c) return { rel: c.rel, diff: sizeFromExprJson(c.diff) };
  if ('not' in c) return { not: aotCondition(c.not) };
  if ('and' in c) return { and: c.and.map(aotCondition) };
  return { or: c.or.map(aotCondition) };
}

/**
 * A TreeSpec as a runtime template: the structure rebuilt with markers for leaves, then walked. Arrays and
 * plain objects nest; other node types (Maps, registered classes) cannot be rebuilt without their code.
 */
function template(spec: TreeSpec, leaf: (i: number) => AotOutputTemplate, what: string): AotOutputTemplate {
  const markers = Array.from({ length: spec.numLeaves }, (_, i) => ({ marker: i }));
  const walk = (v: unknown, path: string): AotOutputTemplate => {
    const i = markers.indexOf(v as { marker: number });
    if (i >= 0) return leaf(i);
    if (Array.isArray(v)) return v.map((x, j) => walk(x, `${path}[${j}]`));
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return { object: Object.entries(v).map(([k, x]) => [k, walk(x, `${path}.${k}`)] as const) };
    }
    if (v === null || typeof v !== 'object') return { value: v ?? null };
    throw new AotCompileError(`${what} at ${path || 'the top'} is a ${(v as object).constructor?.name ?? 'object'}, which a standalone module cannot rebuild`, 'use arrays, plain objects, tensors and numbers');
  };
  return walk(spec.unflatten(markers), '');
}

const dimOf = (s: SizeSpec): AotDim => (typeof s === 'number' ? s : 'sym' in s ? { sym: s.sym } : { expr: sizeFromExprJson(s.expr), text: s.text });

export function sourceFromExported(program: ExportedProgram): AotSource {
  const name = program.source.name || 'model';
  const tensors = program.inputs.filter((i): i is Extract<UserInputSpec, { kind: 'tensor' }> => i.kind === 'tensor');
  const inputs = tensors.map((t) => {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new AotCompileError(`${name}: input '${t.name}' is ${t.dtype}; AOT modules take float32, int32 and bool tensors`);
    return { name: t.name, dtype: t.dtype, shape: t.shape.map(dimOf) };
  });
  const placeholders = program.graph.placeholders().map((p): AotPlaceholder => {
    const user = tensors.findIndex((t) => t.placeholder === p.name);
    if (user >= 0) return { user };
    const state = program.state.find((s) => s.placeholder === p.name);
    if (!state) throw new AotCompileError(`${name}: graph input %${p.name} is neither an argument nor state`);
    return { weight: state.name, value: program.stateDict.get(state.name)! };
  });
  const argsTree = template(program.inputTree, (i) => {
    const input = program.inputs[i]!;
    return input.kind === 'tensor' ? { leaf: tensors.indexOf(input) } : { value: input.value };
  }, 'an argument');
  const outputTree = template(program.outputTree, (i) => outputLeaf(program.outputs[i]!, tensors, name), 'the return value');
  const symbols = Object.fromEntries(program.dims.map((d) => [d.symbol, { name: d.name, min: d.min, max: d.max === Infinity ? null : d.max }]));
  const preconditions = program.asserts.map((a) => ({
    text: a.text,
    condition: aotCondition(a.expr),
    ...(a.location ? { location: a.location } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
  const mutations = program.mutations.map((m) => (m.kind === 'input' ? { arg: tensors.findIndex((t) => t.name === m.target), output: m.index } : { weight: m.target, output: m.index }));
  return { name, graph: program.graph, placeholders, inputs, argsTree, symbols, preconditions, outputTree, mutations };
}

function outputLeaf(o: OutputSpec, tensors: readonly { name: string }[], name: string): AotOutputTemplate {
  switch (o.kind) {
    case 'tensor':
    case 'size':
      return { leaf: o.index };
    case 'constant':
      return { value: o.value };
    case 'input': {
      const arg = tensors.findIndex((t) => t.name === o.target);
      if (arg < 0) throw new AotCompileError(`${name}: the return value holds the state tensor ${JSON.stringify(o.target)} itself`, 'return a computed tensor (e.g. weight.mul(1)) instead');
      return { arg };
    }
    default:
      return o satisfies never;
  }
}

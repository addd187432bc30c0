// exportProgram(fn, exampleArgs, { dynamic, dims }): one fullgraph trace of `fn` on the example arguments,
// turned into an ExportedProgram — the core graph, the argument and return specs, lifted state with
// state-dict names, named dims with ranges, and the size facts the trace relied on as asserts.
import { readFileSync } from 'node:fs';
import { captureForExport, getDefaultCompiler, parameterNamesOf } from '@kiln/core';
import type { Compiler, ExportCapture } from '@kiln/core';
import { treeFlattenWithPath, treeMap } from '@kiln/pytree';
import { KilnTypeError, Tensor } from '@kiln/tensor';
import { DimRef, tensorDims, traceHooks } from './dims.js';
import type { PlannedTensor } from './dims.js';
import { ExportError } from './errors.js';
import { argumentName, argumentSource, stateName } from './names.js';
import { buildOutputs } from './outputs.js';
import type { ExportedProgram, MutationSpec, StateSpec, UserInputSpec } from './program.js';
import { sizeFacts } from './size-facts.js';
import { withPrinter } from './print.js';
import { announceProgram } from './explain-info.js';

export interface ExportOptions {
  /** true: every dim of every tensor argument is dynamic (unnamed, range [2, inf)) unless `dims` says otherwise. */
  readonly dynamic?: boolean;
  /**
   * Named dims, as torch.export's dynamic_shapes: an array parallel to the arguments (or an object keyed by
   * parameter name) whose entry for a tensor is `{ 0: Dim('batch') }` or `[Dim('batch'), null]`, and for an
   * array / object argument the same structure down to its tensors.
   */
  readonly dims?: unknown;
  /** The compiler whose policy and passes apply (default: the default compiler). */
  readonly compiler?: Compiler;
}

const OPTION_KEYS = ['dynamic', 'dims', 'compiler'];

// Read as a file, not `require`d: a JSON require wakes Node's CommonJS loader, which `import 'kiln'` otherwise
// never needs (1–7 ms of a fresh process, import-cost.test.ts).
export const KILN_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A module-like object (`{ forward(x) { … } }`, a class instance) exports its `forward` with itself as `this`. */
function callable(target: unknown): { fn: Function; thisArg: unknown; name: string } {
  if (typeof target === 'function') return { fn: target, thisArg: undefined, name: target.name || 'anonymous' };
  const forward = target !== null && typeof target === 'object' ? (target as { forward?: unknown }).forward : undefined;
  if (typeof forward === 'function') return { fn: forward, thisArg: target, name: `${(target as object).constructor?.name ?? 'object'}.forward` };
  throw new KilnTypeError(`exportProgram: expected a function or an object with a forward() method, got ${target === null ? 'null' : typeof target}`, 'pass the function itself, or the model object');
}

function checkOptions(options: unknown): ExportOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new ExportError('exportProgram: options must be an object { dynamic?, dims?, compiler? }');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new ExportError(`exportProgram: unknown option '${key}'`, `known options: ${OPTION_KEYS.join(', ')}`);
  }
  const o = options as ExportOptions;
  if (o.dynamic !== undefined && typeof o.dynamic !== 'boolean') throw new ExportError(`exportProgram: option 'dynamic' must be true or false, got ${typeof o.dynamic}`);
  return o;
}

/** The dims entry for argument `index` (named `parameter`), then down `path` to one tensor. */
function dimsEntry(dims: unknown, index: number, parameter: string, path: readonly { key: unknown }[]): unknown {
  if (dims === undefined || dims === null) return undefined;
  let at: unknown = Array.isArray(dims) ? dims[index] : (dims as Record<string, unknown>)[parameter];
  for (const step of path) {
    if (at === undefined || at === null) return undefined;
    at = (at as Record<string, unknown>)[String(step.key)];
  }
  return at;
}

/** Flattens the example arguments: each leaf's spec skeleton, and the plan for the tensor ones. */
function planArguments(exampleArgs: readonly unknown[], parameterNames: readonly string[], options: ExportOptions) {
  const [pairs, inputTree] = treeFlattenWithPath([...exampleArgs]);
  const planned = new Map<string, PlannedTensor>();
  const leaves = pairs.map(([path, leaf]) => {
    const [first, ...rest] = path;
    const index = first!.key as number;
    const parameter = parameterNames[index] ?? `arg${index}`;
    const name = argumentName(parameter, rest);
    if (leaf instanceof Tensor) {
      const source = argumentSource(index, rest);
      planned.set(source, { source, name, example: leaf, dims: tensorDims(dimsEntry(options.dims, index, parameter, rest), leaf, name, options.dynamic === true) });
      return { name, source, tensor: leaf };
    }
    if (typeof leaf === 'number' || typeof leaf === 'string' || typeof leaf === 'boolean') return { name, source: undefined, value: leaf };
    throw new ExportError(`exportProgram: argument '${name}' is ${leaf === null ? 'null' : typeof leaf}; an exported program takes tensors, numbers, strings and booleans in arrays and plain objects`);
  });
  return { inputTree, leaves, planned };
}

function stateKind(source: string, value: Tensor): StateSpec['kind'] {
  if (source.startsWith('K[')) return 'constant';
  return value.requiresGrad ? 'parameter' : 'buffer';
}

/** Exports `fn` called with `exampleArgs` as one whole graph (see the package README for the format). */
export function exportProgram(target: unknown, exampleArgs: readonly unknown[], options?: ExportOptions): ExportedProgram {
  const { fn, thisArg, name } = callable(target);
  if (!Array.isArray(exampleArgs)) throw new KilnTypeError(`exportProgram: exampleArgs must be an array of arguments, got ${typeof exampleArgs}`, 'e.g. exportProgram(fn, [x])');
  const opts = checkOptions(options);
  const { inputTree, leaves, planned } = planArguments(exampleArgs, parameterNamesOf(fn), opts);
  // The program makes every input contiguous before it runs, so the trace may assume it too.
  const traced = treeMap((x: unknown) => (x instanceof Tensor && !x.isContiguous() ? x.contiguous() : x), [...exampleArgs]) as unknown[];
  const capture = captureForExport(fn, thisArg, traced, { compiler: opts.compiler, inputs: traceHooks(planned) });
  const program = assemble(capture, inputTree, leaves, planned, name);
  announceProgram(program, opts.compiler ?? getDefaultCompiler(), capture.apiGraphText);
  return program;
}

type Leaf = { name: string; source: string | undefined; tensor?: Tensor; value?: number | string | boolean };

function assemble(capture: ExportCapture, inputTree: ExportedProgram['inputTree'], leaves: Leaf[], planned: ReadonlyMap<string, PlannedTensor>, name: string): ExportedProgram {
  const byPlaceholder = new Map(capture.graph.placeholders().map((p) => [p.name, p]));
  const bySource = new Map(capture.inputs.map((i) => [i.source, i]));
  const facts = sizeFacts(capture, planned, byPlaceholder);
  const inputs: UserInputSpec[] = leaves.map((leaf) => {
    if (!leaf.tensor) return { kind: 'constant', name: leaf.name, value: leaf.value! };
    const input = bySource.get(leaf.source!);
    return {
      kind: 'tensor',
      name: leaf.name,
      placeholder: input?.placeholder ?? null,
      dtype: leaf.tensor.dtype,
      shape: input ? facts.shapeOf(byPlaceholder.get(input.placeholder)!.meta.val) : leaf.tensor.shape.slice(),
    };
  });
  const userSources = new Set(leaves.map((l) => l.source));
  const state: StateSpec[] = [];
  const stateDict = new Map<string, Tensor>();
  for (const input of capture.inputs) {
    if (userSources.has(input.source)) continue;
    if (!/^(T|[CMK]\[)/.test(input.source)) throw new ExportError(`exportProgram: graph input ${input.source} is neither an argument nor state`);
    const stateNameText = stateName(input.source, capture.captureNames, capture.mutableNames);
    // A snapshot: later changes to the model do not change the exported program.
    stateDict.set(stateNameText, input.value.detach().clone());
    state.push({ kind: stateKind(input.source, input.value), name: stateNameText, placeholder: input.placeholder, dtype: input.value.dtype, shape: input.value.shape.slice() });
  }
  const names = new Map<string, string>([...capture.inputs.map((i) => [i.source, inputs.find((u) => u.kind === 'tensor' && u.placeholder === i.placeholder)?.name ?? state.find((s) => s.placeholder === i.placeholder)!.name] as const)]);
  const { outputTree, outputs } = buildOutputs(capture, names, facts.shapeOf);
  const mutations: MutationSpec[] = capture.mutations.map((m) => {
    const location = m.location ? `${m.location.file}:${m.location.line}` : undefined;
    if (m.output.kind !== 'graph') throw new ExportError(`exportProgram: the in-place write to ${names.get(m.source) ?? m.source}${location ? ` (${location})` : ''} has no graph value to write back`, 'write the new value with an out-of-place op and return it');
    return { kind: userSources.has(m.source) ? 'input' : 'state', target: names.get(m.source)!, index: m.output.index, ...(location ? { location } : {}) };
  });
  return withPrinter({
    kilnVersion: KILN_VERSION,
    graph: capture.graph,
    inputTree,
    inputs,
    outputTree,
    outputs,
    state,
    stateDict,
    dims: facts.dims,
    asserts: facts.asserts,
    mutations,
    source: { name },
  });
}

export { DimRef };

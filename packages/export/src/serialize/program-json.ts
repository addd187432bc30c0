// The program's JSON form (`program.json`, documented field by field in the package README) and its reader.
// The reader trusts nothing: every field is checked before use, and a bad one is a ProgramFormatError that
// names it. The graph and the tree specs are checked by their own packages' readers.
import { deserializeGraph, serializeGraph } from '@kiln/graph';
import type { GraphJson } from '@kiln/graph';
import { deserializeTreeSpec, serializeTreeSpec } from '@kiln/pytree';
import type { TreeSpec } from '@kiln/pytree';
import { isDType } from '@kiln/tensor';
import type { DType, Tensor } from '@kiln/tensor';
import { expr as shapesExpr } from '@kiln/shapes';
import { ProgramFormatError } from '../errors.js';
import { withPrinter } from '../print.js';
import { PROGRAM_FORMAT, PROGRAM_FORMAT_VERSION } from '../program.js';
import type { AssertSpec, DimSpec, ExportedProgram, MutationSpec, OutputSpec, SizeSpec, StateSpec, UserInputSpec } from '../program.js';

/** program.json: the ExportedProgram without its tensor values (those go in the safetensors blob, by state name). */
export interface ProgramJson {
  readonly format: typeof PROGRAM_FORMAT;
  readonly formatVersion: number;
  readonly kilnVersion: string;
  readonly source: ExportedProgram['source'];
  readonly graph: GraphJson;
  readonly inputs: { readonly tree: unknown; readonly leaves: readonly UserInputSpec[] };
  readonly outputs: { readonly tree: unknown; readonly leaves: readonly OutputSpec[] };
  readonly state: readonly StateSpec[];
  /** `max: null` stands for Infinity (JSON has no infinities). */
  readonly dims: readonly (Omit<DimSpec, 'max'> & { readonly max: number | null })[];
  readonly asserts: readonly AssertSpec[];
  /** Since format version 2 (absent in version 1: no mutations). */
  readonly mutations?: readonly MutationSpec[];
}

/** Numbers JSON cannot hold (NaN, ±Infinity, -0) are written `{ number: 'NaN' }`, as graph JSON writes them. */
const SPECIAL_NUMBERS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);
function encodeConstant<T>(v: T): T | { number: string } {
  return typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? { number: Object.is(v, -0) ? '-0' : String(v) } : v;
}
function decodeConstant(v: unknown, field: string): unknown {
  if (!isObject(v)) return v;
  if (typeof v.number !== 'string' || !SPECIAL_NUMBERS.has(v.number)) fail(field, `is ${JSON.stringify(v).slice(0, 60)}`);
  return v.number === '-0' ? -0 : Number(v.number);
}
const withConstant = <T extends { kind: string }>(spec: T): T =>
  spec.kind === 'constant' ? { ...spec, value: encodeConstant((spec as unknown as { value: unknown }).value) } : spec;

export function programToJson(p: ExportedProgram): ProgramJson {
  return {
    format: PROGRAM_FORMAT,
    // Version 1 where it suffices, so older readers still load programs without mutations.
    formatVersion: p.mutations.length > 0 ? PROGRAM_FORMAT_VERSION : 1,
    kilnVersion: p.kilnVersion,
    source: p.source,
    graph: serializeGraph(p.graph),
    inputs: { tree: JSON.parse(serializeTreeSpec(p.inputTree)), leaves: p.inputs.map(withConstant) },
    outputs: { tree: JSON.parse(serializeTreeSpec(p.outputTree)), leaves: p.outputs.map(withConstant) },
    state: p.state,
    dims: p.dims.map((d) => ({ ...d, max: d.max === Infinity ? null : d.max })),
    asserts: p.asserts,
    mutations: p.mutations,
  };
}

const fail = (field: string, what: string): never => {
  throw new ProgramFormatError(`exported program: ${field} ${what}`, 'the file is damaged, or was not written by saveProgram');
};
const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isName = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 1000;
const isSize = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function list(x: unknown, field: string): unknown[] {
  if (!Array.isArray(x)) fail(field, 'is not an array');
  return x as unknown[];
}

function checkSize(s: unknown, field: string): SizeSpec {
  if (isSize(s)) return s;
  if (isObject(s) && isName(s.sym)) return { sym: s.sym };
  if (isObject(s) && typeof s.text === 'string' && s.expr !== undefined) {
    parsed(() => shapesExpr.exprFromJson(s.expr as never), field);
    return { expr: s.expr as never, text: s.text };
  }
  return fail(field, `is not a size (${JSON.stringify(s)?.slice(0, 60)})`);
}

function checkInput(x: unknown, i: number): UserInputSpec {
  const f = `inputs.leaves[${i}]`;
  if (!isObject(x) || !isName(x.name)) return fail(f, 'is not an input spec with a name');
  if (x.kind === 'constant') {
    const value = decodeConstant(x.value, `${f}.value`);
    if (!['number', 'string', 'boolean'].includes(typeof value)) fail(`${f}.value`, 'is not a number, string or boolean');
    return { kind: 'constant', name: x.name, value: value as number | string | boolean };
  }
  if (x.kind !== 'tensor') return fail(`${f}.kind`, `is ${JSON.stringify(x.kind)}`);
  if (!isDType(x.dtype)) fail(`${f}.dtype`, `is ${JSON.stringify(x.dtype)}`);
  if (x.placeholder !== null && !isName(x.placeholder)) fail(`${f}.placeholder`, 'is not a name or null');
  return { kind: 'tensor', name: x.name, placeholder: x.placeholder as string | null, dtype: x.dtype as DType, shape: list(x.shape, `${f}.shape`).map((s, d) => checkSize(s, `${f}.shape[${d}]`)) };
}

function checkOutput(x: unknown, i: number, graphOutputs: number): OutputSpec {
  const f = `outputs.leaves[${i}]`;
  if (!isObject(x)) return fail(f, 'is not an object');
  switch (x.kind) {
    case 'tensor':
    case 'size':
      if (!Number.isSafeInteger(x.index) || (x.index as number) < 0 || (x.index as number) >= graphOutputs) fail(`${f}.index`, `is not a graph output index (0..${graphOutputs - 1})`);
      if (x.kind === 'tensor') {
        if (!isDType(x.dtype)) fail(`${f}.dtype`, `is ${JSON.stringify(x.dtype)}`);
        return { kind: 'tensor', index: x.index as number, dtype: x.dtype as DType, shape: list(x.shape, `${f}.shape`).map((s, d) => checkSize(s, `${f}.shape[${d}]`)) };
      }
      return { kind: 'size', index: x.index as number };
    case 'constant': {
      const value = decodeConstant(x.value, `${f}.value`);
      if (value !== null && !['number', 'string', 'boolean'].includes(typeof value)) fail(`${f}.value`, 'is not a constant');
      return { kind: 'constant', value: value as number | string | boolean | null };
    }
    case 'input':
      if (!isName(x.target)) fail(`${f}.target`, 'is not a name');
      return { kind: 'input', target: x.target as string };
    default:
      return fail(`${f}.kind`, `is ${JSON.stringify(x.kind)}`);
  }
}

function checkState(x: unknown, i: number): StateSpec {
  const f = `state[${i}]`;
  if (!isObject(x) || !isName(x.name) || !isName(x.placeholder)) return fail(f, 'is not a state spec with a name and a placeholder');
  if (!['parameter', 'buffer', 'constant'].includes(x.kind as string)) fail(`${f}.kind`, `is ${JSON.stringify(x.kind)}`);
  if (!isDType(x.dtype)) fail(`${f}.dtype`, `is ${JSON.stringify(x.dtype)}`);
  const shape = list(x.shape, `${f}.shape`);
  if (!shape.every(isSize)) fail(`${f}.shape`, 'has a size that is not a non-negative integer');
  return { kind: x.kind as StateSpec['kind'], name: x.name, placeholder: x.placeholder, dtype: x.dtype as DType, shape: shape as number[] };
}

function checkMutation(x: unknown, i: number, graphOutputs: number, inputs: readonly UserInputSpec[], state: readonly StateSpec[]): MutationSpec {
  const f = `mutations[${i}]`;
  if (!isObject(x) || (x.kind !== 'input' && x.kind !== 'state') || !isName(x.target)) return fail(f, "is not a mutation { kind: 'input' | 'state', target, index }");
  if (!Number.isSafeInteger(x.index) || (x.index as number) < 0 || (x.index as number) >= graphOutputs) fail(`${f}.index`, `is not a graph output index (0..${graphOutputs - 1})`);
  const known = x.kind === 'input' ? inputs.some((s) => s.kind === 'tensor' && s.name === x.target) : state.some((s) => s.name === x.target);
  if (!known) fail(`${f}.target`, `names no ${x.kind === 'input' ? 'tensor input' : 'state tensor'} ('${x.target}')`);
  return { kind: x.kind, target: x.target, index: x.index as number, ...(typeof x.location === 'string' ? { location: x.location } : {}) };
}

function checkDim(x: unknown, i: number): DimSpec {
  const f = `dims[${i}]`;
  if (!isObject(x) || !isName(x.symbol) || !isName(x.name)) return fail(f, 'is not a dim with a symbol and a name');
  if (!isSize(x.min)) fail(`${f}.min`, 'is not a non-negative integer');
  if (x.max !== null && !(isSize(x.max) && (x.max as number) >= (x.min as number))) fail(`${f}.max`, 'is not an integer >= min, or null');
  const places = list(x.places, `${f}.places`);
  if (!places.every(isName)) fail(`${f}.places`, 'has an entry that is not a name');
  return { symbol: x.symbol, name: x.name, min: x.min as number, max: x.max === null ? Infinity : (x.max as number), places: places as string[] };
}

function checkAssert(x: unknown, i: number): AssertSpec {
  const f = `asserts[${i}]`;
  if (!isObject(x) || (x.kind !== 'relation' && x.kind !== 'check') || typeof x.text !== 'string' || x.expr === undefined) return fail(f, 'is not an assert { kind, expr, text }');
  parsed(() => shapesExpr.boolFromJson(x.expr as never), `${f}.expr`);
  return {
    kind: x.kind,
    expr: x.expr as AssertSpec['expr'],
    text: x.text,
    ...(typeof x.location === 'string' ? { location: x.location } : {}),
    ...(typeof x.message === 'string' ? { message: x.message } : {}),
  };
}

/** Runs a reader of @kiln/shapes JSON; whatever it throws on bad input becomes a ProgramFormatError. */
function parsed(read: () => unknown, field: string): void {
  try {
    read();
  } catch (err) {
    fail(field, `is not a size expression: ${(err as Error).message}`);
  }
}

function readTree(raw: unknown, field: string): TreeSpec {
  try {
    return deserializeTreeSpec(JSON.stringify(raw));
  } catch (err) {
    return fail(field, `is not a tree spec: ${(err as Error).message}`);
  }
}

/** Rebuilds a program from its JSON and its state tensors (by name), checking both. */
export function programFromJson(json: unknown, stateDict: ReadonlyMap<string, Tensor>): ExportedProgram {
  if (!isObject(json)) return fail('program', 'is not a JSON object');
  if (json.format !== PROGRAM_FORMAT) fail('format', `is ${JSON.stringify(json.format)}, expected '${PROGRAM_FORMAT}'`);
  if (json.formatVersion !== 1 && json.formatVersion !== PROGRAM_FORMAT_VERSION) fail('formatVersion', `is ${JSON.stringify(json.formatVersion)}; this Kiln reads versions 1 to ${PROGRAM_FORMAT_VERSION}`);
  if (typeof json.kilnVersion !== 'string') fail('kilnVersion', 'is not a string');
  const graph = deserializeGraph(json.graph as GraphJson);
  const graphOutputs = (graph.outputNode()?.args[0] as unknown[] | undefined)?.length ?? 0;
  if (!isObject(json.inputs) || !isObject(json.outputs)) fail('inputs/outputs', 'are not objects');
  const inputs = list((json.inputs as Record<string, unknown>).leaves, 'inputs.leaves').map(checkInput);
  const outputs = list((json.outputs as Record<string, unknown>).leaves, 'outputs.leaves').map((x, i) => checkOutput(x, i, graphOutputs));
  const inputTree = readTree((json.inputs as Record<string, unknown>).tree, 'inputs.tree');
  const outputTree = readTree((json.outputs as Record<string, unknown>).tree, 'outputs.tree');
  if (inputTree.numLeaves !== inputs.length) fail('inputs.tree', `has ${inputTree.numLeaves} leaves for ${inputs.length} input specs`);
  if (outputTree.numLeaves !== outputs.length) fail('outputs.tree', `has ${outputTree.numLeaves} leaves for ${outputs.length} output specs`);
  const state = list(json.state, 'state').map(checkState);
  const placeholders = new Set(graph.placeholders().map((p) => p.name));
  for (const s of state) {
    const t = stateDict.get(s.name);
    if (!t) fail(`state '${s.name}'`, 'has no tensor in the weights');
    if (t!.dtype !== s.dtype || t!.shape.join() !== s.shape.join()) fail(`state '${s.name}'`, `is ${s.dtype} [${s.shape.join(', ')}] but its tensor is ${t!.dtype} [${t!.shape.join(', ')}]`);
    if (!placeholders.has(s.placeholder)) fail(`state '${s.name}'.placeholder`, `names no graph input (%${s.placeholder})`);
  }
  const fed = new Set([...state.map((s) => s.placeholder), ...inputs.flatMap((i) => (i.kind === 'tensor' && i.placeholder ? [i.placeholder] : []))]);
  for (const p of placeholders) if (!fed.has(p)) fail('graph', `input %${p} is fed by no input or state spec`);
  const source = isObject(json.source) && typeof json.source.name === 'string' ? { name: json.source.name } : { name: 'program' };
  return withPrinter({
    kilnVersion: json.kilnVersion as string,
    graph,
    inputTree,
    inputs,
    outputTree,
    outputs,
    state,
    stateDict: new Map(state.map((s) => [s.name, stateDict.get(s.name)!])),
    dims: list(json.dims, 'dims').map(checkDim),
    asserts: list(json.asserts, 'asserts').map(checkAssert),
    mutations: json.formatVersion === 1 ? [] : list(json.mutations, 'mutations').map((m, i) => checkMutation(m, i, graphOutputs, inputs, state)),
    source,
  });
}

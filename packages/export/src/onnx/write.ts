// An exported program as an ONNX model (opset 17, IR version 8), encoded with onnx-proto's generated
// protobuf classes: user tensors are graph inputs named by their user names, with dynamic dims as
// `dim_param` (the dims' names), the state as initializers named state-dict style, and each core op through
// its rule in rules.ts. Runtime asserts and input range checks do not exist in ONNX: a caller of the model is
// trusted to pass sizes within the ranges (programModule checks them; ONNX Runtime does not).
import { createRequire } from 'node:module';
import type OnnxProto from 'onnx-proto';
import type { Argument, Node } from '@kiln/graph';
import { isSymInt } from '@kiln/shapes';
import type { SymInt } from '@kiln/shapes';
import { FakeTensor, Tensor, getOp, resultType } from '@kiln/tensor';
import type { DType } from '@kiln/tensor';
import { OnnxExportError } from '../errors.js';
import type { ExportedProgram, SizeSpec } from '../program.js';
import { OnnxBuilder, ONNX_TYPE } from './builder.js';
import type { OnnxDType } from './builder.js';
import { ONNX_RULES } from './rules.js';
import type { OnnxContext } from './rule-context.js';

// onnx-proto is 330 KB of generated CommonJS (protobufjs with it): importing it costs a fresh process ≈ 40 ms
// of CPU, so it is required on the first toOnnx() rather than whenever `kiln` or @kiln/export is imported.
let onnxMessages: typeof OnnxProto.onnx | undefined;
const onnxProto = (): typeof OnnxProto.onnx => (onnxMessages ??= (createRequire(import.meta.url)('onnx-proto') as typeof OnnxProto).onnx);

export const ONNX_OPSET = 17;
const IR_VERSION = 8;

export interface OnnxOptions {
  /** The default-domain opset to declare (17 or later; the rules use opset-17 operators). */
  readonly opset?: number;
}

function fakeOf(n: Argument): FakeTensor | undefined {
  const val = n && typeof n === 'object' && 'meta' in (n as object) ? (n as Node).meta.val : undefined;
  return val instanceof FakeTensor ? val : undefined;
}

/** Where each symbol can be read at run time: the first value (input or op result) with it as a whole dim. */
function symbolSources(nodes: readonly Node[]): Map<string, { node: Node; dim: number }> {
  const found = new Map<string, { node: Node; dim: number }>();
  for (const node of nodes) {
    const vals = Array.isArray(node.meta.val) ? [] : [node.meta.val];
    for (const val of vals) {
      if (!(val instanceof FakeTensor)) continue;
      val.shape.forEach((s, dim) => {
        if (!isSymInt(s)) return;
        const e = s.env.normalize(s.expr);
        const only = e.terms.length === 1 && e.constant === 0 && e.terms[0]!.coeff === 1 && e.terms[0]!.mono.factors.length === 1 && e.terms[0]!.mono.factors[0]!.power === 1 ? e.terms[0]!.mono.factors[0]!.atom : undefined;
        if (only?.kind === 'symbol' && !found.has(only.name)) found.set(only.name, { node, dim });
      });
    }
  }
  return found;
}

function valueInfo(name: string, dtype: OnnxDType, shape: readonly SizeSpec[], dimNames: ReadonlyMap<string, string>) {
  const dim = shape.map((s) => (typeof s === 'number' ? { dimValue: s } : 'sym' in s ? { dimParam: dimNames.get(s.sym) ?? s.sym } : {}));
  return { name, type: { tensorType: { elemType: ONNX_TYPE[dtype], shape: { dim } } } };
}

/** The ONNX model's bytes. Raises OnnxExportError naming the first op (or feature) without an ONNX form. */
export function toOnnx(program: ExportedProgram, options: OnnxOptions = {}): Uint8Array {
  const opset = options.opset ?? ONNX_OPSET;
  if (!Number.isInteger(opset) || opset < ONNX_OPSET) throw new OnnxExportError(`toOnnx: opset must be an integer >= ${ONNX_OPSET}, got ${String(opset)}`);
  const b = new OnnxBuilder();
  const values = new Map<Node, string | string[]>();
  const dimNames = new Map(program.dims.map((d) => [d.symbol, d.name]));
  const graph = program.graph;
  const inputs: ReturnType<typeof valueInfo>[] = [];
  for (const input of program.inputs) {
    if (input.kind !== 'tensor' || input.placeholder === null) continue;
    const node = graph.placeholders().find((p) => p.name === input.placeholder)!;
    values.set(node, b.reserve(input.name));
    inputs.push(valueInfo(input.name, input.dtype, input.shape, dimNames));
  }
  for (const s of program.state) {
    const node = graph.placeholders().find((p) => p.name === s.placeholder)!;
    const t = program.stateDict.get(s.name)!;
    values.set(node, b.initializer(b.reserve(s.name), t.toTypedArray(), s.dtype, s.shape));
  }
  const sources = symbolSources(graph.nodes);
  const symbolValues = new Map<string, string>();
  const lookup = (symbol: string): string => {
    let v = symbolValues.get(symbol);
    if (v) return v;
    const src = sources.get(symbol);
    const holder = src && values.get(src.node);
    if (!src || typeof holder !== 'string') throw new OnnxExportError(`the size ${dimNames.get(symbol) ?? symbol} is read before any tensor carries it`);
    v = b.op1('Gather', [b.op1('Shape', [holder]), b.int64s([src.dim])], { axis: 0 });
    symbolValues.set(symbol, v);
    return v;
  };
  const ctx = context(b, values, lookup, (size, value) => {
    const atom = isSymInt(size) ? size.env.normalize(size.expr) : undefined;
    const only = atom?.terms.length === 1 && atom.constant === 0 ? atom.terms[0]!.mono.factors[0]?.atom : undefined;
    if (only?.kind === 'symbol') symbolValues.set(only.name, value);
  });
  for (const node of graph.nodes) {
    if (node.kind === 'placeholder') continue;
    if (node.kind === 'constant') {
      values.set(node, constantValue(b, node.args[0]));
      continue;
    }
    if (node.kind === 'output') break;
    if (node.target === 'getitem') {
      const from = values.get(node.args[0] as Node);
      values.set(node, (from as string[])[node.args[1] as number]!);
      continue;
    }
    const rule = ONNX_RULES[node.target];
    if (!rule) {
      const where = node.meta.source ? ` (${node.meta.source.file}:${node.meta.source.line})` : '';
      if (getOp(node.target)?.random) {
        // ONNX's RandomNormal / RandomUniform draw from the runtime's own generator: the model could not give
        // the values Kiln's seeded generator gives, so the op is refused rather than approximated.
        throw new OnnxExportError(`op '${node.target}' (%${node.name}${where}) draws random numbers, which ONNX cannot reproduce: ONNX's Random* ops use the runtime's own generator, not Kiln's seeded one`, `draw the random tensor outside the exported function and pass it as an input`);
      }
      throw new OnnxExportError(`op '${node.target}' (%${node.name}${where}) has no ONNX mapping`, `\`kiln audit\` lists the ops that have one (the onnx column); rewrite the function with those, or run the program with programModule instead`);
    }
    values.set(node, rule(ctx, node));
  }
  const outputs = outputValues(program, b, values, dimNames, lookup);
  const model = {
    irVersion: IR_VERSION,
    producerName: 'kiln',
    producerVersion: program.kilnVersion,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: program.source.name.replace(/[^\w.]/g, '_') || 'kiln', node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  };
  const onnx = onnxProto();
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

function outputValues(program: ExportedProgram, b: OnnxBuilder, values: Map<Node, string | string[]>, dimNames: ReadonlyMap<string, string>, lookup: (s: string) => string) {
  const items = program.graph.outputNode()!.args[0] as readonly Argument[];
  const identity = (value: string, i: number): string => {
    const name = b.fresh(`output_${i}`);
    b.nodes.push({ name: b.fresh('output_node'), opType: 'Identity', input: [value], output: [name], attribute: [] });
    return name;
  };
  const returned = program.outputs.map((o, i) => {
    switch (o.kind) {
      case 'tensor':
        return valueInfo(identity(values.get(items[o.index] as Node) as string, i), o.dtype, o.shape, dimNames);
      case 'size':
        // A size (`x.shape[0]`) becomes a 0-d int64 output.
        return valueInfo(identity(b.op1('Reshape', [b.size(items[o.index] as number | SymInt, lookup), b.int64s([])]), i), 'int64', [], dimNames);
      case 'input': {
        const input = program.inputs.find((x) => x.name === o.target);
        const state = program.state.find((x) => x.name === o.target);
        const spec = input?.kind === 'tensor' ? input : state;
        if (!spec || (input?.kind === 'tensor' && input.placeholder === null)) throw new OnnxExportError(`output ${i} returns '${o.target}', which the graph never reads`);
        return valueInfo(identity(o.target, i), spec.dtype, spec.shape, dimNames);
      }
      case 'constant':
        throw new OnnxExportError(`output ${i} is the constant ${JSON.stringify(o.value)}; an ONNX model returns tensors only`, 'return it outside the exported function, or as a tensor');
      default:
        return o satisfies never;
    }
  });
  // In-place writes to inputs and state: ONNX values are immutable, so each new value is one more output,
  // after the function's own, named `<target>.mutated` (`x.mutated`, `running_mean.mutated`); a caller that
  // keeps state feeds it back.
  const mutated = program.mutations.map((m) => {
    const input = program.inputs.find((x) => x.kind === 'tensor' && x.name === m.target);
    const spec = input?.kind === 'tensor' ? input : program.state.find((x) => x.name === m.target)!;
    const name = b.fresh(`${m.target}.mutated`);
    b.nodes.push({ name: b.fresh('output_node'), opType: 'Identity', input: [values.get(items[m.index] as Node) as string], output: [name], attribute: [] });
    return valueInfo(name, spec.dtype, spec.shape, dimNames);
  });
  return [...returned, ...mutated];
}

function constantValue(b: OnnxBuilder, value: unknown): string {
  if (value instanceof Tensor) return b.constant(Array.from(value.toTypedArray()), value.dtype, value.shape);
  throw new OnnxExportError(`a constant node of type ${typeof value} has no ONNX form`);
}

function context(b: OnnxBuilder, values: Map<Node, string | string[]>, lookup: (s: string) => string, bindSymbol: OnnxContext['bindSymbol']): OnnxContext {
  const dtypeOf = (a: Argument): DType | undefined => fakeOf(a)?.dtype;
  return {
    b,
    dtypeOf,
    input(a, dtype) {
      const v = a && typeof a === 'object' && 'meta' in (a as object) ? values.get(a as Node) : undefined;
      if (typeof v === 'string') return dtype ? b.cast(v, dtypeOf(a), dtype) : v;
      if (isSymInt(a)) return b.cast(b.op1('Reshape', [b.size(a as unknown as SymInt, lookup), b.int64s([])]), 'int64', dtype ?? 'int32');
      if (typeof a === 'number' || typeof a === 'boolean') return b.scalar(Number(a), dtype ?? (typeof a === 'boolean' ? 'bool' : Number.isInteger(a) ? 'int32' : 'float32'));
      throw new OnnxExportError(`an argument of type ${typeof a} has no ONNX form`);
    },
    out(node) {
      const val = node.meta.val;
      const fake = val instanceof FakeTensor ? val : Array.isArray(val) && val[0] instanceof FakeTensor ? (val[0] as FakeTensor) : undefined;
      if (!fake) throw new OnnxExportError(`%${node.name} (${node.target}) has no tensor value`);
      return { dtype: fake.dtype, shape: fake.shape as readonly (number | SymInt)[] };
    },
    bindSymbol,
    shape: (sizes) => b.shape(sizes, lookup),
    size: (s) => b.size(s, lookup),
    promote: (args) => resultType(args.map((a) => (fakeOf(a) ? { dtype: fakeOf(a)!.dtype, ndim: fakeOf(a)!.shape.length } : isSymInt(a) ? 1 : (a as number | boolean)))),
  };
}

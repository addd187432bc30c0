import { ShapeEnv, SymInt, expr as shapesExpr } from '@kiln/shapes';
const { exprFromJson, exprToJson } = shapesExpr;
import type { ExprJson } from '@kiln/shapes';
import type { DType } from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { FakeTensor } from '@kiln/tensor';
import { checkGraphJson } from './check-json.js';
import { Graph, GraphError } from './graph.js';
import type { Argument, NodeKind, NodeMeta } from './node.js';
import { Node } from './node.js';
import { verify } from './verify.js';

/** JSON form of a graph: nodes by name, symbolic sizes as expression JSON, constant tensors with their data. */
export interface GraphJson {
  version: 1;
  level: 'api' | 'core';
  nodes: NodeJson[];
  symbols: Graph['symbols'];
  asserts: Graph['asserts'];
}
interface NodeJson {
  name: string;
  kind: NodeKind;
  target: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  meta: { val?: unknown; source?: NodeMeta['source']; inputSource?: string };
}

type Sym = { isSymInt: true; expr: Parameters<typeof exprToJson>[0]; hint?: number; env: ShapeEnv };
const isSym = (x: unknown): x is Sym => typeof x === 'object' && x !== null && 'isSymInt' in x;

function encode(x: unknown): unknown {
  if (x instanceof Node) return { node: x.name };
  if (x === undefined) return { undef: true };
  if (isSym(x)) {
    // Normalized first: replacements found after this value was made (s1 → 2) are part of what it means.
    const e = x.env.normalize(x.expr);
    const c = shapesExpr.asConstant(e);
    if (c !== undefined) return c;
    return { sym: exprToJson(e), ...(x.hint !== undefined ? { hint: x.hint } : {}) };
  }
  if (x instanceof FakeTensor) {
    return { fake: { shape: x.shape.map(encode), strides: x.strides.map(encode), offset: encode(x.offset), dtype: x.dtype } };
  }
  // Non-finite values as strings: JSON.stringify would write NaN and ±Infinity as null (read back as 0).
  if (x instanceof Tensor) return { tensor: { dtype: x.dtype, shape: [...x.shape], data: Array.from(x.toTypedArray(), finiteOrString) } };
  if (Array.isArray(x)) return x.map(encode);
  if (x !== null && typeof x === 'object') {
    return { obj: Object.fromEntries(Object.entries(x).map(([k, v]) => [k, encode(v)])) };
  }
  if (typeof x === 'number' && !Number.isFinite(x)) return { num: String(x) };
  return x;
}

export function serializeGraph(graph: Graph): GraphJson {
  return {
    version: 1,
    level: graph.level,
    nodes: graph.nodes.map((n) => ({
      name: n.name,
      kind: n.kind,
      target: n.target,
      args: n.args.map(encode),
      kwargs: encode(n.kwargs as Argument) as { obj: Record<string, unknown> } as unknown as Record<string, unknown>,
      meta: {
        ...(n.meta.val !== undefined ? { val: encode(n.meta.val) } : {}),
        ...(n.meta.source ? { source: n.meta.source } : {}),
        ...(n.meta.inputSource ? { inputSource: n.meta.inputSource } : {}),
      },
    })),
    symbols: graph.symbols,
    asserts: graph.asserts,
  };
}

/** How much deserializeGraph trusts its input. */
export interface DeserializeOptions {
  /**
   * `serializeGraph` of this very code made the JSON, and it arrives unaltered (a persistent cache entry,
   * checksummed and keyed by the code's stamp): the checks are skipped, which a fresh process would spend
   * more time on than on rebuilding the graph. Default false.
   */
  readonly madeByThisCode?: boolean;
}

/**
 * Rebuilds a graph; symbolic sizes become SymInts of `env` (a fresh one by default). The JSON is checked
 * first (check-json.ts) and the graph verified after, so bad input is a GraphError, never a broken graph.
 */
export function deserializeGraph(json: GraphJson, env: ShapeEnv = new ShapeEnv(), options: DeserializeOptions = {}): Graph {
  const checked = !options.madeByThisCode;
  if (checked) checkGraphJson(json);
  const graph = new Graph(json.level);
  const byName = new Map<string, Node>();
  const decode = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(decode);
    if (x === null || typeof x !== 'object') return x;
    const o = x as Record<string, any>;
    if ('node' in o) {
      const n = byName.get(o.node);
      if (!n) throw new GraphError(`graph JSON refers to unknown node %${String(o.node)}`);
      return n;
    }
    if ('undef' in o) return undefined;
    if ('num' in o) return Number(o.num);
    if ('sym' in o) return new SymInt(exprFromJson(o.sym as ExprJson), env, o.hint);
    if ('fake' in o) {
      const f = o.fake;
      return new FakeTensor(f.shape.map(decode), f.strides.map(decode), decode(f.offset) as number, f.dtype as DType);
    }
    if ('tensor' in o) {
      const t = o.tensor;
      return Tensor.fromData(toTyped(t.dtype, t.data), t.shape, t.dtype);
    }
    if ('obj' in o) return Object.fromEntries(Object.entries(o.obj as object).map(([k, v]) => [k, decode(v)]));
    throw new GraphError(`graph JSON has an unknown value ${JSON.stringify(x).slice(0, 80)}`);
  };
  for (const n of json.nodes) {
    const meta: NodeMeta = {};
    if (n.meta.val !== undefined) meta.val = decode(n.meta.val);
    if (n.meta.source) meta.source = n.meta.source;
    if (n.meta.inputSource) meta.inputSource = n.meta.inputSource;
    const args = n.args.map(decode) as Argument[];
    const kwargs = decode(n.kwargs) as Record<string, Argument>;
    const node =
      n.kind === 'placeholder' ? graph.placeholder(n.name, meta)
      : n.kind === 'constant' ? graph.constant(args[0], meta)
      : n.kind === 'output' ? graph.output(args[0])
      : graph.call(n.target, args, kwargs, meta);
    if (node.name !== n.name) node.name = n.name;
    byName.set(n.name, node);
  }
  graph.symbols = json.symbols;
  graph.asserts = json.asserts;
  if (checked) verify(graph, 'read from JSON');
  return graph;
}

const finiteOrString = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

function toTyped(dtype: DType, data: (number | string)[]) {
  const empty = Tensor.empty([data.length], dtype).storage.data;
  empty.set(data.map(Number));
  return empty;
}

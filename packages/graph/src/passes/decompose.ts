import { ShapeEnv } from '@kiln/shapes';
import { Tensor, getOp, normalizeArgs, withDispatchMode } from '@kiln/tensor';
import { FakeTensor } from '@kiln/tensor';
import { Graph } from '../ir/graph.js';
import type { Argument } from '../ir/node.js';
import { Node, mapArgument } from '../ir/node.js';
import { GraphRecorder } from '../trace-ops/recorder.js';
import { attachShapeInfo } from '../trace-ops/trace-ops.js';

/**
 * API graph → core graph: replays the graph on its fake values under a recorder that expands every
 * composite op into its decomposition, so the result holds only core ops. Placeholders, constants and
 * source locations carry over.
 */
export function decompose(api: Graph, shapeEnv?: ShapeEnv): Graph {
  // Without the trace's shape env, a fresh one only names symbols that decompositions themselves create;
  // the symbol table and asserts are carried over from the API graph.
  const env = shapeEnv ?? new ShapeEnv();
  const recorder = new GraphRecorder(env, { decompose: true });
  const value = new Map<Node, unknown>();
  const read = (a: Argument): unknown =>
    mapArgumentValues(a, (n) => {
      if (!value.has(n)) throw new Error(`decompose: %${n.name} read before it is computed`);
      return value.get(n);
    });
  withDispatchMode(recorder, () => {
    for (const node of api.nodes) {
      recorder.location = node.meta.source;
      switch (node.kind) {
        case 'placeholder': {
          const fake = node.meta.val as FakeTensor;
          recorder.addFakeInput(fake, node.name, node.meta.inputSource);
          value.set(node, fake);
          break;
        }
        case 'constant':
          value.set(node, node.args[0]);
          break;
        case 'call': {
          const args = node.args.map(read);
          if (node.target === 'getitem') {
            value.set(node, (args[0] as Record<string | number, unknown>)[args[1] as string | number]);
            break;
          }
          const kwargs = read(node.kwargs as Argument) as Record<string, unknown>;
          const op = getOp(node.target)!;
          if (!op.decompose) {
            // A core op is copied with its recorded value, so data-dependent symbols (u0) keep their names.
            value.set(node, recorder.recordCall(op, normalizeArgs(op.name, op.schema, [...args, ...(Object.keys(kwargs).length ? [kwargs] : [])], (x) => x instanceof Tensor), node.meta.val));
            break;
          }
          value.set(node, Object.keys(kwargs).length ? op.fn(...args, kwargs) : op.fn(...args));
          break;
        }
        case 'output':
          recorder.setOutput(read(node.args[0]) as unknown[]);
          break;
        default:
          node.kind satisfies never;
      }
    }
  });
  if (shapeEnv) attachShapeInfo(recorder.graph, shapeEnv);
  else {
    recorder.graph.symbols = api.symbols;
    recorder.graph.asserts = api.asserts;
  }
  return recorder.graph;
}

function mapArgumentValues(a: Argument, f: (n: Node) => unknown): unknown {
  if (a instanceof Node) return f(a);
  if (a instanceof Tensor) return a;
  if (Array.isArray(a)) return a.map((x) => mapArgumentValues(x, f));
  if (a !== null && typeof a === 'object' && !('isSymInt' in a)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) out[k] = mapArgumentValues(v as Argument, f);
    return out;
  }
  return a;
}

export { mapArgument };

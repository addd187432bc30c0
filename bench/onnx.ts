// A small ONNX model builder (protobuf wire format by hand) and ONNX Runtime sessions for the benches.
// Written here rather than pulled from onnx/protobufjs tooling: the benches need a handful of ops, and a
// few dozen lines of encoding keep the peer's graphs visible next to Kiln's code.
// Field numbers follow onnx.proto (IR version 8, opset 17).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// ---- protobuf wire format: varints (wire type 0), fixed32 (5), length-delimited (2) ----

type Bytes = number[];

function varint(value: number | bigint): Bytes {
  // int64 fields carry negative values (axis -1) as their 64-bit two's complement: ten bytes.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number | bigint): Bytes => [...key(field, 0), ...varint(value)];
const bytes = (field: number, data: ArrayLike<number>): Bytes => [...key(field, 2), ...varint(data.length), ...Array.from(data)];
const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, parts: Bytes[]): Bytes => bytes(field, parts.flat());
function float(field: number, value: number): Bytes {
  const b = new Uint8Array(new Float32Array([value]).buffer);
  return [...key(field, 5), ...b];
}

// ---- ONNX messages ----

/** TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;

export type Attr = number | number[] | { float: number };

// AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7). Plain numbers are ints
// (axis, keepdims); floats must be marked, since 1e-5 and 1 would otherwise be ambiguous.
function attribute(name: string, value: Attr): Bytes {
  if (Array.isArray(value)) return msg(5, [str(1, name), ...value.map((v) => int(8, v)), int(20, 7)]);
  if (typeof value === 'object') return msg(5, [str(1, name), float(2, value.float), int(20, 1)]);
  return msg(5, [str(1, name), int(3, value), int(20, 2)]);
}

// ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 } } } } }.
function valueInfo(field: number, name: string, dims: readonly number[] | undefined): Bytes {
  const shape = dims && [msg(2, dims.map((d) => msg(1, [int(1, d)])))];
  return msg(field, [str(1, name), msg(2, [msg(1, [int(1, FLOAT), ...(shape ?? [])])])]);
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as on every machine Node runs on).
function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): Bytes {
  const type = data instanceof Float32Array ? FLOAT : INT64;
  return msg(5, [...dims.map((d) => int(1, d)), int(2, type), str(8, name), bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))]);
}

/** Builds one graph: inputs, constants (initializers) and nodes, named t0, t1, … in order. */
export class OnnxGraph {
  private parts: Bytes[] = [];
  private inputs: Bytes[] = [];
  private outputs: Bytes[] = [];
  private count = 0;

  input(name: string, dims: readonly number[]): string {
    this.inputs.push(valueInfo(11, name, dims));
    return name;
  }

  /** A float32 constant; a plain number becomes a scalar that broadcasts like Kiln's `x.mul(1.5)`. */
  const(value: number | Float32Array, dims: readonly number[] = typeof value === 'number' ? [] : [value.length]): string {
    const name = `c${this.count++}`;
    this.parts.push(tensor(name, dims, typeof value === 'number' ? new Float32Array([value]) : value));
    return name;
  }

  /** An int64 constant: ReduceSum takes its axes as an input since opset 13. */
  ints(values: number[]): string {
    const name = `c${this.count++}`;
    this.parts.push(tensor(name, [values.length], BigInt64Array.from(values.map(BigInt))));
    return name;
  }

  /** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const out = `t${this.count++}`;
    const attributes = Object.entries(attrs).map(([n, v]) => attribute(n, v));
    this.parts.push(msg(1, [...inputs.map((i) => str(1, i)), str(2, out), str(3, `${type}_${out}`), str(4, type), ...attributes]));
    return out;
  }

  output(name: string, dims?: readonly number[]): void {
    this.outputs.push(valueInfo(12, name, dims));
  }

  /** ModelProto: ir_version 1, producer_name 2, graph 7 (GraphProto: name 2, …), opset_import 8. */
  build(): Uint8Array {
    const graph = msg(7, [...this.parts, str(2, 'kiln_bench'), ...this.inputs, ...this.outputs]);
    const opset = msg(8, [str(1, ''), int(2, 17)]);
    return new Uint8Array([...int(1, 8), ...str(2, 'kiln-bench'), ...graph, ...opset]);
  }
}

// ---- ONNX Runtime: native (onnxruntime-node) and wasm (onnxruntime-web), both on one thread ----

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

let runtimes: Promise<{ node: Ort; web: Ort }> | undefined;

/**
 * Both packages re-export one shared onnxruntime-common, so they share its backend registry: ort-node
 * registers 'cpu' at priority 100 and ort-web 'wasm' (and 'cpu' at 10). Sessions therefore name their
 * execution provider explicitly — 'cpu' is native, 'wasm' is the wasm build.
 */
export function loadOrt() {
  runtimes ??= (async () => {
    const node = (await import('onnxruntime-node')) as unknown as Ort;
    const web = (await import('onnxruntime-web')) as unknown as Ort;
    const req = createRequire(import.meta.url);
    // The Node build finds its .wasm next to itself already; pointing at the dist folder makes it explicit.
    web.env.wasm.wasmPaths = pathToFileURL(join(dirname(req.resolve('onnxruntime-web')), '/')).href;
    web.env.wasm.numThreads = 1; // like for like with Kiln's single-threaded kernels
    web.env.wasm.proxy = false;
    // ort-web's emscripten glue sets `global.Worker = worker_threads.Worker` when its wasm starts in Node.
    // jax-js reads `typeof Worker` to choose shared memory, at init and again per compiled kernel, so a
    // Worker appearing after its init makes its later kernels fail to link. Start ort-web's wasm now with
    // a trivial session, then take the global back out: with numThreads 1 ort-web never starts a worker.
    const hadWorker = 'Worker' in globalThis;
    const g = new OnnxGraph();
    g.output(g.op('Relu', [g.input('x', [1])]));
    await web.InferenceSession.create(g.build(), { executionProviders: ['wasm'] });
    if (!hadWorker) delete (globalThis as { Worker?: unknown }).Worker;
    return { node, web };
  })();
  return runtimes;
}

export interface OrtRunner {
  /** One inference with the feeds made once up front; resolves to the output read back as a Float32Array. */
  node: () => Promise<Float32Array>;
  web: () => Promise<Float32Array>;
}

/** Sessions for `model` on both runtimes, with float32 feeds made once (their data stays in JS memory). */
export async function ortRunner(model: Uint8Array, feeds: OrtFeeds): Promise<OrtRunner> {
  const { node, web } = await loadOrt();
  return { node: await ortSession(node, 'cpu', model, feeds), web: await ortSession(web, 'wasm', model, feeds) };
}

export type OrtFeeds = Record<string, { data: Float32Array; dims: readonly number[] }>;

/**
 * One session of `model` on execution provider `ep` ('cpu' and 'webgpu' in ort-node, 'wasm' in ort-web),
 * one thread, with float32 feeds made once; each call runs it and reads the output back.
 */
export async function ortSession(ort: Ort, ep: 'cpu' | 'wasm' | 'webgpu', model: Uint8Array, feeds: OrtFeeds): Promise<() => Promise<Float32Array>> {
  const session: Session = await ort.InferenceSession.create(model, {
    executionProviders: [ep],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputs = Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor('float32', f.data, f.dims)]));
  const out = session.outputNames[0]!;
  return async () => (await session.run(inputs))[out]!.data as Float32Array;
}

/** Largest |a[i] - b[i]|, to show the ONNX graph computes what Kiln's eager code does. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Builds an ONNX graph as plain objects in the shape of onnx-proto's messages (NodeProto, TensorProto…):
// fresh value names, nodes with typed attributes, constants as initializers, casts, and the int64 shape
// arithmetic that symbolic sizes need (a size is read from a tensor's Shape at run time, so one model
// serves every size in the declared ranges).
import type { DType } from '@kiln/tensor';
import { isSymInt } from '@kiln/shapes';
import type { Expr, SymInt } from '@kiln/shapes';
import { OnnxExportError } from '../errors.js';

/** ONNX TensorProto.DataType values Kiln's dtypes map to (plus INT64 for shapes and indices). */
export const ONNX_TYPE = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type OnnxDType = DType | 'int64';

export type AttrValue = number | readonly number[] | string | { readonly float: number } | { readonly tensor: TensorProtoObject };

export interface TensorProtoObject {
  name?: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

export interface NodeProtoObject {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

const ITEM: Record<OnnxDType, number> = { float32: 4, float64: 8, int32: 4, int64: 8, bool: 1 };

/** Little-endian bytes of `values` as `dtype` (ONNX raw_data is little-endian). */
export function rawBytes(values: ArrayLike<number>, dtype: OnnxDType): Uint8Array {
  const out = new Uint8Array(values.length * ITEM[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === 'float32') view.setFloat32(i * 4, v, true);
    else if (dtype === 'float64') view.setFloat64(i * 8, v, true);
    else if (dtype === 'int32') view.setInt32(i * 4, v, true);
    else if (dtype === 'int64') view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true);
    else view.setUint8(i, v ? 1 : 0);
  }
  return out;
}

function attribute(name: string, value: AttrValue): Record<string, unknown> {
  if (typeof value === 'number') return { name, type: 'INT', i: value };
  if (typeof value === 'string') return { name, type: 'STRING', s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: 'INTS', ints: [...value] };
  if ('float' in (value as object)) return { name, type: 'FLOAT', f: (value as { float: number }).float };
  return { name, type: 'TENSOR', t: (value as { tensor: TensorProtoObject }).tensor };
}

export class OnnxBuilder {
  readonly nodes: NodeProtoObject[] = [];
  readonly initializers: TensorProtoObject[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly sizes = new Map<string, string>();

  /** A value name not used yet (`base`, then `base_1`…). */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name chosen outside (graph inputs, initializers named by state). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new OnnxExportError(`two ONNX values are named '${name}'`);
    this.used.add(name);
    return name;
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    const attribute_ = Object.entries(attrs).flatMap(([k, v]) => (v === undefined ? [] : [attribute(k, v)]));
    this.nodes.push({ name: this.fresh(`${opType}_node`), opType, input: [...inputs], output: out, attribute: attribute_ });
    return out;
  }

  op1(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.op(opType, inputs, attrs)[0]!;
  }

  initializer(name: string, values: ArrayLike<number>, dtype: OnnxDType, dims: readonly number[]): string {
    this.initializers.push({ name, dims: [...dims], dataType: ONNX_TYPE[dtype], rawData: rawBytes(values, dtype) });
    return name;
  }

  /** A constant tensor (shared when the same values recur). */
  constant(values: readonly number[], dtype: OnnxDType, dims: readonly number[] = [values.length]): string {
    const key = `${dtype}|${dims.join(',')}|${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    let name = this.constants.get(key);
    if (!name) this.constants.set(key, (name = this.initializer(this.fresh('const'), values, dtype, dims)));
    return name;
  }

  scalar(value: number, dtype: OnnxDType): string {
    return this.constant([value], dtype, []);
  }

  int64s(values: readonly number[]): string {
    return this.constant(values, 'int64');
  }

  cast(value: string, from: OnnxDType | undefined, to: OnnxDType): string {
    return from === to ? value : this.op1('Cast', [value], { to: ONNX_TYPE[to] });
  }

  /**
   * A size as a 1-D int64 tensor of length 1: a number is a constant; a symbolic size is computed from the
   * tensors that carry its symbols (`lookup(symbol)` gives each symbol's [1]-shaped value).
   */
  size(s: number | SymInt, lookup: (symbol: string) => string): string {
    if (typeof s === 'number') return this.int64s([s]);
    if (!isSymInt(s)) throw new OnnxExportError(`a size of type ${typeof s} in the graph`);
    return this.expr(s.env.normalize(s.expr), lookup);
  }

  /** A shape as a 1-D int64 tensor. */
  shape(sizes: readonly (number | SymInt)[], lookup: (symbol: string) => string): string {
    if (sizes.every((s) => typeof s === 'number')) return this.int64s(sizes as number[]);
    return this.op1('Concat', sizes.map((s) => this.size(s, lookup)), { axis: 0 });
  }

  private expr(e: Expr, lookup: (symbol: string) => string): string {
    const cached = this.sizes.get(e.key);
    if (cached) return cached;
    let total: string | undefined = e.constant !== 0 || e.terms.length === 0 ? this.int64s([e.constant]) : undefined;
    for (const term of e.terms) {
      let value: string | undefined = term.coeff === 1 ? undefined : this.int64s([term.coeff]);
      for (const f of term.mono.factors) {
        const atom = this.atom(f.atom, lookup);
        for (let p = 0; p < f.power; p++) value = value ? this.op1('Mul', [value, atom]) : atom;
      }
      total = total ? this.op1('Add', [total, value!]) : value!;
    }
    this.sizes.set(e.key, total!);
    return total!;
  }

  private atom(a: Expr['terms'][number]['mono']['factors'][number]['atom'], lookup: (symbol: string) => string): string {
    if (a.kind === 'symbol') return lookup(a.name);
    if (a.kind === 'nested') throw new OnnxExportError('a ragged (nested int) size has no ONNX form');
    const [x, y] = a.args.map((arg) => this.expr(arg, lookup)) as [string, string];
    switch (a.fn) {
      case 'FloorDiv':
        // Sizes are non-negative, where integer Div's truncation is floor division.
        return this.op1('Div', [x, y]);
      case 'Mod':
        return this.op1('Mod', [x, y], { fmod: 0 });
      case 'Min':
        return this.op1('Min', [x, y]);
      case 'Max':
        return this.op1('Max', [x, y]);
      case 'TrueDiv':
        throw new OnnxExportError('a size computed by true division has no integer ONNX form');
      default:
        return a.fn satisfies never;
    }
  }
}

// What an ONNX rule sees (OnnxContext: typed operands, the node's output dtype and shape, symbolic sizes as
// int64 arithmetic on Shape) and the small argument helpers every rule file shares.
import type { Argument, Node } from '@kiln/graph';
import type { SymInt } from '@kiln/shapes';
import type { DType } from '@kiln/tensor';
import type { OnnxBuilder } from './builder.js';

export interface OnnxContext {
  readonly b: OnnxBuilder;
  /** The ONNX value of a tensor argument (cast to `dtype` when given), or a constant of `dtype` for a scalar. */
  input(a: Argument, dtype?: DType): string;
  dtypeOf(a: Argument): DType | undefined;
  /** The node's output dtype and shape (from its fake tensor). */
  out(node: Node): { dtype: DType; shape: readonly (number | SymInt)[] };
  /** A shape / one size as 1-D int64, symbolic sizes computed from Shape at run time. */
  shape(sizes: readonly (number | SymInt)[]): string;
  size(s: number | SymInt): string;
  /** Says where a data-dependent size (`item()`'s value) is read at run time: `value` is 1-D int64 [1]. */
  bindSymbol(size: unknown, value: string): void;
  /** The promoted dtype of operands, as eager promotes them (tensors and Python-style scalars). */
  promote(args: readonly Argument[]): DType;
}

export type OnnxRule = (ctx: OnnxContext, node: Node) => string | string[];

export const arg = (node: Node, i: number, name: string, fallback?: unknown): unknown => (node.args.length > i ? node.args[i] : node.kwargs[name] ?? fallback);
export const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** dim list of a reduction as axes (null: every dim), normalized to non-negative. */
export function axes(dims: unknown, rank: number): number[] {
  if (dims === null || dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(dims) ? (dims as number[]) : [dims as number];
  return list.map((d) => (d < 0 ? d + rank : d));
}
export const rankOf = (ctx: OnnxContext, a: Argument): number => (((a as Node).meta?.val as { shape?: unknown[] })?.shape?.length ?? 0);

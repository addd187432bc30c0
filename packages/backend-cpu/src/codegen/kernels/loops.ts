// Loop-nest shaping shared by the kernels: dropping size-1 axes and merging axes that every access walks
// contiguously (a contiguous 1024×1024 add becomes one loop of 1M), then emitting the nest itself.
import type { Access, SizeExpr, ValueExpr } from '@kiln/lower';
import { mapValue, sizeMul, someNode, walk } from '@kiln/lower';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { emitSize } from './sizes.js';

const same = (a: SizeExpr, b: SizeExpr) => JSON.stringify(a) === JSON.stringify(b);

/** Rebuilds an expression with every load's access mapped, keeping shared sub-expressions shared. */
export function mapAccesses(e: ValueExpr, fn: (a: Access) => Access, memo = new Map<ValueExpr, ValueExpr>()): ValueExpr {
  return mapValue(
    e,
    (n) => {
      if (n.kind === 'load') return { ...n, access: fn(n.access) };
      // mapValue does not descend below a replaced node: the position is mapped here.
      if (n.kind === 'gather') return { ...n, access: fn(n.access), position: mapAccesses(n.position, fn, memo) };
      return undefined;
    },
    memo,
  );
}

export function collectAccesses(e: ValueExpr, into: Access[] = []): Access[] {
  walk(e, (n) => {
    if (n.kind === 'load' || n.kind === 'gather') into.push(n.access);
  });
  return into;
}

export const usesIndex = (e: ValueExpr): boolean => someNode(e, (n) => n.kind === 'index');

/**
 * Simplifies axes [first, last) of an iteration space: drops axes of constant size 1 and merges a pair
 * (i, i+1) when every access has stride_i == stride_{i+1} * size_{i+1}. Returns the new sizes and the
 * access rewrite; axes outside the range are left alone.
 */
export function simplifyAxes(
  sizes: readonly SizeExpr[],
  accesses: readonly Access[],
  first = 0,
  last = sizes.length,
): { sizes: SizeExpr[]; rewrite: (a: Access) => Access } {
  // keep[i] = list of original axes folded into new axis i (innermost last)
  let groups: number[][] = [];
  for (let i = 0; i < sizes.length; i++) {
    if (i >= first && i < last && sizes[i] === 1 && last - first > 1) continue;
    groups.push([i]);
  }
  if (groups.filter((g) => g[0]! >= first && g[0]! < last).length === 0 && last > first) {
    groups = [...groups.filter((g) => g[0]! < first), [last - 1], ...groups.filter((g) => g[0]! >= last)];
    groups.sort((a, b) => a[0]! - b[0]!);
  }
  // innermost first, the order contiguousStrides multiplies in, so symbolic strides compare equal
  const sizeOf = (g: number[]) => g.reduceRight<SizeExpr>((acc, i) => sizeMul(acc, sizes[i]!), 1);
  for (let gi = groups.length - 2; gi >= 0; gi--) {
    const a = groups[gi]!;
    const b = groups[gi + 1]!;
    const inRange = (g: number[]) => g[0]! >= first && g[0]! < last;
    if (!inRange(a) || !inRange(b)) continue;
    const innerA = a[a.length - 1]!;
    const innerB = b[b.length - 1]!;
    const ok = accesses.every((acc) => same(acc.strides[innerA]!, sizeMul(acc.strides[innerB]!, sizeOf(b))));
    if (ok) groups.splice(gi, 2, [...a, ...b]);
  }
  return {
    sizes: groups.map(sizeOf),
    rewrite: (acc) => ({ offset: acc.offset, strides: groups.map((g) => acc.strides[g[g.length - 1]!]!) }),
  };
}

/**
 * A share of a kernel's outermost axis, [begin, end): two i32 arguments of a kernel that threads can split
 * (see KernelSignature.split). Indices stay absolute, so addressing is the same on every thread.
 */
export interface AxisRange {
  readonly begin: Local<'i32'>;
  readonly end: Local<'i32'>;
}

/** Emits `for` loops over `sizes` (outermost first), calling `body` innermost; `range` bounds the outermost. */
export function emitNest(
  f: FunctionBuilder,
  sizes: readonly SizeExpr[],
  params: ReadonlyMap<string, Local<'i32'>>,
  body: (indices: Local<'i32'>[]) => void,
  range?: AxisRange,
): void {
  const indices: Local<'i32'>[] = [];
  const open = (d: number): void => {
    if (d === sizes.length) return body(indices);
    const i = f.local('i32');
    indices.push(i);
    if (d === 0 && range) return void f.forRange(i, () => f.get(range.begin), range.end, 1, () => open(d + 1));
    const end = f.local('i32');
    emitSize(f, sizes[d]!, params);
    f.set(end);
    f.forRange(i, () => f.i32(0), end, 1, () => open(d + 1));
  };
  open(0);
}

/**
 * emitGroupedVectorLoop with two bodies of one vector each, alternately, so a reduction can keep two
 * accumulators. One accumulator makes every vector add wait for the previous one (3–4 cycles of latency),
 * which bounded row sums at about a third of memory speed. A reduction's store pass uses it too (the same
 * body twice), to halve its loop bookkeeping.
 */
export function emitUnrolledVectorLoop(
  f: FunctionBuilder,
  size: SizeExpr,
  params: ReadonlyMap<string, Local<'i32'>>,
  j: Local<'i32'>,
  bodies: readonly [() => void, () => void],
  scalarBody: () => void,
  block?: LoopBlock,
): void {
  const pair = () => {
    bodies[0]();
    f.get(j).i32(4).op('i32_add').set(j);
    bodies[1]();
    f.get(j).i32(4).op('i32_sub').set(j);
  };
  emitGroupedVectorLoop(f, size, params, j, 2, pair, bodies[0], scalarBody, block);
}

/** Blocks of `elements`, each followed by `flush` (a float32 sum moves its block sums into a total). */
export interface LoopBlock {
  readonly elements: number;
  readonly flush: () => void;
}

/**
 * The innermost loop over `size` elements, `j` holding the element index: `groupBody` per `vectors` whole
 * vectors from j (a power of two; the body reaches vector u at j + 4u, e.g. through RowAddressing.laneBase),
 * then `vectorBody` per four of the elements left, then `scalarBody` for the last 0–3. With `block`, the
 * groups run in blocks of `block.elements` (a multiple of 4·vectors), each followed by `block.flush`, so no
 * lane of a float32 sum adds a small value to a huge partial sum (see emitFold).
 */
export function emitGroupedVectorLoop(
  f: FunctionBuilder,
  size: SizeExpr,
  params: ReadonlyMap<string, Local<'i32'>>,
  j: Local<'i32'>,
  vectors: number,
  groupBody: () => void,
  vectorBody: () => void,
  scalarBody: () => void,
  block?: LoopBlock,
): void {
  const end = f.local('i32');
  const groupEnd = f.local('i32');
  const vecEnd = f.local('i32');
  const groupElements = 4 * vectors;
  emitSize(f, size, params);
  f.set(end);
  f.get(end).i32(-groupElements).op('i32_and').set(groupEnd);
  f.get(end).i32(-4).op('i32_and').set(vecEnd);
  const groups = (from: () => void, to: Local<'i32'>) => f.forRange(j, from, to, groupElements, groupBody);
  if (block) {
    const start = f.local('i32');
    const blockEnd = f.local('i32');
    f.forRange(start, () => f.i32(0), groupEnd, block.elements, () => {
      f.get(start).i32(block.elements).op('i32_add').set(blockEnd);
      f.get(blockEnd).get(groupEnd).get(blockEnd).get(groupEnd).op('i32_lt_s').op('select').set(blockEnd);
      groups(() => f.get(start), blockEnd);
      block.flush();
    });
  } else {
    groups(() => f.i32(0), groupEnd);
  }
  f.forRange(j, () => f.get(groupEnd), vecEnd, 4, vectorBody);
  f.forRange(j, () => f.get(vecEnd), end, 1, scalarBody);
}

/**
 * The innermost loop over `size` elements: `vectorBody` per four elements, then `scalarBody` for the
 * remaining 0–3. `j` holds the element index in both. `range` (a thread's share of a one-axis kernel)
 * replaces [0, size): vector steps from its begin.
 */
export function emitVectorLoop(
  f: FunctionBuilder,
  size: SizeExpr,
  params: ReadonlyMap<string, Local<'i32'>>,
  j: Local<'i32'>,
  vectorBody: (() => void) | null,
  scalarBody: () => void,
  range?: AxisRange,
): void {
  if (range && vectorBody) {
    const vecEnd = f.local('i32');
    // begin + (end - begin) & ~3: whole vector steps from begin, then the 0-3 left over
    f.get(range.begin).get(range.end).get(range.begin).op('i32_sub').i32(-4).op('i32_and', 'i32_add').set(vecEnd);
    f.forRange(j, () => f.get(range.begin), vecEnd, 4, vectorBody);
    f.forRange(j, () => f.get(vecEnd), range.end, 1, scalarBody);
    return;
  }
  if (range) return void f.forRange(j, () => f.get(range.begin), range.end, 1, scalarBody);
  const end = f.local('i32');
  const vecEnd = f.local('i32');
  emitSize(f, size, params);
  f.set(end);
  if (vectorBody) {
    f.get(end).i32(-4).op('i32_and').set(vecEnd);
    f.forRange(j, () => f.i32(0), vecEnd, 4, vectorBody);
    f.forRange(j, () => f.get(vecEnd), end, 1, scalarBody);
  } else {
    f.forRange(j, () => f.i32(0), end, 1, scalarBody);
  }
}

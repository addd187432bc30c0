// Core graph → loop-IR program. Pointwise ops and views compose into virtual values (fusion by
// construction); a kernel is emitted where a value must exist in memory: a graph output, a value read by
// more than one node, a matmul operand, a reduction result, or the input of an eager fallback.
import type { ScalarLike, Tensor } from '@kiln/tensor';
import { getOp, resultType } from '@kiln/tensor';
import type { Graph } from '@kiln/graph';
import type { Argument, Node } from '@kiln/graph';
import { cast } from '../loop-ir/build.js';
import { contiguousStrides } from '../loop-ir/sizes.js';
import { LoweringError } from './errors.js';
import type { FallbackStep, LoweredProgram, ProgramBuffer, ProgramOutput, ProgramStep } from '../program/program.js';
import { computeDtype, lowersForDtype, pointwiseRules } from './pointwise-rules.js';
import { lowerMatmul, lowerReduction, REDUCTIONS } from './reduce-matmul.js';
import { ProgramBuilder, loopDtype } from './builder.js';
import { bareSymbol, toSizeExpr } from './sizes-from-shapes.js';
import type { BufferValue, LoweredValue } from './values.js';
import { axisIndex, readBroadcast, readValue } from './values.js';
import { fuseProgram, lastUses } from '../schedule/fuse.js';
import type { ValueExpr } from '../loop-ir/loop-ir.js';
import { lowerView, VIEW_OPS } from './view-rules.js';
import { INDEX_OPS, PositionNotExpressible, lowerIndexOp } from './index-rules.js';
import { JOIN_OPS, lowerJoin } from './join-rules.js';
import { GATHER_OPS, lowerGatherOp } from './gather-rules.js';
import { lowerCumsum } from './scan-rules.js';
import { describeScalarArg, scalarInput, scalarOperand } from './scalar-operands.js';
import { checkAllPlaced, emitReadyAsserts } from './assert-steps.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };
const isTensorValue = (v: unknown): v is LoweredValue =>
  typeof v === 'object' && v !== null && ((v as LoweredValue).kind === 'buffer' || (v as LoweredValue).kind === 'virtual');

/** The fill value of each creation op: a number, or a symbolic scalar (`full([n], x.shape[0])`). */
const CREATION_FILL: Record<string, ((args: readonly unknown[]) => unknown) | undefined> = {
  zeros: () => 0, ones: () => 1, zerosLike: () => 0, onesLike: () => 1,
  full: (a) => a[1], fullLike: (a) => a[1],
};

export interface LowerOptions {
  /** Run the cross-kernel fusion rules (default true; off to inspect the unfused program). */
  fuse?: boolean;
}

export function lowerGraph(graph: Graph, options: LowerOptions = {}): LoweredProgram {
  const b = new ProgramBuilder();
  const values = new Map<Node, unknown>();
  // Arguments may nest nodes in lists (`cat([%1, %2])`).
  const read = (a: Argument): unknown =>
    Array.isArray(a) ? a.map(read) : typeof a === 'object' && a !== null && 'users' in a ? values.get(a as Node) : a;
  let inputIndex = 0;
  const outputs: ProgramOutput[] = [];
  const pendingAsserts = graph.asserts.filter((a) => a.cond !== undefined);
  for (const node of graph.nodes) {
    const fake = node.meta.val as FakeLike | undefined;
    switch (node.kind) {
      case 'placeholder': {
        const i = inputIndex++;
        const scalar = scalarInput(b, fake, i);
        if (scalar !== undefined) {
          values.set(node, scalar);
          break;
        }
        if (!fake?.shape) throw new LoweringError(`input %${node.name} is not a tensor`);
        const shape = fake.shape.map(toSizeExpr);
        fake.shape.forEach((size, dim) => {
          const param = bareSymbol(size);
          if (param && !b.params.some((p) => p.param === param)) b.params.push({ param, input: i, dim });
        });
        values.set(node, b.newBuffer(loopDtype(fake.dtype), shape, { input: i, shape }));
        break;
      }
      case 'constant': {
        const t = node.args[0] as unknown as Tensor;
        if (!fake?.shape) {
          values.set(node, t);
          break;
        }
        values.set(node, b.newBuffer(loopDtype(t.dtype), [...t.shape], { constant: t } as Partial<ProgramBuffer>));
        break;
      }
      case 'call': {
        const first = b.steps.length;
        values.set(node, lowerCall(b, node, node.args.map(read), readKwargs(node, read)));
        stampSource(b.steps, first, node);
        if (shouldMaterialize(node, values.get(node))) values.set(node, b.materialize(values.get(node) as LoweredValue));
        break;
      }
      case 'output':
        for (const out of node.args[0] as readonly Argument[]) outputs.push(lowerOutput(b, read(out)));
        break;
      default:
        node.kind satisfies never;
    }
    if (pendingAsserts.length) emitReadyAsserts(b, pendingAsserts);
  }
  checkAllPlaced(pendingAsserts);
  const program = { buffers: b.buffers, params: b.params, steps: b.steps, outputs, lastUse: lastUses(b.steps) };
  return options.fuse === false ? program : fuseProgram(program);
}

/**
 * Gives the steps a node added that can raise (eager fallbacks, index checks) the node's user source
 * location, so an error raised there names the user's line as eager code's stack would.
 */
function stampSource(steps: ProgramStep[], first: number, node: Node): void {
  const source = node.meta.source;
  if (!source) return;
  for (let i = first; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind === 'fallback' || (step.kind === 'check' && step.check === 'indexRange')) steps[i] = { ...step, source };
  }
}

/** Expressions up to this many IR nodes are recomputed by each reader rather than stored and reloaded. */
const RECOMPUTE_LIMIT = 16;

/**
 * A value read by several nodes is stored once, unless it is cheap: then each reader recomputes it, which
 * costs a few arithmetic ops but saves a write and a read of the whole tensor (softmax's exp(x - max) is
 * read by the sum and by the division; recomputing lets both fuse into one reduction kernel).
 */
function shouldMaterialize(node: Node, value: unknown): boolean {
  if (node.users.size <= 1 || !isTensorValue(value) || value.kind !== 'virtual') return false;
  if (node.users.size > 3) return true;
  const n = value.shape.length;
  let size = 0;
  const count = (e: ValueExpr): void => {
    size++;
    for (const c of Object.values(e)) if (c && typeof c === 'object' && 'kind' in c) count(c as ValueExpr);
  };
  count(value.read(value.shape.map((_, d) => axisIndex(d, n)), n));
  return size > RECOMPUTE_LIMIT;
}

function readKwargs(node: Node, read: (a: Argument) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node.kwargs)) out[k] = read(v);
  return out;
}


/** Positional args padded with defaults, then keyword-only args: the op's normalized argument list. */
function normalized(node: Node, args: readonly unknown[], kwargs: Record<string, unknown>): unknown[] {
  const op = getOp(node.target)!;
  const positional = op.schema.positional.map((spec, i) => (i < args.length ? args[i] : spec.default));
  return [...positional, ...op.schema.keywordOnly.map((spec) => (spec.name in kwargs ? kwargs[spec.name] : spec.default))];
}

function lowerCall(b: ProgramBuilder, node: Node, args: unknown[], kwargs: Record<string, unknown>): unknown {
  if (node.target === 'getitem') return (args[0] as Record<string | number, unknown>)[args[1] as string | number];
  const fake = node.meta.val as FakeLike;
  const all = normalized(node, args, kwargs);
  const lowered =
    lowerPointwise(node, all, fake) ??
    lowerCreation(node, all, fake) ??
    lowerConversion(node, all, fake) ??
    (VIEW_OPS.has(node.target) ? lowerView(b, node.target, all, fake) : undefined) ??
    (REDUCTIONS.has(node.target) ? lowerReduction(b, node.target, all, fake) : undefined) ??
    (node.target === 'matmul' ? lowerMatmul(b, all, fake) : undefined) ??
    (JOIN_OPS.has(node.target) ? lowerJoin(b, node.target, all, fake) : undefined) ??
    (GATHER_OPS.has(node.target) ? lowerGatherOp(b, node.target, all, fake) : undefined) ??
    (node.target === 'cumsum' ? lowerCumsum(b, all, fake) : undefined) ??
    (INDEX_OPS.has(node.target) ? checkedIndexOp(node.target, all, fake) : undefined);
  return lowered ?? fallback(b, node, all, fake);
}

/** An index op whose positions cannot be spelled (a symbolic coefficient) falls back to eager instead. */
function checkedIndexOp(op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const value = lowerIndexOp(op, all, fake);
  if (value?.kind !== 'virtual') return value;
  try {
    const n = value.shape.length;
    value.read(value.shape.map((_, d) => axisIndex(d, n)), n);
    return value;
  } catch (err) {
    if (err instanceof PositionNotExpressible) return undefined;
    throw err;
  }
}

function lowerPointwise(node: Node, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const rule = pointwiseRules[node.target];
  if (!rule || !fake?.shape) return undefined;
  const op = getOp(node.target)!;
  const arity = op.schema.positional.filter((s) => s.type === 'Tensor' || s.type === 'TensorOrScalar').length;
  const operands = all.slice(0, arity);
  const extras = all.slice(arity);
  const outDtype = loopDtype(fake.dtype);
  // A symbolic size promotes like the integer scalar it stands for.
  // A symbolic scalar promotes like the plain scalar it stands for (a size like an int).
  const promoted = loopDtype(resultType(operands.map((o) => (isTensorValue(o) ? { dtype: o.dtype, ndim: o.shape.length } : (o as ScalarLike)))));
  const compute = computeDtype(node.target, outDtype, promoted);
  if (!lowersForDtype(node.target, compute) || outDtype === 'float64') return undefined;
  const shape = fake.shape.map(toSizeExpr);
  return {
    kind: 'virtual',
    dtype: outDtype,
    shape,
    read: (index, nAxes) => {
      const x = operands.map((o, i) => {
        const dtype = node.target === 'where' && i === 0 ? 'bool' : compute;
        if (isTensorValue(o)) return readBroadcast(o, index, nAxes, dtype);
        return scalarOperand(o, dtype);
      });
      const value = rule({ x, args: extras, dtype: compute, scalar: scalarOperand });
      return compute !== outDtype && !['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot'].includes(node.target)
        ? cast(outDtype, value)
        : value;
    },
  };
}

/**
 * `to(dtype)` conversions whose rounding the loop IR's cast shares with the eager kernel: same dtype, bool to a
 * number, int32 to float32 (round to nearest). Float to int and anything to bool differ at the edges (NaN,
 * out of range) and stay eager.
 */
const EXACT_CASTS = new Set(['bool>int32', 'bool>float32', 'int32>float32']);
function lowerConversion(node: Node, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (node.target !== 'to' || !fake?.shape || !isTensorValue(all[0])) return undefined;
  const x = all[0];
  if (x.dtype === fake.dtype) return x;
  if (!EXACT_CASTS.has(`${x.dtype}>${fake.dtype}`)) return undefined;
  const dtype = loopDtype(fake.dtype);
  return { kind: 'virtual', dtype, shape: x.shape, read: (index, nAxes) => cast(dtype, readValue(x, index, nAxes)) };
}

function lowerCreation(node: Node, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const fill = CREATION_FILL[node.target];
  if (!fill || !fake?.shape || fake.dtype === 'float64') return undefined;
  const dtype = loopDtype(fake.dtype);
  const value = fill(all);
  return { kind: 'virtual', dtype, shape: fake.shape.map(toSizeExpr), read: () => scalarOperand(value, dtype) };
}

function fallback(b: ProgramBuilder, node: Node, all: unknown[], fake: FakeLike | undefined): unknown {
  const describe = (a: unknown): unknown => {
    if (isTensorValue(a)) {
      const buf = b.materialize(a);
      return { buffer: buf.buffer, shape: buf.shape, strides: buf.strides, offset: buf.offset, dtype: buf.dtype };
    }
    return Array.isArray(a) ? a.map(describe) : (describeScalarArg(a) ?? a);
  };
  const args = all.slice(0, getOp(node.target)!.schema.positional.length).map(describe);
  const kwargs: Record<string, unknown> = {};
  const op = getOp(node.target)!;
  op.schema.keywordOnly.forEach((spec, i) => (kwargs[spec.name] = describe(all[op.schema.positional.length + i])));
  const reason = `no lowering rule for ${node.target}${fake?.dtype === 'float64' ? ' on float64' : ''}`;
  const symbol = unboundSymbol(b, fake);
  if (symbol !== undefined) {
    // item(): the scalar result is a data-dependent integer the rest of the program may use as a size.
    b.steps.push({ kind: 'fallback', op: node.target, args, kwargs, output: null, binds: [{ param: symbol, dim: 'value' }], reason });
    b.boundParams.add(symbol);
    return fake;
  }
  if (!fake?.shape) throw new LoweringError(`${node.target} does not produce one tensor; the graph is not lowered`);
  const binds = fake.shape.flatMap((size, dim) => {
    const param = unboundSymbol(b, size);
    if (param === undefined) return [];
    b.boundParams.add(param);
    return [{ param, dim }];
  });
  const out = b.newBuffer(loopDtype(fake.dtype), fake.shape.map(toSizeExpr));
  const step: FallbackStep = { kind: 'fallback', op: node.target, args, kwargs, output: { buffer: out.buffer, dtype: out.dtype, shape: out.shape }, binds, reason };
  b.steps.push(step);
  return out;
}

/** A bare data-dependent symbol (`u0`) that no earlier step has bound yet. */
function unboundSymbol(b: ProgramBuilder, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('isSymInt' in value)) return undefined;
  const name = bareSymbol(value);
  return name !== undefined && /^u\d+$/.test(name) && !b.boundParams.has(name) ? name : undefined;
}

function lowerOutput(b: ProgramBuilder, value: unknown): ProgramOutput {
  if (isTensorValue(value)) {
    const isPlainOwnBuffer =
      value.kind === 'buffer' &&
      b.buffers.find((x) => x.name === value.buffer)?.input === undefined &&
      !(b.buffers.find((x) => x.name === value.buffer) as { constant?: unknown } | undefined)?.constant &&
      JSON.stringify(value.strides) === JSON.stringify(contiguousStrides(value.shape)) &&
      value.offset === 0;
    const buf = isPlainOwnBuffer ? (value as BufferValue) : b.materialize(value, value.kind === 'buffer');
    return { kind: 'tensor', buffer: buf.buffer, dtype: buf.dtype, shape: buf.shape };
  }
  if (typeof value === 'object' && value !== null && 'isSymInt' in value) return { kind: 'size', value: toSizeExpr(value) };
  if (typeof value === 'object' && value !== null) throw new LoweringError('graph outputs nested in lists or objects are not lowered');
  return { kind: 'constant', value };
}

/** Composite ops whose decomposition is all lowered ops (embedding → flatten, indexSelect, reshape). */
const LOWERED_BY_DECOMPOSITION = ['embedding'];

/**
 * Every registry op that lowering turns into loop-IR kernels (others run as eager fallbacks). Backends that
 * consume the loop IR report this list to the policy audit's backend-coverage column.
 */
export function loweredOps(): string[] {
  return [...Object.keys(pointwiseRules), ...Object.keys(CREATION_FILL), ...VIEW_OPS, ...REDUCTIONS, ...INDEX_OPS, ...JOIN_OPS, ...GATHER_OPS, ...LOWERED_BY_DECOMPOSITION, 'matmul', 'to', 'cumsum'].sort();
}

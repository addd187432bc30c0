// Core graph → loop-IR program. Pointwise ops and views compose into virtual values (fusion by
// construction); a kernel is emitted where a value must exist in memory: a graph output, a value read by
// more than one node, a matmul operand, a reduction result, or the input of an eager fallback.
import type { CoreOpName, Tensor } from '@kiln/tensor';
import { getOp } from '@kiln/tensor';
import type { Graph } from '@kiln/graph';
import type { Argument, Node } from '@kiln/graph';
import { contiguousStrides } from '../loop-ir/sizes.js';
import { LoweringError } from './errors.js';
import type { FallbackStep, LoweredProgram, ProgramBuffer, ProgramOutput, ProgramStep } from '../program/program.js';
import { ProgramBuilder, loopDtype } from './builder.js';
import { bareSymbol, toSizeExpr } from './sizes-from-shapes.js';
import type { BufferValue, LoweredValue } from './values.js';
import { axisIndex, readBroadcast, readValue } from './values.js';
import { fuseProgram, lastUses } from '../schedule/fuse.js';
import type { LoopDType, ValueExpr } from '../loop-ir/loop-ir.js';
import type { BackendCapabilities, OpLowering, OpLoweringOverride } from '../backend/contract.js';
import { describeScalarArg, scalarInput } from './scalar-operands.js';
import { LOWERING_TABLE, isTensorValue, lowerFormula, lowerWithPointwiseRule } from './table.js';
import { checkAllPlaced, emitReadyAsserts } from './assert-steps.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

export interface LowerOptions {
  /** Run the cross-kernel fusion rules (default true; off to inspect the unfused program). */
  fuse?: boolean;
  /** What the backend computes; a node outside it runs on its eager kernel as one step. */
  capabilities?: BackendCapabilities;
  /**
   * The per-op lowering hook, asked once per call node before the lowering table: a rule (`{ pointwise }`)
   * lowers the node with it (a custom op's formula, or a plugin's override of a built-in op), `'eager'` gives
   * the node to its eager kernel.
   */
  overrideLowering?: OpLoweringOverride;
  /** Nodes (by name) to run as eager steps, with the reason (a backend whose codegen failed on their kernel). */
  eagerNodes?: ReadonlyMap<string, string>;
}

/**
 * What lowering assumes when a caller passes no capabilities: the loop IR's portable dtypes, no float64,
 * one-byte bools.
 */
export const BASELINE_CAPABILITIES: BackendCapabilities = Object.freeze<BackendCapabilities>({
  device: 'cpu', dtypes: ['float32', 'int32', 'bool'], float64: false, boolStorage: 'uint8', maxDims: 64, maxThreads: 1,
});

export function lowerGraph(graph: Graph, options: LowerOptions = {}): LoweredProgram {
  const b = new ProgramBuilder();
  const decline = declineRule(options);
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
        const args = node.args.map(read);
        b.currentNodes = composedOf(b, node, args);
        const override = options.overrideLowering?.(node);
        const value = lowerCall(b, node, args, readKwargs(node, read), (all, fake) => decline(node, all, fake, override), override);
        if (isTensorValue(value) && value.kind === 'virtual') b.valueNodes.set(value, b.currentNodes);
        stampSource(b.steps, first, node);
        values.set(node, shouldMaterialize(node, value) ? b.materialize(value as LoweredValue) : value);
        break;
      }
      case 'output':
        b.currentNodes = new Set();
        for (const out of node.args[0] as readonly Argument[]) outputs.push(lowerOutput(b, read(out)));
        break;
      default:
        node.kind satisfies never;
    }
    if (pendingAsserts.length) emitReadyAsserts(b, pendingAsserts);
  }
  checkAllPlaced(pendingAsserts);
  const program = { buffers: b.buffers, params: b.params, steps: b.steps, outputs, lastUse: lastUses(b.steps), kernelNodes: b.kernelNodes };
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

/** The node and every node fused into its virtual operands: what a kernel computing it holds. */
function composedOf(b: ProgramBuilder, node: Node, args: readonly unknown[]): Set<string> {
  const nodes = new Set([node.name]);
  const visit = (a: unknown): void => {
    if (Array.isArray(a)) a.forEach(visit);
    else if (isTensorValue(a) && a.kind === 'virtual') for (const n of b.valueNodes.get(a) ?? []) nodes.add(n);
  };
  args.forEach(visit);
  return nodes;
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

/**
 * Why a node must run on its eager kernel on this backend, or undefined: a codegen failure reported for its
 * kernel, the per-op lowering hook, or the capabilities (a dtype it does not compute, too many dims).
 */
function declineRule(options: LowerOptions) {
  const caps = options.capabilities ?? BASELINE_CAPABILITIES;
  const computes = (dtype: string) => caps.dtypes.includes(dtype as LoopDType) && (dtype !== 'float64' || caps.float64);
  return (node: Node, all: unknown[], fake: FakeLike | undefined, override: OpLowering | 'eager' | undefined): string | undefined => {
    const forced = options.eagerNodes?.get(node.name);
    if (forced !== undefined) return forced;
    if (override === 'eager') return `the lowerOp hook runs ${node.target} eagerly on this backend`;
    const dtypes = new Set<string>(fake?.dtype ? [fake.dtype] : []);
    let dims = fake?.shape?.length ?? 0;
    const visit = (a: unknown): void => {
      if (Array.isArray(a)) a.forEach(visit);
      else if (isTensorValue(a)) {
        dtypes.add(a.dtype);
        dims = Math.max(dims, a.shape.length);
      }
    };
    all.forEach(visit);
    for (const dtype of dtypes) if (!computes(dtype)) return `the backend does not compute ${dtype}`;
    if (dims > caps.maxDims) return `${dims} dims exceed the backend's limit of ${caps.maxDims}`;
    return undefined;
  };
}

function lowerCall(
  b: ProgramBuilder,
  node: Node,
  args: unknown[],
  kwargs: Record<string, unknown>,
  decline: (all: unknown[], fake: FakeLike | undefined) => string | undefined,
  override: OpLowering | 'eager' | undefined,
): unknown {
  if (node.target === 'getitem') return (args[0] as Record<string | number, unknown>)[args[1] as string | number];
  const fake = node.meta.val as FakeLike;
  const all = normalized(node, args, kwargs);
  const declined = decline(all, fake);
  if (declined !== undefined) return fallback(b, node, all, fake, declined);
  // A plugin's rule (a custom op, or an override of a table entry) comes before the table.
  const custom = typeof override === 'object' ? lowerWithPointwiseRule(override.pointwise, node.target, all, fake) : undefined;
  if (custom !== undefined) return custom;
  // An op outside the table (a plugin's) lowers from its registry formula when it has one.
  const entry = LOWERING_TABLE[node.target as CoreOpName] ?? (getOp(node.target)?.formula ? lowerFormula : undefined);
  const lowered = entry === undefined || entry === 'eager' ? undefined : entry(b, node.target, all, fake);
  if (lowered !== undefined) return lowered;
  const reason = entry === 'eager' ? `${node.target} has no loop-IR form (the lowering table runs it eagerly)` : `no lowering rule for ${node.target}${fake?.dtype ? ` on ${fake.dtype}` : ''}`;
  return fallback(b, node, all, fake, reason);
}

function fallback(b: ProgramBuilder, node: Node, all: unknown[], fake: FakeLike | undefined, reason: string): unknown {
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
  const symbol = unboundSymbol(b, fake);
  if (symbol !== undefined) {
    // item(): the scalar result is a data-dependent integer the rest of the program may use as a size.
    b.steps.push({ kind: 'fallback', op: node.target, node: node.name, args, kwargs, output: null, binds: [{ param: symbol, dim: 'value' }], reason });
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
  const step: FallbackStep = { kind: 'fallback', op: node.target, node: node.name, args, kwargs, output: { buffer: out.buffer, dtype: out.dtype, shape: out.shape }, binds, reason };
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

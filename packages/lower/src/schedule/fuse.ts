// Fusion across kernels, after lowering: rewrites on the program's step list, each a small rule.
//  - reductions over the same space merge into one kernel with several stages (layerNorm's mean and
//    variance, softmax's max and sum), the later stages reading earlier results as `acc`;
//  - a pointwise kernel over a reduction's full space that reads its results becomes a `full` store of
//    that reduction (softmax's exp(x - max) / sum), so the row is read while it is still in cache;
//  - a pointwise kernel over a matmul's output becomes the matmul's epilogue (bias + activation);
//  - stores nobody reads are dropped, and kernels left without stores disappear.
import type { Access, Kernel, MatmulKernel, PointwiseKernel, ReductionKernel, SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { someNode } from '../loop-ir/traverse.js';
import { contiguousStrides } from '../loop-ir/sizes.js';
import { paramsOf } from '../lowering/builder.js';
import type { LoweredProgram, ProgramStep } from '../program/program.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Equal as addressing over an iteration space of `sizes`: the stride of a size-1 axis never matters (its
 * index is always 0), and lowering writes either 0 or the contiguous stride there depending on the view
 * chain, so a batch of 1 must not keep layerNorm's two reductions apart.
 */
function sameAccess(a: Access, b: Access, sizes: readonly SizeExpr[]): boolean {
  const canonical = (x: Access) => ({ offset: x.offset, strides: x.strides.map((s, i) => (sizes[i] === 1 ? 0 : s)) });
  return same(canonical(a), canonical(b));
}

/** Replaces loads of `buffer` by `replace(access)`; undefined from `replace` means "cannot" → whole result undefined. */
function substituteLoads(e: ValueExpr, buffers: ReadonlySet<string>, replace: (buffer: string, a: Access) => ValueExpr | undefined): ValueExpr | undefined {
  let failed = false;
  const visit = (x: ValueExpr): ValueExpr => {
    switch (x.kind) {
      case 'load':
        if (!buffers.has(x.buffer)) return x;
        return replace(x.buffer, x.access) ?? ((failed = true), x);
      case 'unary':
      case 'cast':
        return { ...x, x: visit(x.x) };
      case 'binary':
        return { ...x, a: visit(x.a), b: visit(x.b) };
      case 'where':
        return { ...x, cond: visit(x.cond), a: visit(x.a), b: visit(x.b) };
      case 'gather':
        // An indirect load of the buffer itself cannot become an `acc`: the rule does not apply.
        if (buffers.has(x.buffer)) failed = true;
        return { ...x, position: visit(x.position) };
      default:
        return x;
    }
  };
  const out = visit(e);
  return failed ? undefined : out;
}

/** Output buffers a kernel also loads (cumsum's step kernel, a recurrence): it reads them too, and never fuses. */
const ownReads = (k: Kernel): readonly string[] => readsOf(k).own;
const reads = (k: Kernel): ReadonlySet<string> => readsOf(k).all;

// Kernels are immutable values (a fusion makes a new one), and the fixed point below asks every pair of
// kernels, again after each fusion: their reads are worked out once per kernel, not once per question.
const kernelReads = new WeakMap<Kernel, { own: readonly string[]; all: ReadonlySet<string> }>();
function readsOf(k: Kernel): { own: readonly string[]; all: ReadonlySet<string> } {
  let r = kernelReads.get(k);
  if (!r) {
    const own = k.kind !== 'pointwise' ? [] : k.outputs.map((o) => o.name).filter((n) => k.stores.some((st) => someNode(st.value, (e) => e.kind === 'load' && e.buffer === n)));
    kernelReads.set(k, (r = { own, all: new Set([...k.inputs.map((b) => b.name), ...own]) }));
  }
  return r;
}
const stepReads = (s: ProgramStep): ReadonlySet<string> =>
  s.kind === 'kernel' ? reads(s.kernel) : s.kind === 'check' ? new Set(s.check === 'indexRange' ? [s.buffer] : []) : new Set(JSON.stringify(s.args).match(/"buffer":"(\w+)"/g)?.map((m) => m.slice(10, -1)) ?? []);
const stepWrites = (s: ProgramStep): string[] =>
  s.kind === 'kernel' ? s.kernel.outputs.map((o) => o.name) : s.kind === 'fallback' && s.output ? [s.output.buffer] : [];

/** The access a full-space expression uses to read a reduction result at the current outer point. */
const outerIndexAccess = (r: ReductionKernel): Access => ({ offset: 0, strides: [...contiguousStrides(r.outer), ...r.reduce.map(() => 0)] });

/** Which stage's `acc` a reduction output holds, when its store is exactly `acc(i)`. */
function accOfOutputs(r: ReductionKernel): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of r.stores) if (s.scope === 'outer' && s.value.kind === 'acc' && sameAccess(s.access, { offset: 0, strides: contiguousStrides(r.outer) }, r.outer)) m.set(s.buffer, s.value.stage);
  return m;
}

/** `k` with exactly the inputs its expressions (plus `alsoUsed`) read, minus those `keep` rejects, and its params. */
function withInputs<K extends Kernel>(k: K, values: ValueExpr[], keep: (name: string) => boolean, decls: Kernel['inputs'], alsoUsed: string[] = []): K {
  const used = new Set<string>(alsoUsed);
  const visit = (x: ValueExpr): void => {
    if (x.kind === 'load' || x.kind === 'gather') used.add(x.buffer);
    for (const c of Object.values(x)) if (c && typeof c === 'object' && 'kind' in c) visit(c as ValueExpr);
  };
  values.forEach(visit);
  const inputs = decls.filter((d, i) => used.has(d.name) && keep(d.name) && decls.findIndex((e) => e.name === d.name) === i);
  const next = { ...k, inputs } as K;
  return { ...next, params: paramsOf(next) };
}

function mergeReductions(r1: ReductionKernel, r2: ReductionKernel): ReductionKernel | undefined {
  if (!same(r1.outer, r2.outer) || !same(r1.reduce, r2.reduce)) return undefined;
  const accs = accOfOutputs(r1);
  // Every read of r1's outputs must become an acc: a kernel never reads what it writes (loop-IR rule).
  const r1Outputs = new Set(r1.outputs.map((o) => o.name));
  const shift = r1.stages.length;
  const toAcc = (expected: Access, space: readonly SizeExpr[]) => (b: string, a: Access): ValueExpr | undefined =>
    accs.has(b) && sameAccess(a, expected, space) ? { kind: 'acc', stage: accs.get(b)! } : undefined;
  const fullIndex = toAcc(outerIndexAccess(r1), [...r1.outer, ...r1.reduce]);
  const outerIndex = toAcc({ offset: 0, strides: contiguousStrides(r1.outer) }, r1.outer);
  const stages = [...r1.stages];
  for (const s of r2.stages) {
    // r2's own earlier stages move up by `shift`; reads of r1's results become r1's accs (not shifted).
    const prologue = substituteLoads(shiftAccs(s.prologue, shift), r1Outputs, fullIndex);
    if (!prologue) return undefined;
    stages.push({ type: s.type, prologue });
  }
  const r2Stores = [];
  for (const st of r2.stores) {
    const value = substituteLoads(shiftAccs(st.value, shift), r1Outputs, st.scope === 'full' ? fullIndex : outerIndex);
    if (!value) return undefined;
    r2Stores.push({ ...st, value });
  }
  const stores = [...r1.stores, ...r2Stores];
  const merged: ReductionKernel = {
    ...r2,
    name: r1.name,
    inputs: [...r1.inputs, ...r2.inputs],
    outputs: [...r1.outputs, ...r2.outputs],
    stages,
    stores,
  };
  return withInputs(merged, [...stages.map((s) => s.prologue), ...stores.map((s) => s.value)], (n) => !r1Outputs.has(n), merged.inputs);
}

/** A kernel's expressions read its stages as acc(0..); merged after `shift` other stages they move up. */
function shiftAccs(e: ValueExpr, shift: number): ValueExpr {
  switch (e.kind) {
    case 'acc':
      return { kind: 'acc', stage: e.stage + shift };
    case 'unary':
    case 'cast':
      return { ...e, x: shiftAccs(e.x, shift) };
    case 'binary':
      return { ...e, a: shiftAccs(e.a, shift), b: shiftAccs(e.b, shift) };
    case 'where':
      return { ...e, cond: shiftAccs(e.cond, shift), a: shiftAccs(e.a, shift), b: shiftAccs(e.b, shift) };
    case 'gather':
      return { ...e, position: shiftAccs(e.position, shift) };
    default:
      return e;
  }
}

function absorbPointwise(r: ReductionKernel, p: PointwiseKernel): ReductionKernel | undefined {
  if (!same(p.sizes, [...r.outer, ...r.reduce]) || p.stores.length !== 1) return undefined;
  const store = p.stores[0]!;
  if (!sameAccess(store.access, { offset: 0, strides: contiguousStrides(p.sizes) }, p.sizes)) return undefined;
  const accs = accOfOutputs(r);
  const idx = outerIndexAccess(r);
  const rOutputs = new Set(r.outputs.map((o) => o.name));
  const value = substituteLoads(store.value, rOutputs, (b, a) => (accs.has(b) && sameAccess(a, idx, p.sizes) ? { kind: 'acc', stage: accs.get(b)! } : undefined));
  if (!value) return undefined;
  const merged: ReductionKernel = {
    ...r,
    inputs: [...r.inputs, ...p.inputs],
    outputs: [...r.outputs, ...p.outputs],
    stores: [...r.stores, { buffer: store.buffer, access: store.access, value, scope: 'full' }],
  };
  return withInputs(merged, [...merged.stages.map((s) => s.prologue), ...merged.stores.map((s) => s.value)], (n) => !r.outputs.some((o) => o.name === n), merged.inputs);
}

function fuseEpilogue(m: MatmulKernel, p: PointwiseKernel): MatmulKernel | undefined {
  // A matmul writes float32 (its epilogue runs over the finished f32 tile): a bool or int consumer stays apart.
  if (m.epilogue || p.stores.length !== 1 || p.outputs.some((o) => o.dtype !== 'float32')) return undefined;
  const outShape: SizeExpr[] = [...m.batch, m.m, m.n];
  const store = p.stores[0]!;
  const identity = { offset: 0, strides: contiguousStrides(outShape) };
  if (!same(p.sizes, outShape) || !sameAccess(store.access, identity, outShape)) return undefined;
  const epilogue = substituteLoads(store.value, new Set([m.out]), (_b, a) => (sameAccess(a, identity, outShape) ? { kind: 'acc', stage: 0 } : undefined));
  if (!epilogue) return undefined;
  const fused: MatmulKernel = { ...m, out: store.buffer, outputs: p.outputs, inputs: [...m.inputs, ...p.inputs], epilogue };
  return withInputs(fused, [epilogue], (n) => n !== m.out, fused.inputs, [m.a.buffer, m.b.buffer]);
}

interface FusionContext {
  readonly outputs: ReadonlySet<string>;
  /** Readers of a buffer other than the candidate consumer. */
  readers(buffer: string): number;
}

/** A named fusion rule: when it applies to a producer kernel and a later consumer, and the fused kernel. */
export interface FusionRule {
  readonly name: string;
  applies(a: Kernel, b: Kernel, ctx: FusionContext): boolean;
  fuse(a: Kernel, b: Kernel): Kernel | undefined;
}

/** The rules, tried in this order for each producer/consumer pair (explain prints the names that fired). */
export const FUSION_RULES: readonly FusionRule[] = [
  {
    name: 'merge-reductions',
    applies: (a, b) => a.kind === 'reduction' && b.kind === 'reduction',
    fuse: (a, b) => mergeReductions(a as ReductionKernel, b as ReductionKernel),
  },
  {
    name: 'pointwise-into-reduction',
    applies: (a, b) => a.kind === 'reduction' && b.kind === 'pointwise',
    fuse: (a, b) => absorbPointwise(a as ReductionKernel, b as PointwiseKernel),
  },
  {
    name: 'epilogue-into-matmul',
    applies: (a, b, ctx) => a.kind === 'extern' && b.kind === 'pointwise' && ctx.readers(a.out) === 0 && !ctx.outputs.has(a.out),
    fuse: (a, b) => fuseEpilogue(a as MatmulKernel, b as PointwiseKernel),
  },
];

/** Runs the fusion rules to a fixed point and drops dead stores. */
export function fuseProgram(program: LoweredProgram): LoweredProgram {
  let steps = [...program.steps];
  const fusions: Record<string, number> = {};
  const kernelNodes = program.kernelNodes && new Map(program.kernelNodes);
  const outputs = new Set(program.outputs.flatMap((o) => (o.kind === 'tensor' ? [o.buffer] : [])));
  const readers = (buffer: string, except: number[] = []) => steps.filter((s, i) => !except.includes(i) && stepReads(s).has(buffer)).length;
  // The last writer: a joined buffer (cat) is written by one kernel per input and is complete only after all.
  const writerIndex = (buffer: string) => steps.findLastIndex((s) => stepWrites(s).includes(buffer));
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < steps.length && !changed; i++) {
      const a = steps[i]!;
      if (a.kind !== 'kernel') continue;
      for (let j = i + 1; j < steps.length && !changed; j++) {
        const b = steps[j]!;
        if (b.kind !== 'kernel') continue;
        const aOut = a.kernel.outputs.map((o) => o.name);
        if (!aOut.some((n) => reads(b.kernel).has(n))) continue;
        if (ownReads(a.kernel).length || ownReads(b.kernel).length) continue;
        // Nothing between the two may read a's outputs, and b's other inputs must exist at a's position.
        const between = steps.slice(i + 1, j);
        if (between.some((s) => aOut.some((n) => stepReads(s).has(n)))) break;
        // A kernel moved above a check could read through positions before they are checked.
        if (between.some((s) => s.kind === 'check')) break;
        // Nor above the fallback that binds a data-dependent size it uses (nonzero's row count).
        if (between.some((s) => s.kind === 'fallback' && s.binds.some((bind) => b.kernel.params.includes(bind.param)))) break;
        if ([...reads(b.kernel)].some((n) => !aOut.includes(n) && writerIndex(n) > i)) continue;
        const rule = FUSION_RULES.find((r) => r.applies(a.kernel, b.kernel, { outputs, readers: (n) => readers(n, [j]) }));
        const fused = rule?.fuse(a.kernel, b.kernel);
        if (!rule || !fused) continue;
        fusions[rule.name] = (fusions[rule.name] ?? 0) + 1;
        if (kernelNodes) kernelNodes.set(fused.name, new Set([...(kernelNodes.get(a.kernel.name) ?? []), ...(kernelNodes.get(b.kernel.name) ?? [])]));
        steps = [...steps.slice(0, i), { kind: 'kernel', kernel: fused }, ...steps.slice(i + 1, j), ...steps.slice(j + 1)];
        changed = true;
      }
    }
  }
  steps = dropDeadStores(steps, outputs);
  return { ...program, steps, lastUse: lastUses(steps), fusions, ...(kernelNodes ? { kernelNodes } : {}) };
}

function dropDeadStores(steps: ProgramStep[], outputs: ReadonlySet<string>): ProgramStep[] {
  const live = (name: string) => outputs.has(name) || steps.some((s) => stepReads(s).has(name));
  return steps.flatMap((s): ProgramStep[] => {
    if (s.kind !== 'kernel' || s.kernel.kind !== 'reduction') return [s];
    const stores = s.kernel.stores.filter((st) => live(st.buffer));
    if (stores.length === 0) return [];
    const outputsDecl = s.kernel.outputs.filter((o) => stores.some((st) => st.buffer === o.name));
    return [{ kind: 'kernel', kernel: { ...s.kernel, stores, outputs: outputsDecl } }];
  });
}

export function lastUses(steps: readonly ProgramStep[]): Map<string, number> {
  const last = new Map<string, number>();
  steps.forEach((step, i) => {
    for (const name of stepReads(step)) last.set(name, i);
  });
  return last;
}

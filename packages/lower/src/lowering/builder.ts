// The program under construction: buffers, steps and parameters, and the helpers every lowering rule
// uses to emit kernels.
import type { Kernel, LoopDType, SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { contiguousStrides, sizeProduct } from '../loop-ir/sizes.js';
import { LoweringError } from './errors.js';
import type { ParamBinding, ProgramBuffer, ProgramStep } from '../program/program.js';
import type { BufferValue, LoweredValue } from './values.js';
import { axisIndex, readValue } from './values.js';

/** Shared state of one lowering; `emit*` methods append kernels and buffers. */
export class ProgramBuilder {
  readonly buffers: ProgramBuffer[] = [];
  readonly steps: ProgramStep[] = [];
  readonly params: ParamBinding[] = [];
  /** Data-dependent symbols bound by an earlier fallback step (nonzero's row count, item's value). */
  readonly boundParams = new Set<string>();
  private readonly materialized = new WeakMap<object, BufferValue>();
  /** The call node being lowered and the nodes fused into its operands: kernels emitted now hold them. */
  currentNodes: ReadonlySet<string> = new Set();
  /**
   * Per kernel, the graph nodes whose computation it holds (the node being lowered, and the nodes whose
   * virtual values it materializes), so a backend that cannot generate the kernel can run those nodes eagerly.
   */
  readonly kernelNodes = new Map<string, Set<string>>();
  /** Per virtual value, the nodes it is composed of. */
  readonly valueNodes = new WeakMap<object, ReadonlySet<string>>();
  private nextBuffer = 0;
  private nextKernel = 0;

  newBuffer(dtype: LoopDType, shape: readonly SizeExpr[], extra: Partial<ProgramBuffer> = {}): BufferValue {
    const name = `buf${this.nextBuffer++}`;
    this.buffers.push({ name, dtype, numel: sizeProduct(shape), ...extra });
    return { kind: 'buffer', buffer: name, dtype, shape, strides: contiguousStrides(shape), offset: 0 };
  }

  kernelName(prefix: string): string {
    return `${prefix}${this.nextKernel++}`;
  }

  addKernel(kernel: Kernel, nodes?: ReadonlySet<string>): void {
    this.steps.push({ kind: 'kernel', kernel });
    this.kernelNodes.set(kernel.name, new Set(nodes ?? this.currentNodes));
  }

  /** The value in memory: buffers as they are, virtual values through one pointwise kernel (memoized). */
  materialize(v: LoweredValue, fresh = false): BufferValue {
    if (v.kind === 'buffer' && !fresh) return v;
    const known = v.kind === 'virtual' ? this.materialized.get(v) : undefined;
    if (known && !fresh) return known;
    const out = this.newBuffer(v.dtype, v.shape);
    const n = v.shape.length;
    const index = v.shape.map((_, d) => axisIndex(d, n));
    const value = readValue(v, index, n);
    this.addKernel(pointwiseKernel(this.kernelName('pointwise'), this, v.shape, out, value), this.valueNodes.get(v));
    if (v.kind === 'virtual') this.materialized.set(v, out);
    return out;
  }
}

/** A pointwise kernel storing `value` contiguously into `out`, with its inputs and params collected. */
export function pointwiseKernel(name: string, b: ProgramBuilder, sizes: readonly SizeExpr[], out: BufferValue, value: ValueExpr): Kernel {
  const kernel = {
    kind: 'pointwise' as const,
    name,
    params: [] as string[],
    inputs: buffersRead(b, value),
    outputs: [{ name: out.buffer, dtype: out.dtype }],
    sizes,
    stores: [{ buffer: out.buffer, access: { offset: 0, strides: contiguousStrides(sizes) }, value }],
  };
  return { ...kernel, params: paramsOf(kernel) };
}

/** Buffers an expression loads, as declarations. */
export function buffersRead(b: ProgramBuilder, ...values: ValueExpr[]) {
  const names = new Set<string>();
  // Expressions are DAGs (a shared node has many parents): each node is looked at once.
  const seen = new Set<ValueExpr>();
  const visit = (e: ValueExpr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.kind === 'load' || e.kind === 'gather') names.add(e.buffer);
    for (const child of Object.values(e)) if (child && typeof child === 'object' && 'kind' in child) visit(child as ValueExpr);
  };
  values.forEach(visit);
  return [...names].map((name) => ({ name, dtype: b.buffers.find((x) => x.name === name)!.dtype }));
}

/** Every size parameter a kernel mentions (sizes, strides, offsets), found structurally. */
export function paramsOf(kernel: object): string[] {
  const found = new Set<string>();
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (x && typeof x === 'object') {
      if ('param' in x && typeof (x as { param: unknown }).param === 'string') found.add((x as { param: string }).param);
      else Object.values(x).forEach(visit);
    }
  };
  visit(kernel);
  return [...found].sort();
}

export function loopDtype(dtype: string): LoopDType {
  if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool' || dtype === 'float64') return dtype;
  throw new LoweringError(`dtype ${dtype} is not lowered`);
}

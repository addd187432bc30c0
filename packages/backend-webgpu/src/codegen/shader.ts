// What every WGSL kernel shares: the binding layout (parameters, then inputs, then outputs, by position),
// the flat workgroup index over a 2-D dispatch (a dimension holds at most 65,535 workgroups), and the
// decomposition of a flat index into loop indices.
import type { BufferDecl, Kernel, LoopDType, SizeExpr } from '@kiln/lower';
import { bufferMap } from '@kiln/lower';
import { i32Literal, storageType, sizeText, type Bindings } from './values.js';
import { Prelude } from './prelude.js';
import { WebGpuCodegenError } from './errors.js';
import type { SplitReduction } from './reduction.js';

/** A generated shader and how to run it; `dispatch` is evaluated at call time from the parameter values. */
export interface WgslKernel {
  readonly name: string;
  readonly code: string;
  /** Program buffer bound at @binding(i + 1); binding 0 is the parameter array. */
  readonly buffers: readonly string[];
  /** Which of `buffers` the kernel writes. */
  readonly writes: readonly boolean[];
  /** Number of workgroups, from the kernel's sizes (a size expression over the parameters). */
  readonly workgroups: SizeExpr;
  /** A third dispatch dimension (matmul batches), 1 otherwise. */
  readonly layers: SizeExpr;
  /** Parameters in slot order, as the kernel's `P` array expects them. */
  readonly params: readonly string[];
  /** A 2-D workgroup grid (x, y) when the kernel's layout needs one (matmul tiles); else `workgroups` is split. */
  readonly grid?: readonly [SizeExpr, SizeExpr];
  /**
   * Whether the kernel may set the call's flag word (the binding after the buffers, after a split
   * reduction's partials): an input its float32 arithmetic cannot compute as eager does (runtime/flag.ts).
   */
  readonly flags?: boolean;
  /** Reductions only: the multi-pass form for few long rows (the runtime picks it per call from the sizes). */
  readonly split?: SplitReduction;
  /** Reductions on software adapters: the shader reducing each row in one invocation, 64 rows a workgroup. */
  readonly perRow?: { readonly code: string; readonly rows: SizeExpr; readonly rowLength: SizeExpr };
}

/** How kernels are generated. */
export interface ShaderOptions {
  /**
   * Whether kernels may flag the call for an eager recompute (runtime/flag.ts). Off for ahead-of-time
   * modules, which have no eager kernels to fall back on: there sums and sin/cos follow float32.
   */
  readonly flags?: boolean;
  /**
   * Kernels for an adapter that runs shaders on the CPU (lavapipe, SwiftShader), where a workgroup barrier
   * switches every invocation's context and CPU caches serve the reuse that workgroup memory serves on a
   * GPU: matmul reads its operands where they are (no tiles, no barriers), and reductions get a form that
   * reduces each short row in one invocation (no tree). GPUs get shared-memory tiles and trees.
   */
  readonly software?: boolean;
}

export const WORKGROUP = 256;
export const MAX_DISPATCH = 65535;

export class ShaderFrame implements Bindings {
  readonly prelude = new Prelude();
  readonly declarations: string[] = [];
  private readonly ids = new Map<string, { id: string; dtype: LoopDType }>();
  readonly order: string[] = [];
  readonly writes: boolean[] = [];
  private readonly slots: Map<string, number>;
  readonly decls: Map<string, BufferDecl>;
  /** Bindings after the buffers that come before the flag's (a split reduction's partials). */
  extraBindings = 0;
  private flagged = false;

  constructor(readonly kernel: Kernel, private readonly options: ShaderOptions = {}) {
    this.slots = new Map(kernel.params.map((p, i) => [p, i]));
    this.decls = bufferMap(kernel.inputs, kernel.outputs);
    const outputs = new Set(kernel.outputs.map((b) => b.name));
    for (const b of [...kernel.inputs.filter((b) => !outputs.has(b.name)), ...kernel.outputs]) {
      const id = `b${this.order.length}`;
      const write = outputs.has(b.name);
      this.ids.set(b.name, { id, dtype: b.dtype });
      this.order.push(b.name);
      this.writes.push(write);
      const type = storageType(b.dtype, kernel.name);
      this.declarations.push(`@group(0) @binding(${this.order.length}) var<storage, ${write ? 'read_write' : 'read'}> ${id}: array<${type}>;`);
    }
  }

  buffer(name: string): { id: string; dtype: LoopDType } {
    const b = this.ids.get(name);
    if (!b) throw new WebGpuCodegenError(this.kernel.name, `unknown buffer '${name}'`);
    return b;
  }

  param(name: string): number {
    const slot = this.slots.get(name);
    if (slot === undefined) throw new WebGpuCodegenError(this.kernel.name, `unknown parameter '${name}'`);
    return slot;
  }

  /**
   * The statement setting the call's eager-recompute flag when `condition` holds (declares the binding on
   * first use). Every writer stores 1, so racing invocations agree; nothing clears it during the call.
   */
  flagIf(condition: string): string {
    if (!this.options.flags) return `// no eager-recompute flag here: float32 as the GPU computes it`;
    this.bindFlag();
    return `if (${condition}) { kiln_flag[0] = 1u; }`;
  }

  /** Declares the flag's binding (once), used or not: the passes of a split reduction all bind it. */
  bindFlag(): void {
    if (this.flagged || !this.options.flags) return;
    this.flagged = true;
    this.declarations.push(`@group(0) @binding(${this.order.length + 1 + this.extraBindings}) var<storage, read_write> kiln_flag: array<u32>;`);
  }

  size(e: SizeExpr): string {
    return sizeText(e, this, this.prelude);
  }

  /** `let` lines binding `names[k]` to the k-th index of `flat` over `sizes` (row-major). */
  decompose(flat: string, sizes: readonly SizeExpr[], names: readonly string[], tag: string): string[] {
    if (sizes.length === 0) return [];
    const lines = [`var ${tag}r = ${flat};`];
    for (let k = sizes.length - 1; k > 0; k--) {
      // A constant size 0 means the kernel has no elements and never runs this; WGSL rejects `x % i32(0)`
      // at shader creation, so divide by 1 there instead.
      const s = sizes[k] === 0 ? i32Literal(1) : this.size(sizes[k]!);
      lines.push(`let ${names[k]} = ${tag}r % ${s};`, `${tag}r = ${tag}r / ${s};`);
    }
    lines.push(`let ${names[0]} = ${tag}r;`);
    return lines;
  }

  /** The shader text around `body` (the compute entry point's statements). */
  finish(body: readonly string[], workgroupSize: string, workgroupVars: readonly string[] = []): string {
    return [
      `@group(0) @binding(0) var<storage, read> P: array<i32>;`,
      ...this.declarations,
      ...workgroupVars,
      this.prelude.text(),
      `@compute @workgroup_size(${workgroupSize})`,
      `fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(local_invocation_id) lid: vec3u) {`,
      `  let group = i32(wg.x + wg.y * nwg.x);`,
      // A static use of every binding: layout 'auto' leaves unused ones out, and the runner binds them all.
      `  _ = &P;`,
      ...this.order.map((_, i) => `  _ = &b${i};`),
      ...(this.flagged ? ['  _ = &kiln_flag;'] : []),
      ...body.map((l) => `  ${l}`),
      `}`,
    ].join('\n');
  }

  result(code: string, workgroups: SizeExpr, layers: SizeExpr = 1): WgslKernel {
    return { name: this.kernel.name, code, buffers: this.order, writes: this.writes, workgroups, layers, params: this.kernel.params, ...(this.flagged && { flags: true }) };
  }
}

/** A store of `value` (a register value) into `buffer` at `address`, converting bools to their 0/1 storage. */
export function storeLine(frame: ShaderFrame, buffer: string, address: string, value: string): string {
  const b = frame.buffer(buffer);
  return `${b.id}[${address}] = ${b.dtype === 'bool' ? `select(0, 1, ${value})` : value};`;
}

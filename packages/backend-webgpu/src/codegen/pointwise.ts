// A pointwise kernel: one invocation per element of the iteration space, 256 to a workgroup. A kernel that
// reads its own output (a recurrence: cumsum's step `out[k+1] = out[k] + x[k+1]`, whose lowering puts the
// scan axis outermost) cannot run its elements in parallel: there each invocation owns one point of the
// other axes and walks the outermost axis in order, so every element it reads was stored before, by itself.
import type { PointwiseKernel, ValueExpr } from '@kiln/lower';
import { operands, sizeProduct } from '@kiln/lower';
import { ShaderFrame, WORKGROUP, storeLine, type WgslKernel, type ShaderOptions } from './shader.js';
import { ValueWriter } from './values.js';
import { addressText } from './address.js';

export function pointwiseShader(kernel: PointwiseKernel, options: ShaderOptions = {}): WgslKernel {
  const frame = new ShaderFrame(kernel, options);
  const indices = kernel.sizes.map((_, k) => `i${k}`);
  const recurrence = kernel.sizes.length > 1 && readsOwnOutput(kernel);
  const parallel = recurrence ? kernel.sizes.slice(1) : kernel.sizes;
  const total = sizeProduct(parallel);
  const writer = new ValueWriter(
    { kernel: kernel.name, buffers: frame.decls, accs: [] },
    frame,
    frame.prelude,
    { address: (a) => addressText(frame, a, indices), index: (k) => indices[k]!, acc: () => 'unreachable' },
  );
  const stores = kernel.stores.map((s) => storeLine(frame, s.buffer, addressText(frame, s.access, indices), writer.value(s.value)));
  const element = [...writer.lines, ...stores];
  const body = [
    `let g = group * ${WORKGROUP} + i32(li);`,
    `if (g >= ${frame.size(total)}) { return; }`,
    ...frame.decompose('g', parallel, recurrence ? indices.slice(1) : indices, 'i'),
    ...(recurrence
      ? [`for (var i0 = 0; i0 < ${frame.size(kernel.sizes[0]!)}; i0 = i0 + 1) {`, ...element.map((l) => `  ${l}`), `}`]
      : element),
  ];
  const groups = { op: 'floordiv', a: { op: 'add', a: total, b: WORKGROUP - 1 }, b: WORKGROUP } as const;
  return frame.result(frame.finish(body, String(WORKGROUP)), typeof total === 'number' ? Math.ceil(total / WORKGROUP) : groups);
}

/** Whether some stored value loads from a buffer the kernel writes. */
function readsOwnOutput(kernel: PointwiseKernel): boolean {
  const writes = new Set(kernel.outputs.map((b) => b.name));
  const seen = new Set<ValueExpr>();
  const reads = (e: ValueExpr): boolean => {
    if (seen.has(e)) return false;
    seen.add(e);
    if ((e.kind === 'load' || e.kind === 'gather') && writes.has(e.buffer)) return true;
    return operands(e).some(reads);
  };
  return kernel.stores.some((st) => reads(st.value));
}

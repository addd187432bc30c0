// A pointwise kernel: one invocation per element of the iteration space, 256 to a workgroup.
import type { PointwiseKernel } from '@kiln/lower';
import { sizeProduct } from '@kiln/lower';
import { ShaderFrame, WORKGROUP, storeLine, type WgslKernel } from './shader.js';
import { ValueWriter } from './values.js';
import { addressText } from './address.js';

export function pointwiseShader(kernel: PointwiseKernel): WgslKernel {
  const frame = new ShaderFrame(kernel);
  const indices = kernel.sizes.map((_, k) => `i${k}`);
  const total = sizeProduct(kernel.sizes);
  const writer = new ValueWriter(
    { kernel: kernel.name, buffers: frame.decls, accs: [] },
    frame,
    frame.prelude,
    { address: (a) => addressText(frame, a, indices), index: (k) => indices[k]!, acc: () => 'unreachable' },
  );
  const stores = kernel.stores.map((s) => storeLine(frame, s.buffer, addressText(frame, s.access, indices), writer.value(s.value)));
  const body = [
    `let g = group * ${WORKGROUP} + i32(li);`,
    `if (g >= ${frame.size(total)}) { return; }`,
    ...frame.decompose('g', kernel.sizes, indices, 'i'),
    ...writer.lines,
    ...stores,
  ];
  const groups = { op: 'floordiv', a: { op: 'add', a: total, b: WORKGROUP - 1 }, b: WORKGROUP } as const;
  return frame.result(frame.finish(body, String(WORKGROUP)), typeof total === 'number' ? Math.ceil(total / WORKGROUP) : groups);
}

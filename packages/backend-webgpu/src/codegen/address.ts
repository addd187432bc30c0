// Affine element addresses over named loop indices: `offset + Σ stride_k * index_k`, skipping stride 0.
import type { Access } from '@kiln/lower';
import type { ShaderFrame } from './shader.js';

export function addressText(frame: ShaderFrame, access: Access, indices: readonly string[]): string {
  const terms = [frame.size(access.offset)];
  access.strides.forEach((stride, k) => {
    if (stride === 0) return;
    terms.push(stride === 1 ? indices[k]! : `${frame.size(stride)} * ${indices[k]}`);
  });
  return terms.join(' + ');
}

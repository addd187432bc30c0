// Which of the runtime's eager kernels (runtime/eager-kernels.ts, by export name) runs each op an AOT module
// can run eagerly. Kept out of the runtime file so that the table never lands in a module's bundle.
import { SCALAR_UNARY } from '@kiln/tensor';
import { BINARY_PRIMITIVES } from '../runtime/eager-kernels.js';

export type EagerKernelName = 'unary' | 'binary' | 'copy' | 'sum' | 'nonzero' | 'item';

export const STANDALONE_EAGER_OPS: Readonly<Record<string, EagerKernelName>> = {
  ...Object.fromEntries(Object.keys(SCALAR_UNARY).map((op) => [op, 'unary' as const])),
  ...Object.fromEntries(Object.keys(BINARY_PRIMITIVES).map((op) => [op, 'binary' as const])),
  to: 'copy', contiguous: 'copy', clone: 'copy', sum: 'sum', nonzero: 'nonzero', item: 'item',
};

// Which of the runtime's eager kernels (runtime/eager-kernels.ts, by export name) runs each op an AOT module
// can run eagerly. Kept out of the runtime file so that the table never lands in a module's bundle.
import type { FallbackStep } from '@kiln/lower';
import { SCALAR_UNARY } from '@kiln/tensor';
import { BINARY_PRIMITIVES } from '../runtime/eager-kernels.js';

export type EagerKernelName = 'unary' | 'binary' | 'copy' | 'sum' | 'nonzero' | 'item';

export const STANDALONE_EAGER_OPS: Readonly<Record<string, EagerKernelName>> = {
  ...Object.fromEntries(Object.keys(SCALAR_UNARY).map((op) => [op, 'unary' as const])),
  ...Object.fromEntries(Object.keys(BINARY_PRIMITIVES).map((op) => [op, 'binary' as const])),
  to: 'copy', contiguous: 'copy', clone: 'copy', sum: 'sum', nonzero: 'nonzero', item: 'item',
};

const plain = (v: unknown) => v === undefined || v === null || v === false || v === 0;

/**
 * The kernel that runs `step`, or undefined when the module has none for it — also when the node passes an
 * argument the kernel does not take (`round(x, decimals=2)`, `nonzero(as_tuple)`): a kernel that ignored it
 * would compute something other than eager code.
 */
export function standaloneKernel(step: FallbackStep): EagerKernelName | undefined {
  const kernel = STANDALONE_EAGER_OPS[step.op];
  const kwargs = Object.entries(step.kwargs);
  switch (kernel) {
    case 'unary':
    case 'nonzero':
      return step.args.length === 1 && kwargs.every(([, v]) => plain(v)) ? kernel : undefined;
    case 'binary':
      return step.args.length === 2 && kwargs.every(([k, v]) => k === 'alpha' || plain(v)) ? kernel : undefined;
    case 'sum':
      return step.args.length <= 3 && kwargs.every(([k, v]) => ['dim', 'keepdim', 'dtype'].includes(k) || plain(v)) ? kernel : undefined;
    default:
      return kernel;
  }
}

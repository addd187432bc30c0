// Compile-time tests of the public types, checked by `pnpm typecheck` (not run): options objects may
// follow any prefix of the positional arguments, unknown options and missing arguments are type errors.
import * as k from '@kiln/tensor';
const x = k.randn([2, 3]);
const a: k.Tensor = k.mean(x, { dtype: 'float32' });
const b: k.Tensor = x.sum({ dim: 1, keepdim: true });
const c: k.Tensor = x.slice(1, { start: 1 });
const d: k.Tensor = k.arange(4, { dtype: 'float32' });
const e: k.Tensor = x.sum(1, true);
const f: k.Tensor = x.slice(1, undefined, 2);
const g: k.Tensor = k.add(x, 1, { alpha: 2 });
// @ts-expect-error unknown option
x.sum({ dimm: 1 });
// @ts-expect-error missing required argument
k.add(x);
void [a, b, c, d, e, f, g];

// Child process of prefaulted-arrays.test.ts: reads a large compiled output until a read took a buffer the
// helper thread mapped, prints what happened, and returns from its last statement. The parent checks that
// the process then exits by itself (the helper and its port must not keep it alive).
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { prefaultedArrays } from '@kiln/backend-cpu';

const x = k.randn([1 << 20]);
const f = (t: k.Tensor) => t.mul(2);
const fast = compile(f);
let got = fast(x).toTypedArray({ dispose: true });
for (let i = 0; i < 2000 && prefaultedArrays.stats.taken === 0; i++) {
  await new Promise((r) => setTimeout(r, 10));
  got = fast(x).toTypedArray({ dispose: true });
}
const want = f(k.Tensor.fromData(x.toTypedArray(), x.shape, x.dtype)).toTypedArray();
console.log(JSON.stringify({ taken: prefaultedArrays.stats.taken, same: got.every((v, i) => v === want[i]) }));

// The example from the README, runnable: `node examples/readme-example.mjs` after `pnpm build`.
import * as k from 'kiln';
import { compile, explain } from 'kiln';

const W = k.randn([64, 64]);
function block(x, scale = 2) {
  let h = x.matmul(W).relu();
  if (h.shape[0] > 1) h = h.mul(scale);
  for (const b of [1, 2]) h = h.add(b);
  return { out: h.softmax(-1), rows: h.shape[0] };
}
const fast = compile(block);
const x = k.randn([8, 64]);
const got = fast(x);
const want = block(x);
console.log('rows', got.rows, want.rows, 'max diff', Math.max(...Array.from(got.out.toTypedArray(), (v, i) => Math.abs(v - want.out.toTypedArray()[i]))));
console.log(String(explain(block)(k.randn([8, 64]))));

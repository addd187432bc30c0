// Child process of read-faults.test.ts: a loop that reads each 4 MB compiled output back without disposing
// it, as a user's `fast(x).toTypedArray()` loop does (two fresh arrays per call: the read, and the output's
// copy out of wasm memory once the resident pool's burst allowance is spent). Prints, as JSON, the minor page
// faults per call and the resident set's growth over the timed calls. `cold` turns `warmHeap` off first.
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { configureResident } from '../../src/index.js';

if (process.argv[2] === 'cold') configureResident({ warmHeap: false });
const N = 1 << 20;
const x = k.randn([N]);
const fast = compile((t: k.Tensor) => t.mul(2).add(1));
const want = x.mul(2).add(1).toTypedArray();
const CALLS = 100;
for (let i = 0; i < 40; i++) fast(x).toTypedArray();
const rss0 = process.memoryUsage.rss();
const faults0 = process.resourceUsage().minorPageFault;
let wrong = 0;
for (let i = 0; i < CALLS; i++) {
  const got = fast(x).toTypedArray();
  if (got[i * 997] !== want[i * 997]) wrong++;
}
const faults = process.resourceUsage().minorPageFault - faults0;
console.log(JSON.stringify({ faultsPerCall: faults / CALLS, rssGrowth: process.memoryUsage.rss() - rss0, wrong, pagesPerArray: (N * 4) / 4096 }));

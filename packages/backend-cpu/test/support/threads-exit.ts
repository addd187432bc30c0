// Child process of threads-default.test.ts: compiles and runs a kernel large enough to start the worker
// pool, waits for the workers to take a share, prints what happened, and returns from its last statement.
// The parent checks that the process then exits by itself (idle workers must not keep it alive).
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu, cpuArena } from '@kiln/backend-cpu';

const x = k.randn([1 << 20]);
const program = compileGraphForCpu(traceOps((a: k.Tensor) => a.mul(a).add(1).sqrt(), [x]).coreGraph);
const pool = cpuArena().threads!;
pool.adaptive = false; // split every call: this process is here to run a kernel on the pool
let out = program.run([x]);
for (let i = 0; i < 500 && pool.ready < pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 10));
// the machine may be busy: call until a worker has run a chunk (a worker the OS has not scheduled gets none)
for (let i = 0; i < 200 && pool.stats.chunksByWorkers === 0; i++) {
  out = program.run([x]);
  await new Promise((r) => setTimeout(r, 1));
}
const want = x.mul(x).add(1).sqrt().toTypedArray();
const same = (out[0] as k.Tensor).toTypedArray().every((v, i) => v === want[i]);
console.log(JSON.stringify({ threads: pool.threads, workers: pool.ready, chunksByWorkers: pool.stats.chunksByWorkers, threaded: program.runner!.stats.threadedKernelCalls, same }));

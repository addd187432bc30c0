// The differential fuzzers' long mode: many random programs from a seed, time-bounded, beside the small
// fixed-seed runs CI does in `pnpm test`. Each fuzzer runs in its own process with FUZZ_RUNS, FUZZ_SEED and
// FUZZ_DEADLINE set (test-support/fuzz-settings.ts); a failure prints its seed and a command to replay it.
// Usage: pnpm fuzz [breaks|language|guards|graph|lowering|graph-json|spec-json ...] [--runs N] [--seed S] [--minutes M]
//   --runs     programs per fuzzer (and per configuration within it), default 10000
//   --seed     first seed, default a fresh one (printed, so a run can be repeated)
//   --minutes  wall-clock budget for all the fuzzers together, split evenly, default 10
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const FUZZERS = {
  breaks: 'packages/core/test/breaks-fuzz.test.ts',
  // Random programs over the traced language (closures, classes, loops, destructuring, try/finally, breaks…).
  language: 'packages/core/test/lang-fuzz.test.ts',
  // What compiled code relied on, changed between calls (globals, closures, fields, methods, shapes, lengths).
  guards: 'packages/core/test/guards-fuzz.test.ts',
  graph: 'packages/backend-cpu/test/graph-fuzz.test.ts',
  lowering: 'packages/backend-cpu/test/lowering-fuzz.test.ts',
  // Readers of untrusted JSON: mutations must give a valid value or a typed error.
  'graph-json': 'packages/graph/test/graph-json.test.ts',
  'spec-json': 'packages/pytree/test/untrusted-specs.test.ts',
};

function parseArgs(argv) {
  const opts = { runs: 10000, seed: Math.floor(Math.random() * 2 ** 31), minutes: 10, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (min = 0) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < min) throw new Error(`${a} expects a number ≥ ${min}, got ${argv[i]}`);
      return v;
    };
    if (a === '--runs') opts.runs = Math.floor(value());
    else if (a === '--seed') opts.seed = Math.floor(value(-(2 ** 31)));
    else if (a === '--minutes') opts.minutes = value();
    else if (a in FUZZERS) opts.names.push(a);
    else throw new Error(`unknown argument '${a}': expected ${Object.keys(FUZZERS).join(' | ')}, --runs N, --seed S or --minutes M`);
  }
  if (opts.names.length === 0) opts.names = Object.keys(FUZZERS);
  return opts;
}

function runOne(name, opts, budgetMs) {
  const env = { ...process.env, KILN_TEST: '1', FUZZ_RUNS: String(opts.runs), FUZZ_SEED: String(opts.seed), FUZZ_DEADLINE: String(Date.now() + budgetMs) };
  const args = ['--conditions=kiln-source', '--import', 'tsx/esm', join(root, 'scripts/uvu-all.mjs'), join(root, FUZZERS[name])];
  return new Promise((done) => {
    const start = Date.now();
    let out = '';
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => {
      const summary = out.split('\n').filter((l) => l.includes('[fuzz ')).map((l) => l.slice(l.indexOf('[fuzz ')));
      const failed = code !== 0 || /FAIL|✘/.test(out);
      done({ name, failed, seconds: (Date.now() - start) / 1000, summary, out });
    });
  });
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
console.log(`fuzz: ${opts.names.join(', ')} — up to ${opts.runs} programs each from seed ${opts.seed}, ${opts.minutes} min in all`);
const share = (opts.minutes * 60_000) / opts.names.length;
let failures = 0;
for (const name of opts.names) {
  const r = await runOne(name, opts, share);
  console.log(`\n${name}: ${r.failed ? 'FAILED' : 'passed'} in ${r.seconds.toFixed(0)} s`);
  for (const line of r.summary) console.log(`  ${line}`);
  if (r.failed) {
    failures++;
    console.log(r.out.split('\n').slice(-80).join('\n'));
    console.log(`  repro: pnpm fuzz ${name} --seed ${opts.seed} --runs ${opts.runs} (each failure above names its own seed)`);
  }
}
console.log(`\nfuzz: ${failures ? `${failures} fuzzer(s) failed` : 'no differences'} (seed ${opts.seed})`);
process.exit(failures ? 1 : 0);

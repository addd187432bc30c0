// Before/after benches in one run: `node scripts/bench-compare.mjs <git-rev> [bench names…] [--rounds N] [--keep]`.
// Checks the revision out into a temporary git worktree, installs it (pnpm, from the local store), then runs
// each named bench (default: compiled, compile-hit) in both trees alternately — old, new, new, old, … so
// a load change on the machine hits both sides alike — and prints, per workload, the median of each side
// and the ratio new/old (< 1: this tree is faster), with the CPU model and the load average. Benches run
// from source as `scripts/bench.mjs` runs them; every time line they print (`label: 1.23 µs`, a table row's
// `kiln 0.53 (…) | kiln+read 0.61 (…)`) is a workload.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  return value;
};
const keep = argv.includes('--keep') ? (argv.splice(argv.indexOf('--keep'), 1), true) : false;
const rounds = Number(flag('--rounds') ?? 2);
const [rev, ...names] = argv;
if (!rev || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node scripts/bench-compare.mjs <git-rev> [bench names…] [--rounds N] [--keep]');
  process.exit(2);
}
const benches = names.length ? names : ['compiled', 'compile-hit'];

function run(cmd, args, cwd, quiet = false) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, stdio: quiet ? 'pipe' : ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status}\n${r.stderr ?? ''}${r.stdout ?? ''}`);
    process.exit(1);
  }
  return r.stdout;
}

const commit = run('git', ['rev-parse', '--verify', `${rev}^{commit}`], root).trim();
const head = run('git', ['rev-parse', 'HEAD'], root).trim();
const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], root).trim() !== '';
const oldTree = join(tmpdir(), `kiln-bench-${commit.slice(0, 10)}`);
if (!existsSync(oldTree)) run('git', ['worktree', 'add', '--detach', oldTree, commit], root, true);
// The temporary tree goes away however the run ends (a failed install or bench included), unless --keep.
process.on('exit', () => {
  if (!keep) spawnSync('git', ['worktree', 'remove', '--force', oldTree], { cwd: root, stdio: 'ignore' });
});
console.error(`installing ${commit.slice(0, 10)} in ${oldTree}…`);
run('npx', ['-y', 'pnpm@12.4.2', 'install', '--frozen-lockfile', '--prefer-offline'], oldTree, true);
// Since the install split the bench and its peers are their own install (bench/pnpm-workspace.yaml). Not
// frozen: revisions before 0081611 committed a bench lockfile missing two workspace links, which a frozen
// install refuses; the temporary tree may update its own copy.
if (existsSync(join(oldTree, 'bench', 'pnpm-workspace.yaml'))) run('npx', ['-y', 'pnpm@12.4.2', '--dir', 'bench', 'install', '--no-frozen-lockfile', '--prefer-offline'], oldTree, true);

const UNIT_MS = { µs: 1e-3, us: 1e-3, ms: 1, s: 1000 };
const NUMBER = String.raw`(\d+(?:\.\d+)?)`;

/** Every time a bench printed, as `workload → ms`. */
function parse(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    // A table row of compiled.bench.ts: `name   kiln 0.534 (0.52–0.56) | kiln+read 0.61 (…) | jax …` (ms).
    const row = new RegExp(String.raw`^(\S.*?)\s{2,}kiln ${NUMBER} \(.*?\| kiln\+read ${NUMBER} `).exec(line);
    if (row) {
      out.set(`${row[1]} · kiln`, Number(row[2]));
      out.set(`${row[1]} · kiln+read`, Number(row[3]));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const label = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1);
    // `call overhead, …: kiln 3.1 µs, kiln+read 4.0 µs, jax …`: Kiln's own entries.
    const named = [...rest.matchAll(new RegExp(String.raw`(kiln[\w+-]*) ${NUMBER} (µs|us|ms)\b`, 'g'))];
    if (named.length) {
      for (const m of named) out.set(`${label} · ${m[1]}`, Number(m[2]) * UNIT_MS[m[3]]);
      continue;
    }
    const first = new RegExp(String.raw`^\s*${NUMBER} (µs|us|ms|s)\b`).exec(rest);
    if (first && label) out.set(label, Number(first[1]) * UNIT_MS[first[2]]);
  }
  return out;
}

function runBench(tree, name) {
  const file = join(tree, 'bench', `${name}.bench.ts`);
  if (!existsSync(file)) {
    console.error(`no bench/${name}.bench.ts in ${tree}`);
    process.exit(1);
  }
  return parse(run(process.execPath, ['--conditions=kiln-source', '--import', 'tsx/esm', file], tree, true));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`);

const cpuModel = (() => {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model ?? 'unknown CPU';
  }
})();
const loadStart = loadavg()[0];

console.log(`# bench-compare: old ${commit.slice(0, 10)} vs new ${head.slice(0, 10)}${dirty ? ' (+ uncommitted changes)' : ''}`);
console.log(`CPU: ${cpuModel}, ${cpus().length} cores; load average at start ${loadStart.toFixed(1)}; ${rounds} round(s) per tree, alternating`);
let allRatios = [];
for (const name of benches) {
  const samples = { old: [], new: [] };
  for (let r = 0; r < rounds; r++) {
    // old, new, then new, old: neither side always runs first.
    const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    for (const side of order) {
      console.error(`${name}: round ${r + 1}/${rounds}, ${side} tree…`);
      samples[side].push(runBench(side === 'old' ? oldTree : root, name));
    }
  }
  console.log(`\n## ${name}\n${'workload'.padEnd(56)} ${'old'.padStart(12)} ${'new'.padStart(12)}  new/old`);
  const workloads = [...samples.new[0].keys()].filter((w) => samples.old.every((m) => m.has(w)) && samples.new.every((m) => m.has(w)));
  for (const w of workloads) {
    const before = median(samples.old.map((m) => m.get(w)));
    const after = median(samples.new.map((m) => m.get(w)));
    const ratio = before > 0 ? after / before : NaN;
    if (Number.isFinite(ratio) && ratio > 0) allRatios.push(ratio);
    console.log(`${w.slice(0, 56).padEnd(56)} ${fmt(before).padStart(12)} ${fmt(after).padStart(12)}  ${ratio.toFixed(3)}`);
  }
  const onlyOne = [...new Set([...samples.old[0].keys(), ...samples.new[0].keys()])].filter((w) => !workloads.includes(w));
  if (onlyOne.length) console.log(`(printed by one tree only, not compared: ${onlyOne.join('; ')})`);
}
const geomean = Math.exp(allRatios.reduce((s, r) => s + Math.log(r), 0) / Math.max(allRatios.length, 1));
console.log(`\ngeometric mean new/old over ${allRatios.length} workloads: ${geomean.toFixed(3)} (< 1: the new tree is faster); load average at end ${loadavg()[0].toFixed(1)}`);


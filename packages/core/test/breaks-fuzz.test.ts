// Differential fuzzing of graph breaks: random programs mixing tensor ops, skipped calls, data-dependent
// branches and loops, returns, throws, and side effects on outside state, run compiled and eagerly on the
// same inputs (new shapes and values included). Results, raised errors, the skipped calls' order and the
// outside state must match. Branches on computed floats are logged (`seen`): one that went another way
// within rounding of its threshold is float-sensitive (test-support/float-branches.ts) — counted and
// printed, the rest of that program not compared — and any other flip is a failure. Fixed seeds in CI;
// `pnpm fuzz breaks --runs N --seed S --minutes M` is the long mode (test-support/fuzz-settings.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { classifyBranches } from '../../../test-support/float-branches.js';
import type { BranchValue } from '../../../test-support/float-branches.js';
import { fuzzSettings, fuzzTimeLeft, reproCommand } from '../../../test-support/fuzz-settings.js';

let seed = 1;
const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pick = <T,>(xs: T[]): T => xs[rnd(xs.length)]!;

const STMTS = [
  () => `h = h.${pick(['tanh', 'neg', 'relu', 'sin'])}();`,
  () => `h = h.add(${rnd(3)});`,
  () => `say('s', h.shape[0], n);`,
  () => { const c = rnd(3) - 1; return `if (seen(h.sum().item(), ${c}, ${++uid}) > ${c}) { h = h.mul(2); say('pos'); } else { h = h.sub(1); }`; },
  // A sum of centred values compared with 0: mathematically 0, so float32 rounding decides the branch.
  () => `if (seen(h.sub(h.mean()).sum().item(), 0, ${++uid}) > 0) { h = h.add(1); say('up'); } else { h = h.sub(1); }`,
  () => `for (let i = 0; i < 2; i++) { h = h.add(i); if (i === 1) say(i); }`,
  () => `state.log.push(h.sum());`,
  () => `state.count += 1;`,
  () => `acc.push(h.mul(n));`,
  () => `if (n > 2) { say('big'); return h.neg(); }`,
  () => `n = n + 1;`,
  () => `const t${rnd(1000)} = h.add(n); h = t${0}.mul(1) ?? h;`,
  () => `if (n > 5) throw new RangeError('n ' + n);`,
  () => `obj.last = h;`,
  () => `var v${rnd(3)} = n * 2;`,
  () => `const g${++uid} = (t) => t.mul(2); h = g${uid}(h);`,
  () => `h = helper(h);`,
  () => `state.map.set('k' + n, h.sum());`,
  () => `delete obj.last;`,
  () => `let s${++uid} = seen(h.sum().item(), 0, ${uid}); h = h.mul(s${uid} > 0 ? 1 : -1);`,
  () => `{ let q = h.add(1); say('blk'); h = q; }`,
  () => `try { say('try'); h = h.add(2); } catch (e) { h = h; }`,
  () => `while (seen(h.abs().max().item(), 3, ${++uid}) > 3) h = h.mul(0.5);`,
  () => `if (n > 1) { const z = h.neg(); h = z.add(1); } else { h = h.add(1); say('else'); }`,
  () => `label${++uid}: { if (n === 3) break label${uid}; say('lbl'); }`,
  () => `say(helper(h).shape[0]);`,
  () => `v0 = (typeof v0 === 'number' ? v0 : 0) + 1;`,
  () => `h.mul_(0.5);`,
  () => `a.add_(0.25);`,
  () => `const w${++uid} = h.reshape([-1]); h.add_(1); say(w${uid}.sum().item());`,
  () => `say(a.sub_(0.5).sum().item());`,
];
let uid = 0;

function program(): string {
  const lines = ['let h = a.mul(1);', 'const acc = [];'];
  const count = 2 + rnd(6);
  for (let i = 0; i < count; i++) {
    let s = pick(STMTS)();
    if (s.includes('const t')) { const id = ++uid; s = `const t${id} = h.add(n); h = t${id}.mul(1);`; }
    lines.push(s);
  }
  lines.push(pick(['return h;', 'return { h, acc, n };', 'return [h.sum(), acc.length];', '']));
  return lines.join('\n  ');
}

const said: unknown[] = [];
const say = (...v: unknown[]): void => void said.push(v.map(String).join(' '));
skip(say);
/** Logs a value a branch compares with its threshold, and returns it (the program compares it itself). */
let branches: BranchValue[] = [];
const seen = (value: number, threshold: number, site: number): number => {
  branches.push({ site, value, threshold });
  return value;
};
skip(seen);
const helper = (t: Tensor): Tensor => { say('helper'); return t.mul(3); };

function make(src: string) {
  const state = { log: [] as Tensor[], count: 0, map: new Map<string, Tensor>() };
  const obj: { last?: Tensor } = {};
  const fn = new Function('say', 'seen', 'state', 'obj', 'helper', `return function f(a, n) {\n  ${src}\n}`)(say, seen, state, obj, helper) as (a: Tensor, n: number) => unknown;
  return { fn, state, obj };
}

const Fuzz = suite('graph breaks: differential fuzzing against eager');

const base = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
/** New shapes and new values of `n` (which steer the branches, returns and throws). */
const INPUTS: [Tensor, number][] = [[base, 1], [k.arange(0, 20).reshape([5, 4]).div(7).sub(0.5), 1], [base, 3], [k.ones([2, 4]), 6], [base, 1]];

/** The branch values of call `upTo` of a fresh eager world run on float64 copies of the inputs. */
function float64Branches(src: string, upTo: number): BranchValue[] {
  const ref = make(src);
  for (const [i, [input, n]] of INPUTS.entries()) {
    branches = [];
    try {
      ref.fn(input.to('float64'), n);
    } catch {
      /* the float32 sides decide what an error means */
    }
    if (i === upTo) break;
  }
  return branches;
}

/**
 * Runs one program compiled and eagerly on INPUTS; throws at the first difference. Returns the detail of a
 * float-sensitive branch when one made the two sides part ways (nothing after it is compared).
 */
function compare(src: string, options: Parameters<typeof compileWith>[1], rec: CompileRecorder): string | undefined {
  const eager = make(src);
  const comp = make(src);
  const f = compileWith(comp.fn, options, rec);
  for (const [call, [input, n]] of INPUTS.entries()) {
    // Programs may write their argument in place: each side gets its own copy.
    const [a, b] = [input.clone(), input.clone()];
    said.length = 0;
    branches = [];
    let want: unknown, wantErr: unknown;
    try { want = eager.fn(b, n); } catch (e) { wantErr = e; }
    const saidEager = [...said];
    const branchesEager = branches;
    said.length = 0;
    branches = [];
    let got: unknown, gotErr: unknown;
    try { got = f(a, n); } catch (e) { gotErr = e; }
    const branchesCompiled = branches;
    const verdict = classifyBranches(branchesEager, branchesCompiled, undefined);
    if (verdict.kind !== 'same') {
      const checked = verdict.kind === 'float-sensitive' ? classifyBranches(branchesEager, branchesCompiled, float64Branches(src, call)) : verdict;
      if (checked.kind === 'wrong') throw new Error(`wrong branch (call ${call}): ${checked.detail}`);
      if (checked.kind === 'float-sensitive') return `call ${call}: ${checked.detail}`;
    }
    if (wantErr || gotErr) {
      if (!(wantErr && gotErr) || (wantErr as Error).message !== (gotErr as Error).message) throw new Error(`error mismatch: ${String(wantErr)} vs ${String(gotErr)}`);
    } else assertSameValue(got, want);
    assertSameCalls(said, saidEager);
    assertSameValue({ ...comp.state, map: [...comp.state.map.entries()] }, { ...eager.state, map: [...eager.state.map.entries()] }, 'state');
    assertSameValue({ ...comp.obj }, { ...eager.obj }, 'obj');
    assertSameValue(a, b, 'the argument after the call');
  }
  return undefined;
}

/**
 * The skipped calls, in order, with the same arguments. Numbers printed from tensors the compiled graph
 * computed (`say(w.sum().item())` after a compiled tanh) may differ in the last float32 bits from eager's:
 * those compare within 1e-6 relative; everything else exactly.
 */
function assertSameCalls(got: readonly unknown[], want: readonly unknown[]): void {
  const close = (x: string, y: string) => {
    const [a, b] = [Number(x), Number(y)];
    return x === y || (x.trim() !== '' && Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)));
  };
  const same = got.length === want.length && got.every((g, i) => {
    const [gs, ws] = [String(g).split(' '), String(want[i]).split(' ')];
    return gs.length === ws.length && gs.every((t, j) => close(t, ws[j]!));
  });
  if (!same) assert.equal(got, want, 'skipped calls, in order');
}

interface FuzzResult {
  readonly failures: string[];
  readonly splits: number;
  readonly programs: number;
  readonly floatSensitive: string[];
}

function fuzz(firstSeed: number, runs: number, options: Parameters<typeof compileWith>[1], budgetMs: number, replay: (programSeed: number) => string): FuzzResult {
  seed = firstSeed;
  const failures: string[] = [];
  const floatSensitive: string[] = [];
  let splits = 0;
  let programs = 0;
  const start = Date.now();
  for (; programs < runs && Date.now() - start < budgetMs; programs++) {
    const programSeed = seed;
    const src = program();
    const rec = new CompileRecorder();
    try {
      const sensitive = compare(src, options, rec);
      if (sensitive) floatSensitive.push(`${sensitive}\n  ${src}`);
    } catch (err) {
      failures.push(`${(err as Error).message.slice(0, 300)}\n  ${src}\n  breaks: ${rec.breaks.map((b) => b.reason.slice(0, 100)).join(' | ')}\n  repro: ${replay(programSeed)}`);
    }
    if (rec.entries.some((e) => e.entry.kind === 'split')) splits++;
  }
  return { failures, splits, programs, floatSensitive };
}

const settings = fuzzSettings({ runs: 15, seed: 1 });
const CONFIGS = [['default options', {}, 0], ['dynamic: true', { dynamic: true }, 1000], ["backend 'eager'", { backend: 'eager' }, 2000]] as const;

for (const [index, [name, options, seedOffset]] of CONFIGS.entries()) {
  Fuzz(`random programs match eager (${name})`, () => {
    const budget = fuzzTimeLeft() / (CONFIGS.length - index);
    // A program's seed replays it alone: the run starts at seed − offset, so this configuration starts there.
    const replay = (programSeed: number) => `${reproCommand('breaks', programSeed - seedOffset, 1)} (configuration: ${name})`;
    const r = fuzz(settings.seed + seedOffset, settings.runs, options, budget, replay);
    if (settings.long || r.floatSensitive.length) {
      console.log(`[fuzz breaks] ${name}: ${r.programs} programs from seed ${settings.seed + seedOffset}, ${r.failures.length} failed, ${r.floatSensitive.length} float-sensitive branches (either path accepted)${r.floatSensitive.length ? `; first: ${r.floatSensitive[0]!.split('\n')[0]}` : ''}`);
    }
    assert.equal(r.failures, [], r.failures.join('\n\n'));
    assert.ok(r.splits > r.programs / 2, `most programs split at a break (${r.splits} of ${r.programs})`);
  });
}

Fuzz.run();

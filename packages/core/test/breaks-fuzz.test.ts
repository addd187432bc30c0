// Differential fuzzing of graph breaks: random programs mixing tensor ops, skipped calls, data-dependent
// branches and loops, returns, throws, and side effects on outside state, run compiled and eagerly on the
// same inputs (new shapes and values included). Results, raised errors, the skipped calls' order and the
// outside state must match. Fixed seeds; FUZZ_RUNS / FUZZ_SEED widen it locally.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

let seed = 1;
const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pick = <T,>(xs: T[]): T => xs[rnd(xs.length)]!;

const STMTS = [
  () => `h = h.${pick(['tanh', 'neg', 'relu', 'sin'])}();`,
  () => `h = h.add(${rnd(3)});`,
  () => `say('s', h.shape[0], n);`,
  () => `if ((h.sum().item()) > ${rnd(3) - 1}) { h = h.mul(2); say('pos'); } else { h = h.sub(1); }`,
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
  () => `let s${++uid} = h.sum().item(); h = h.mul(s${uid} > 0 ? 1 : -1);`,
  () => `{ let q = h.add(1); say('blk'); h = q; }`,
  () => `try { say('try'); h = h.add(2); } catch (e) { h = h; }`,
  () => `while (h.abs().max().item() > 3) h = h.mul(0.5);`,
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
const helper = (t: Tensor): Tensor => { say('helper'); return t.mul(3); };

function make(src: string) {
  const state = { log: [] as Tensor[], count: 0, map: new Map<string, Tensor>() };
  const obj: { last?: Tensor } = {};
  const fn = new Function('say', 'state', 'obj', 'helper', `return function f(a, n) {\n  ${src}\n}`)(say, state, obj, helper) as (a: Tensor, n: number) => unknown;
  return { fn, state, obj };
}

const Fuzz = suite('graph breaks: differential fuzzing against eager');

const base = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
/** New shapes and new values of `n` (which steer the branches, returns and throws). */
const INPUTS: [Tensor, number][] = [[base, 1], [k.arange(0, 20).reshape([5, 4]).div(7).sub(0.5), 1], [base, 3], [k.ones([2, 4]), 6], [base, 1]];

/** Runs one program compiled and eagerly on INPUTS; throws at the first difference. */
function compare(src: string, options: Parameters<typeof compileWith>[1], rec: CompileRecorder): void {
  const eager = make(src);
  const comp = make(src);
  const f = compileWith(comp.fn, options, rec);
  for (const [input, n] of INPUTS) {
    // Programs may write their argument in place: each side gets its own copy.
    const [a, b] = [input.clone(), input.clone()];
    said.length = 0;
    let want: unknown, wantErr: unknown;
    try { want = eager.fn(b, n); } catch (e) { wantErr = e; }
    const saidEager = [...said];
    said.length = 0;
    let got: unknown, gotErr: unknown;
    try { got = f(a, n); } catch (e) { gotErr = e; }
    if (wantErr || gotErr) {
      if (!(wantErr && gotErr) || (wantErr as Error).message !== (gotErr as Error).message) throw new Error(`error mismatch: ${String(wantErr)} vs ${String(gotErr)}`);
    } else assertSameValue(got, want);
    assertSameCalls(said, saidEager);
    assertSameValue({ ...comp.state, map: [...comp.state.map.entries()] }, { ...eager.state, map: [...eager.state.map.entries()] }, 'state');
    assertSameValue({ ...comp.obj }, { ...eager.obj }, 'obj');
    assertSameValue(a, b, 'the argument after the call');
  }
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

function fuzz(firstSeed: number, runs: number, options: Parameters<typeof compileWith>[1]): { failures: string[]; splits: number } {
  seed = firstSeed;
  const failures: string[] = [];
  let splits = 0;
  for (let r = 0; r < runs; r++) {
    const src = program();
    const rec = new CompileRecorder();
    try {
      compare(src, options, rec);
    } catch (err) {
      failures.push(`${(err as Error).message.slice(0, 300)}\n  ${src}\n  breaks: ${rec.breaks.map((b) => b.reason.slice(0, 100)).join(' | ')}`);
    }
    if (rec.entries.some((e) => e.entry.kind === 'split')) splits++;
  }
  return { failures, splits };
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const SEED = Number(process.env.FUZZ_SEED ?? 1);

for (const [name, options, seedOffset] of [['default options', {}, 0], ['dynamic: true', { dynamic: true }, 1000], ["backend 'eager'", { backend: 'eager' }, 2000]] as const) {
  Fuzz(`random programs match eager (${name})`, () => {
    const { failures, splits } = fuzz(SEED + seedOffset, RUNS, options);
    assert.equal(failures, [], failures.join('\n\n'));
    assert.ok(splits > RUNS / 2, `most programs split at a break (${splits} of ${RUNS})`);
  });
}

Fuzz.run();

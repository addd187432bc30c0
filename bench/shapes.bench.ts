// @kiln/shapes: cost of symbolic arithmetic in canonical form vs through mathjs simplify, guard emission,
// and a synthetic 1,000-op shape-propagation workload with the share of time spent inside mathjs.
// Prints figures only; nothing here is a pass/fail threshold.
import { machineLine } from './machine.js';
import {
  ShapeEnv,
  expr as E,
  guardFunctionSource,
  mathjsStats,
  produceGuards,
  resetMathjsStats,
  simplifyWithMathjs,
  type Size,
  type SymBool,
  type SymInt,
} from '@kiln/shapes';
console.log(machineLine());

// CPU time of this process (user + system), so that other processes on a loaded machine do not inflate the
// figures the way wall-clock time would.
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time(label: string, iterations: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(iterations, 200); i++) fn(i); // warm-up
  const start = cpuMs();
  for (let i = 0; i < iterations; i++) fn(i);
  const perOp = ((cpuMs() - start) * 1000) / iterations;
  console.log(`${label.padEnd(58)} ${perOp.toFixed(2).padStart(10)} µs/op`);
  return perOp;
}

console.log(`(CPU time; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')})`);

// --- synthetic shape propagation: 1,000 ops over symbolic sizes -----------------------------------------
// A transformer-like stack of meta functions (broadcasting, matmul, views, attention reshapes, conv-style
// output sizes, cat/slice); each op is one node of a core graph whose sizes are symbolic.
type Shape = Size[];
const sym = (x: Size): SymInt => x as SymInt;
const num = (x: Size): x is number => typeof x === 'number';
const add = (a: Size, b: Size): Size => (num(a) ? (num(b) ? a + b : sym(b).add(a)) : sym(a).add(b));
const mul = (a: Size, b: Size): Size => (num(a) ? (num(b) ? a * b : sym(b).mul(a)) : sym(a).mul(b));
const fdiv = (a: Size, b: number): Size => (num(a) ? Math.floor(a / b) : sym(a).floorDiv(b));
const numel = (shape: Shape): Size => shape.reduce<Size>((n, d) => mul(n, d), 1);
function eq(env: ShapeEnv, a: Size, b: Size): boolean {
  if (num(a) && num(b)) return a === b;
  const c = num(a) ? sym(b).eq(a) : sym(a).eq(b);
  return typeof c === 'boolean' ? c : (c as SymBool).guardBool();
}
function broadcast(env: ShapeEnv, a: Shape, b: Shape): Shape {
  return a.map((x, i) => {
    const y = b[i]!;
    if (eq(env, x, 1)) return y;
    if (eq(env, y, 1) || eq(env, x, y)) return x;
    throw new Error('broadcast mismatch');
  });
}
function view(env: ShapeEnv, from: Shape, to: Shape): Shape {
  if (!eq(env, numel(from), numel(to))) throw new Error('view numel mismatch');
  return to;
}

function propagate(ops: number): { env: ShapeEnv; ms: number } {
  const start = cpuMs();
  const env = new ShapeEnv();
  env.setLocation('model.ts:1');
  const [b, s, h] = env.createSizes([8, 128, 64], 'L.x');
  const heads = 4;
  let x: Shape = [b!, s!, h!];
  for (let i = 0; i < ops; i++) {
    env.setLocation(`model.ts:${10 + (i % 12)}`);
    switch (i % 13) {
      case 0: // x + bias
        x = broadcast(env, x, [1, 1, h!]);
        break;
      case 1: // x.view(b*s, h)
        x = view(env, x, [mul(x[0]!, x[1]!), x[2]!]);
        break;
      case 2: // x @ w  (w: [h, h])
        if (!eq(env, x[1]!, h!)) throw new Error('matmul mismatch');
        x = [x[0]!, h!];
        break;
      case 3: // x.view(b, s, heads, h // heads)
        x = view(env, x, [b!, s!, heads, fdiv(h!, heads)]);
        break;
      case 4: // transpose(1, 2)
        x = [x[0]!, x[2]!, x[1]!, x[3]!];
        break;
      case 5: // q @ k^T -> [b, heads, s, s]
        if (!eq(env, x[3]!, fdiv(h!, heads))) throw new Error('attention mismatch');
        x = [x[0]!, x[1]!, x[2]!, x[2]!];
        break;
      case 6: // softmax / scale: pointwise with a scalar
        x = broadcast(env, x, [1, 1, 1, 1]);
        break;
      case 7: // attn @ v -> [b, heads, s, h // heads], transpose back, view(b, s, h)
        x = [x[0]!, x[1]!, x[2]!, fdiv(h!, heads)];
        x = view(env, [x[0]!, x[2]!, x[1]!, x[3]!], [b!, s!, mul(x[1]!, x[3]!)]);
        break;
      case 8: // residual add
        x = broadcast(env, x, [b!, s!, h!]);
        break;
      case 9: // conv1d over seq: (s + 2*1 - 3) // 1 + 1
        x = [x[0]!, add(fdiv(add(x[1]!, 2 - 3), 1), 1), x[2]!];
        break;
      case 10: // cat([x, x], 1) then slice [:, :s]
        x = [x[0]!, add(x[1]!, x[1]!), x[2]!];
        x = [x[0]!, fdiv(x[1]!, 2), x[2]!];
        break;
      case 11: // layer norm over h: mean is numel // h
        fdiv(numel(x), 64);
        x = broadcast(env, x, [1, 1, x[2]!]);
        break;
      case 12: { // pad seq by one, then view(-1, s + 1): the inferred dim is an exact non-monomial division
        const padded: Shape = [x[0]!, add(x[1]!, 1), x[2]!];
        const inferred = sym(numel(padded)).floorDiv(padded[1]!);
        view(env, padded, [inferred, padded[1]!]);
        break;
      }
    }
  }
  return { env, ms: cpuMs() - start };
}

// Runs first, so that this really is the first trace in a fresh process: it pays JIT warm-up and any
// uncached mathjs calls; later traces do not.
resetMathjsStats();
const cold = propagate(1000);
const coldStats = mathjsStats();
console.log(`${'shape propagation, 1,000 ops, first trace (cold)'.padEnd(58)} ${cold.ms.toFixed(2).padStart(10)} µs/op`);
console.log(
  `  mathjs: ${coldStats.calls} calls, ${((100 * coldStats.milliseconds) / cold.ms).toFixed(1)}% of the time, ` +
    `of which ${coldStats.setupMilliseconds.toFixed(1)} ms one-time setup ` +
    `(${((100 * (coldStats.milliseconds - coldStats.setupMilliseconds)) / (cold.ms - coldStats.setupMilliseconds)).toFixed(1)}% without it)`,
);
for (let r = 0; r < 60; r++) propagate(1000); // warm-up
resetMathjsStats();
const runs = 100;
let total = 0;
for (let r = 0; r < runs; r++) total += propagate(1000).ms;
const stats = mathjsStats();
console.log(`${'shape propagation, 1,000 ops, warm (mean of 100 traces)'.padEnd(58)} ${((total * 1000) / (runs * 1000)).toFixed(2).padStart(10)} µs/op`);
console.log(`  mathjs: ${stats.calls} calls, ${stats.cacheHits} memo hits, ${((100 * stats.milliseconds) / total).toFixed(1)}% of the time`);
console.log(`  guards: ${produceGuards(cold.env).map((g) => g.text).join('; ')}`);

// --- one symbolic op: canonical form vs mathjs simplify --------------------------------------------------
const s0 = E.symbolExpr('s0');
const s1 = E.symbolExpr('s1');
const ctx: E.SimplifyContext = { range: () => ({ lo: 2, hi: Infinity }) };
const canonical = time('canonical: (s0*k + s1) * 2 - s1  (4 ops)', 20_000, (i) => {
  E.sub(E.mul(E.add(E.mul(s0, E.constant(i)), s1), E.constant(2)), s1);
});
time('canonical: FloorDiv(s0*4*k + s1, 2*k)  (3 ops)', 20_000, (i) => {
  E.floorDiv(E.add(E.mul(s0, E.constant(4 * (i + 1))), s1), E.constant(2 * (i + 1)), ctx);
});
resetMathjsStats();
simplifyWithMathjs(E.add(s0, E.constant(1)), { memo: false });
const firstUse = mathjsStats();
console.log(`${'mathjs: first use in the process (lazy load + create(all))'.padEnd(58)} ${firstUse.milliseconds.toFixed(0).padStart(10)} ms (load ${firstUse.setupMilliseconds.toFixed(0)} ms)`);
const viaMathjs = time('mathjs: one simplify of (s0*k + s1) * 2 - s1, unmemoized', 200, (i) => {
  simplifyWithMathjs(E.sub(E.mul(E.add(E.mul(s0, E.constant(i + 3)), s1), E.constant(2)), s1), { memo: false });
});
console.log(`  → building the expression in canonical form is ${(viaMathjs / canonical).toFixed(0)}× cheaper than one mathjs simplify`);
const hard = E.max(E.floorDiv(E.add(s0, s1), E.constant(3), ctx), E.mod(s0, s1, ctx), { range: () => ({ lo: -Infinity, hi: Infinity }) });
simplifyWithMathjs(hard);
time('mathjs: memoized simplify of Max(FloorDiv(..), Mod(..)) (hit)', 20_000, () => simplifyWithMathjs(hard));

// --- guard production and emission ----------------------------------------------------------------------
function tracedEnv(inputs: number): ShapeEnv {
  const env = new ShapeEnv();
  const sizes: Size[] = [];
  for (let i = 0; i < inputs; i++) {
    env.setLocation(`model.ts:${i + 1}`);
    sizes.push(...env.createSizes([8, 16 + (i % 5), 1], `L.x${i}`));
  }
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1]!;
    const b = sizes[i]!;
    if (typeof a !== 'number' && typeof b !== 'number') {
      const c = (a as SymInt).le(b);
      if (typeof c !== 'boolean') (c as SymBool).guardBool();
    }
  }
  return env;
}
const env20 = tracedEnv(20);
time('produceGuards (20 inputs, 60 dims)', 200, () => produceGuards(env20));
const guards = produceGuards(env20);
time(`guardFunctionSource (${guards.length} guards)`, 200, () => guardFunctionSource(guards));
const check = new Function(`return ${guardFunctionSource(guards).source};`)() as (L: unknown) => number;
const L = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i}`, { shape: [8, 16 + (i % 5), 1] }]));
if (check(L) !== -1) throw new Error('guard function rejected its own example inputs');
time(`compiled guard function call (${guards.length} guards)`, 200_000, () => check(L));

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ShapeEnv, produceGuards, produceRuntimeAsserts, assertToJs, guardFunctionSource, symbolSources, expr as E, type Size, type SymInt, type SymBool } from '@kiln/shapes';

// A trace is sound when every input that passes the compiled guards would have taken the same decisions.
// Random traces: sizes of two tensors, then comparisons between small expressions over them. Every answer
// (decided statically or guarded) is replayed on random other inputs that pass the guard function.

type Term = { kind: 'dim'; i: number } | { kind: 'const'; v: number } | { kind: 'bin'; op: 'add' | 'sub' | 'mul' | 'fdiv' | 'mod' | 'max' | 'min'; a: Term; b: Term };
type Cmp = { op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; a: Term; b: Term };
const DIMS = 4;

const termOver = (dims: number): fc.Arbitrary<Term> => fc.letrec<{ t: Term }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('dim' as const), i: fc.integer({ min: 0, max: dims - 1 }) }),
    fc.record({ kind: fc.constant('const' as const), v: fc.integer({ min: 0, max: 4 }) }),
    fc.record({
      kind: fc.constant('bin' as const),
      op: fc.constantFrom('add' as const, 'sub' as const, 'mul' as const, 'max' as const, 'min' as const),
      a: tie('t'),
      b: tie('t'),
    }),
    fc.record({
      kind: fc.constant('bin' as const),
      op: fc.constantFrom('fdiv' as const, 'mod' as const),
      a: tie('t'),
      b: fc.record({ kind: fc.constant('const' as const), v: fc.integer({ min: 1, max: 4 }) }),
    }),
  ),
})).t;
const term = termOver(DIMS);
const cmpOver = (t: fc.Arbitrary<Term>): fc.Arbitrary<Cmp> => fc.record({ op: fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge'), a: t, b: t });
const cmp = cmpOver(term);
const shapeValues = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: DIMS, maxLength: DIMS });

function symbolic(t: Term, dims: Size[]): Size {
  if (t.kind === 'dim') return dims[t.i]!;
  if (t.kind === 'const') return t.v;
  const a = symbolic(t.a, dims);
  const b = symbolic(t.b, dims);
  if (typeof a === 'number' && typeof b === 'number') return concreteBin(t.op, a, b);
  if (t.op === 'sub') {
    if (typeof a !== 'number') return (a as SymInt).sub(b);
    const negated = (b as SymInt).neg();
    return typeof negated === 'number' ? a + negated : negated.add(a);
  }
  const [x, y] = typeof a === 'number' ? [b as SymInt, a] : [a as SymInt, b];
  // Only commutative ops may swap; fdiv/mod always have a constant right side here.
  if (typeof a === 'number' && (t.op === 'fdiv' || t.op === 'mod')) return concreteBin(t.op, a, b as number);
  switch (t.op) {
    case 'add': return x.add(y);
    case 'min': return x.min(y);
    case 'mul': return x.mul(y);
    case 'max': return x.max(y);
    case 'fdiv': return x.floorDiv(y);
    case 'mod': return x.mod(y);
  }
}

function concreteBin(op: Term & { kind: 'bin' } extends { op: infer O } ? O : never, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'min': return Math.min(a, b);
    case 'mul': return a * b;
    case 'max': return Math.max(a, b);
    case 'fdiv': return Math.floor(a / b);
    case 'mod': return E.pythonMod(a, b);
  }
}

function concrete(t: Term, values: number[]): number {
  if (t.kind === 'dim') return values[t.i]!;
  if (t.kind === 'const') return t.v;
  return concreteBin(t.op, concrete(t.a, values), concrete(t.b, values));
}

function compareConcrete(op: Cmp['op'], a: number, b: number): boolean {
  return { eq: a === b, ne: a !== b, lt: a < b, le: a <= b, gt: a > b, ge: a >= b }[op];
}

function decide(c: Cmp, dims: Size[]): boolean {
  const a = symbolic(c.a, dims);
  const b = symbolic(c.b, dims);
  if (typeof a === 'number' && typeof b === 'number') return compareConcrete(c.op, a, b);
  const flipped = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' } as const;
  const r = typeof a === 'number' ? (b as SymInt)[flipped[c.op]](a) : (a as SymInt)[c.op](b);
  return typeof r === 'boolean' ? r : r.guardBool();
}

const soundness = suite('soundness of guards');

soundness('inputs that pass the guard function take the same decisions as the example', () => {
  fc.assert(
    fc.property(shapeValues, fc.array(cmp, { minLength: 1, maxLength: 6 }), fc.array(shapeValues, { minLength: 20, maxLength: 20 }), fc.boolean(), (hints, cmps, others, duck) => {
      const env = new ShapeEnv();
      const mode = duck ? 'duck' : 'dynamic';
      const dims = [...env.createSizes(hints.slice(0, 2), 'L.x', mode), ...env.createSizes(hints.slice(2), 'L.y', mode)];
      const decisions = cmps.map((c) => decide(c, dims));
      cmps.forEach((c, i) => assert.is(decisions[i], compareConcrete(c.op, concrete(c.a, hints), concrete(c.b, hints))));
      const check = new Function(`return ${guardFunctionSource(produceGuards(env)).source};`)() as (L: unknown) => number;
      const inputs = (v: number[]) => ({ x: { shape: v.slice(0, 2) }, y: { shape: v.slice(2) } });
      assert.is(check(inputs(hints)), -1);
      for (const v of others) {
        if (check(inputs(v)) !== -1) continue;
        cmps.forEach((c, i) => {
          const now = compareConcrete(c.op, concrete(c.a, v), concrete(c.b, v));
          assert.is(now, decisions[i], `decision ${i} flips for ${JSON.stringify(v)} (example ${JSON.stringify(hints)})`);
        });
      }
    }),
    { numRuns: Number(process.env.SOUNDNESS_RUNS ?? 400) },
  );
});

soundness.run();

// With an unbacked value u (index DIMS) constrained by check(): every comparison answered statically must hold
// for every input and every u that pass the guards and the runtime asserts.
const unbacked = suite('soundness with unbacked symbols and runtime asserts');

const negate = { eq: 'ne', ne: 'eq', lt: 'ge', le: 'gt', gt: 'le', ge: 'lt' } as const;
const termU = termOver(DIMS + 1);

function symbolicCompare(c: Cmp, dims: Size[]): boolean | SymBool {
  const a = symbolic(c.a, dims);
  const b = symbolic(c.b, dims);
  if (typeof a === 'number' && typeof b === 'number') return compareConcrete(c.op, a, b);
  const flipped = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' } as const;
  return (typeof a === 'number' ? (b as SymInt)[flipped[c.op]](a) : (a as SymInt)[c.op](b)) as boolean | SymBool;
}

unbacked('static answers hold for every input and unbacked value admitted by guards and asserts', () => {
  fc.assert(
    fc.property(
      shapeValues,
      fc.integer({ min: -3, max: 12 }),
      fc.boolean(),
      fc.array(cmpOver(termU), { minLength: 0, maxLength: 4 }),
      fc.array(cmpOver(termU), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(shapeValues, fc.integer({ min: -3, max: 12 })), { minLength: 25, maxLength: 25 }),
      (hints, uValue, sizeLike, checks, queries, others) => {
        const env = new ShapeEnv();
        const dims: Size[] = [...env.createSizes(hints.slice(0, 2), 'L.x'), ...env.createSizes(hints.slice(2), 'L.y')];
        const u = env.createUnbacked({ origin: 'item' });
        dims.push(u);
        const values = [...hints, uValue];
        if (sizeLike && uValue >= 0) env.checkIsSize(u);
        for (const c0 of checks) {
          const c = compareConcrete(c0.op, concrete(c0.a, values), concrete(c0.b, values)) ? c0 : { ...c0, op: negate[c0.op] };
          const cond = symbolicCompare(c, dims);
          assert.is(cond === false, false, `check of a true condition was decided false: ${JSON.stringify(c)}`);
          if (cond !== true) env.check(cond);
        }
        const decisions: [Cmp, boolean][] = [];
        for (const q of queries) {
          const r = symbolicCompare(q, dims);
          if (typeof r === 'boolean') decisions.push([q, r]);
          else if (env.staticallyKnownTrue(r)) decisions.push([q, true]);
        }
        const guards = new Function(`return ${guardFunctionSource(produceGuards(env)).source};`)() as (L: unknown) => number;
        const sources = symbolSources(env);
        const asserts = produceRuntimeAsserts(env).map(
          (a) => new Function('V', assertToJs(a, (name) => `V.${name}`)) as (v: Record<string, number>) => void,
        );
        const admitted = (v: number[], uv: number): boolean => {
          const L = { x: { shape: v.slice(0, 2) }, y: { shape: v.slice(2) } };
          if (guards(L) !== -1) return false;
          const V: Record<string, number> = { u0: uv };
          for (const { symbol, source } of sources) V[symbol] = (new Function('L', `return ${source};`) as (l: unknown) => number)(L);
          try {
            for (const a of asserts) a(V);
            return true;
          } catch {
            return false;
          }
        };
        assert.ok(admitted(hints, uValue), 'the example itself must pass guards and asserts');
        for (const [v, uv] of others) {
          if (!admitted(v, uv)) continue;
          for (const [q, answer] of decisions)
            assert.is(compareConcrete(q.op, concrete(q.a, [...v, uv]), concrete(q.b, [...v, uv])), answer, `${JSON.stringify(q)} at ${JSON.stringify([...v, uv])}`);
        }
      },
    ),
    { numRuns: Number(process.env.SOUNDNESS_RUNS ?? 300) },
  );
});

unbacked.run();

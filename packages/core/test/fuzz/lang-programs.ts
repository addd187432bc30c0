// Random small JS programs over the language the tracer supports, for lang-fuzz.test.ts: closures, classes
// with methods and getters, loops with break/continue, destructuring, spread, optional chaining,
// try/catch/finally, early returns, shape-dependent branches, switch, and graph-breaking calls (a skipped
// `say`, `.item()`). Every program keeps `h` a float tensor of shape [rows, 4] and `n` an integer; branches
// test sizes, integers and flags only, never a float computed by a kernel (rounding could then legitimately
// send compiled and eager different ways; the breaks fuzzer covers that with its float-branch classifier).
import fc from 'fast-check';

const c = fc.integer({ min: 0, max: 4 });
const op = fc.constantFrom('relu()', 'neg()', 'abs()', 'tanh()', 'mul(2)', 'add(1)', 'sub(0.5)');

/** Statements with no nested block. */
const simple: fc.Arbitrary<string>[] = [
  op.map((o) => `h = h.${o};`),
  c.map((v) => `h = h.add(n * ${v});`),
  // closures: a factory, a captured counter
  c.map((v) => `{ const mk = (k) => (t) => t.mul(k); h = mk(${v} + 1)(h); }`),
  c.map((v) => `{ let calls = 0; const inc = () => ++calls; inc(); inc(); h = h.add(calls * ${v}); }`),
  // classes: a constructor, a method, a getter, a static, inheritance
  c.map((v) => `{ class P { constructor(s) { this.s = s; } get twice() { return this.s * 2; } apply(t) { return t.add(this.twice); } } h = new P(${v}).apply(h); }`),
  c.map((v) => `{ class B { f(t) { return t.mul(2); } } class D extends B { f(t) { return super.f(t).sub(${v}); } } h = new D().f(h); }`),
  c.map((v) => `{ class S { static k = ${v}; static of(t) { return t.add(S.k); } } h = S.of(h); }`),
  // the outside model: a method reading a getter and a field
  fc.constant(`h = model.forward(h);`),
  fc.constant(`h = h.mul(model.gain);`),
  // destructuring and spread
  c.map((v) => `{ const [p, q = ${v}] = [h.mul(2)]; const { u, w = 1 } = { u: p }; h = u.sub(q).mul(w); }`),
  c.map((v) => `{ const xs = [${v}, n, 1]; const m = Math.max(...xs); const o2 = { ...cfg, z: ${v} }; h = h.add(m).mul(o2.scale); }`),
  fc.constant(`{ const [first, ...rest] = [1, 2, n]; h = h.add(first + rest.length); }`),
  // optional chaining and nullish
  c.map((v) => `h = h.add(cfg.missing?.x ?? ${v});`),
  fc.constant(`h = cfg.maybe?.(h) ?? h.neg();`),
  fc.constant(`h = h.mul(cfg.nested?.deep?.k ?? 1);`),
  // shape-dependent and integer branches, ternaries
  c.map((v) => `h = h.shape[0] > ${v} ? h.mul(2) : h.sub(1);`),
  c.map((v) => `if (n % 2 === ${v % 2}) h = h.neg();`),
  // early returns
  c.map((v) => `if (n === ${v}) return h.sum(1);`),
  c.map((v) => `if (h.shape[0] === ${v + 1}) return [h, n];`),
  // graph breaks: a skipped call, item() of an integer tensor, item() printed
  fc.constant(`say('p', h.shape[0], n);`),
  fc.constant(`{ const s = ids.sum().item(); say('ids', s); n = n + (s % 3); }`),
  fc.constant(`say('f', h.sum().item());`),
  // outside state
  fc.constant(`state.count += 1;`),
  fc.constant(`state.log.push(n);`),
  // closures over loop variables, default and rest parameters, computed keys, object methods with `this`
  c.map((v) => `{ const fs = []; for (let i = 0; i < ${v + 1}; i++) fs.push(() => i); h = h.add(fs[fs.length - 1]()); }`),
  c.map((v) => `{ const addK = (t, k2 = ${v}, ...more) => t.add(k2 + more.length); h = addK(h); h = addK(h, 1, 2, 3); }`),
  c.map((v) => `{ const key = 'k' + ${v}; const o3 = { [key]: ${v}, get dbl() { return this[key] * 2; }, m(t) { return t.add(this.dbl); } }; h = o3.m(h); }`),
  // for…of over entries, for…in over a literal, typeof / instanceof, template literals
  fc.constant(`for (const [i2, v2] of [[0, 1], [1, 2]].entries()) h = h.add(v2[1] * i2);`),
  fc.constant(`{ const lit = { p: 1, q: 2 }; for (const key2 in lit) h = h.add(lit[key2]); }`),
  fc.constant(`if (typeof n === 'number' && h instanceof a.constructor) say(\`n=\${n} rows=\${h.shape[0]}\`);`),
  // outside objects written: fields, arrays, Maps
  fc.constant(`cfg.hits = (cfg.hits ?? 0) + 1;`),
  fc.constant(`state.map.set('r' + h.shape[0], n);`),
  fc.constant(`if (state.log.length > 2) state.log.pop();`),
  // a throw from a nested function caught outside it
  c.map((v) => `{ const boom = (m) => { if (m > ${v}) throw new TypeError('big ' + m); return m; }; try { h = h.add(boom(n)); } catch (e) { say(e.name, e.message); } }`),
  // array methods with callbacks
  c.map((v) => `h = [1, ${v}].reduce((acc, x) => acc.add(x), h);`),
  fc.constant(`h = [0, 1].map((i) => h.mul(i + 1))[1];`),
];

const leaf = fc.oneof(...simple);

/** A statement, possibly a block around `depth - 1` statements. */
function statement(depth: number): fc.Arbitrary<string> {
  if (depth <= 0) return leaf;
  const body = fc.array(statement(depth - 1), { minLength: 1, maxLength: 3 }).map((s) => s.join(' '));
  return fc.oneof(
    { arbitrary: leaf, weight: 4 },
    fc.tuple(c, body, body).map(([v, a, b]) => `if (h.shape[0] > ${v}) { ${a} } else { ${b} }`),
    fc.tuple(c, c, body).map(([k, b, s]) => `for (let i = 0; i < ${k + 1}; i++) { if (i === ${b}) continue; if (i > ${k + b}) break; ${s} h = h.add(i); }`),
    fc.tuple(c, body).map(([k, s]) => `{ let j = 0; while (true) { j++; if (j > ${k}) break; ${s} } }`),
    fc.tuple(c, body).map(([k, s]) => `outer${depth}: for (const a1 of [1, 2]) { for (const b1 of [1, 2]) { if (a1 + b1 > ${k + 2}) break outer${depth}; ${s} } }`),
    fc.tuple(c, body).map(([k, s]) => `try { if (n > ${k}) throw new RangeError('n ' + n); ${s} } catch (e) { say('caught', e.message); h = h.neg(); } finally { say('fin'); h = h.add(1); }`),
    fc.tuple(body).map(([s]) => `{ const run = (t) => { let h = t; ${s} return h; }; h = run(h); }`),
    fc.tuple(c, body, body).map(([k, a, b]) => `switch (n % 3) { case ${k % 3}: { ${a} break; } default: { ${b} } }`),
    // return inside try with a finally that changes state; break out of a loop through a finally
    fc.tuple(c, body).map(([k, s]) => `{ const tf = (t) => { let h = t; try { ${s} if (n > ${k}) return h.mul(2); } finally { say('tf'); h = h.add(100); } return h; }; h = tf(h); }`),
    fc.tuple(c, body).map(([k, s]) => `for (let i = 0; i < 3; i++) { try { if (i === ${k % 3}) break; ${s} } finally { h = h.add(1); } }`),
  );
}

/** A whole program body (the function's parameters are `a`, `n` and `ids`). */
export const programArb: fc.Arbitrary<string> = fc
  .tuple(fc.array(statement(2), { minLength: 1, maxLength: 6 }), fc.constantFrom('return h;', 'return { h, n };', 'return [h.sum(), n];', 'return h.sum(0);'))
  .map(([stmts, ret]) => ['let h = a.mul(1);', ...stmts, ret].join('\n  '));

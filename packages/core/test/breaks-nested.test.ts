import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { assertSameValue, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const seen: string[] = [];
const note = (s: unknown): void => void seen.push(String(s));
skip(note);

const Nested = suite('graph breaks inside blocks, loops, helpers and try');

Nested('a break inside an if branch: the test runs eagerly, the branch splits at the break', () => {
  const rec = check((a: Tensor, verbose: boolean) => {
    let h = a.exp();
    if (verbose) {
      h = h.add(1);
      note('verbose');
    }
    return h.mul(2);
  }, [[x, true], [x, false]], { graphs: 4 }); // exp | add, mul (the branch's resume) ; exp·mul (verbose false: no break)
  const e = rec.breaks[0]!;
  assert.match(e.reason, /note/);
});

Nested('a data-dependent if on item(): the test runs eagerly, the branch taken is compiled with the rest', () => {
  const rec = check((a: Tensor) => {
    const h = a.mul(2);
    let out: Tensor;
    if ((h.sum().item() as number) > 0) out = h.exp();
    else out = h.neg();
    return out.add(1);
  }, [[x], [x.neg()]], { graphs: 3 });
  const text = String(rec.report(undefined));
  assert.match(text, /runs the test of the enclosing 'if' \(the branch taken is compiled\) \(line \d+\) eagerly; resume functions '\w+_resume_2_then' \/ '\w+_resume_2_else'/);
  const graphs = rec.report(undefined).graphs.join('\n');
  assert.match(graphs, /exp\(/);
  assert.match(graphs, /neg\(/);
});

Nested('an if test that assigns a local, with no else branch and a block-scoped shadow', () => {
  check((a: Tensor, n: number) => {
    let h = a.exp();
    let s = 0;
    if ((s = a.sum().item() as number) > n) {
      const h = a.neg();
      note(h.ndim);
    }
    return h.add(s);
  }, [[x, 0], [x, 100]], { graphs: 4 }); // n is a guarded constant: the root compiles twice
});

Nested('an if whose branch declares a var used after it runs eagerly as a whole', () => {
  const rec = check((a: Tensor, flag: boolean) => {
    let h = a.exp();
    if (flag) {
      note('branch');
      var extra: number | undefined = 2;
    }
    // eslint-disable-next-line @typescript-eslint/ban-ts-comment
    // @ts-ignore -- read before assignment on purpose: the var is hoisted (undefined when flag is false)
    return h.mul(extra ?? 1);
  }, [[x, true], [x, false]]);
  assert.match(String(rec.report(undefined)), /runs the enclosing 'if' statement/);
});

Nested('a break inside a loop runs the enclosing loop eagerly', () => {
  const rec = check((a: Tensor) => {
    let h = a.relu();
    for (let i = 0; i < 3; i++) {
      h = h.add(i);
      note(i);
    }
    return h.sum();
  }, [[x]], { graphs: 2 });
  assert.is(rec.breaks.length, 1);
});

Nested('a break inside an inlined helper runs the calling statement eagerly (the helper is compiled as a callee)', () => {
  const helper = (t: Tensor): Tensor => {
    note('in helper');
    return t.mul(3);
  };
  check((a: Tensor) => {
    const h = a.sin();
    const g = helper(h);
    return g.cos();
  }, [[x]], { graphs: 3 });
});

Nested('a break inside try runs the whole try statement eagerly', () => {
  check((a: Tensor) => {
    const h = a.exp();
    let out: Tensor;
    try {
      note('try');
      out = h.add(1);
    } catch {
      out = h;
    }
    return out.mul(2);
  }, [[x]], { graphs: 2 });
});

Nested('explain says which statement ran eagerly and names the resume function', () => {
  function looped(a: Tensor): Tensor {
    let h = a.relu();
    for (const b of [1, 2]) {
      h = h.add(b);
      note(b);
    }
    return h.exp();
  }
  const e = explain(looped)(x);
  assert.is(e.graphCount, 2);
  assert.is(e.breaks.length, 1);
  const text = String(e);
  assert.match(text, /runs the enclosing 'for…of' loop \(line \d+\) eagerly/);
  assert.match(text, /resume function 'looped_resume_2'/);
  assert.match(text, /Graph 1 \[\d+\/0\] before the break at breaks-nested\.test\.ts:\d+:/);
  assert.match(text, /Graph 2 \[\d+\/0\] resume function 'looped_resume_2':/);
  assert.equal(e.graphOrigins.length, 2);
  assert.match(text, /hint: /);
});

Nested('exceptions: before, inside and after a graph surface as eager raises them', () => {
  const before = (a: Tensor, n: number) => {
    if (n > 1) throw new RangeError(`n too big: ${n}`);
    return a.exp();
  };
  const inside = (a: Tensor, n: number) => {
    const h = a.exp();
    if (n > 1) throw new RangeError(`n too big: ${n}`);
    return h.mul(n);
  };
  const after = (a: Tensor, n: number) => {
    const h = a.exp();
    note('after');
    if (n > 1) throw new RangeError(`n too big: ${n}`);
    return h.mul(n);
  };
  for (const fn of [before, inside, after]) {
    const f = compileWith(fn, {}, new CompileRecorder());
    assertSameValue(f(x, 1), fn(x, 1));
    let eagerError: unknown;
    try {
      fn(x, 2);
    } catch (err) {
      eagerError = err;
    }
    assert.throws(() => f(x, 2), (err: unknown) => err instanceof RangeError && err.message === (eagerError as Error).message);
  }
});

Nested('an error in the eager statement carries the user line in its stack', () => {
  const f = compileWith((a: Tensor) => {
    const h = a.exp();
    note(h.ndim);
    (null as unknown as { boom(): void }).boom();
    return h;
  }, {}, new CompileRecorder());
  try {
    f(x);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TypeError);
    assert.match(String((err as Error).stack), /at breaks-nested\.test\.ts:\d+ \(kiln: run eagerly after a graph break\)/);
  }
});

Nested.run();

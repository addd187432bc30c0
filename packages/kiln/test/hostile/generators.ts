// Every code generator that user-controlled strings can reach, each driven with the whole hostile corpus.
// A generator either compiles (run once per target: each registered backend — the eager interpreter, the
// wasm CPU backend — and, from backend-webgpu's tests, a compiler that loads the WebGPU plugin, whose results
// are device tensors read back asynchronously) or generates code on its own (pytree's fast paths). Each run
// compares with plain eager JS and throws on any difference.
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import {
  RegistrationError, TreeSpec, registerDataclass, registerPytreeNode, treeFlatten, treeUnflatten, unregisterPytreeNode, withOptions,
} from '@kiln/pytree';
import { DISTINCT_STRINGS, HOSTILE_IDENTIFIERS, recordOf } from './corpus.js';

/** Where a generator compiles: a backend name, the compile / explain to use, and how results are read. */
export interface HostileTarget {
  readonly backend: string | undefined;
  compile<F extends (...args: any[]) => any>(fn: F, options?: Omit<k.CompileOptions, 'backend' | 'compiler'>): F;
  explain<F extends (...args: any[]) => any>(fn: F): (...args: Parameters<F>) => k.ExplainOutput;
  /** A result as host values: device tensors are read back (webgpu), host tensors returned as they are. */
  read(value: unknown): Promise<unknown>;
}

/** The target of one registered backend of the default compiler (results are host tensors). */
export function backendTarget(backend: string): HostileTarget {
  return {
    backend,
    compile: (fn, options = {}) => k.compile(fn, { ...options, backend }),
    explain: (fn) => k.explain(fn, { backend }),
    read: async (value) => value,
  };
}

export interface HostileGenerator {
  /** The generated code this reaches, as a reader would look for it. */
  readonly name: string;
  /** Compiles through `target`: run once per target (see HostileTarget). */
  readonly perBackend: boolean;
  run(target: HostileTarget | undefined): Promise<void>;
}

/** Source text for a string: JSON's escaping is valid JS (U+2028/9 are legal in literals since ES2019). */
const lit = (s: string) => JSON.stringify(s);

/** Builds `(params) => body` from source, closing over `captured` (read by the tracer like any closure). */
function fromSource<F>(params: string, body: string, captured: Record<string, unknown> = {}): F {
  const names = Object.keys(captured);
  return new Function(...names, `return (${params}) => {\n${body}\n};`)(...names.map((n) => captured[n])) as F;
}

async function sameTensor(result: unknown, expected: unknown, where: string, target?: HostileTarget): Promise<void> {
  const actual = target ? await target.read(result) : result;
  assert.ok(actual instanceof k.Tensor && expected instanceof k.Tensor, `${where}: not a tensor`);
  const a = actual as k.Tensor;
  const e = expected as k.Tensor;
  assert.equal(a.shape, e.shape, `${where}: shape`);
  const av = Array.from(a.toTypedArray());
  const ev = Array.from(e.toTypedArray());
  av.forEach((v, i) => assert.ok(Math.abs(v - ev[i]!) <= 1e-5 * (1 + Math.abs(ev[i]!)), `${where}: element ${i} is ${v}, eager ${ev[i]}`));
}

/** Same own keys in the same order, same prototype, equal tensors under each key. */
async function sameRecord(actual: unknown, expected: Record<string, unknown>, where: string, target?: HostileTarget): Promise<void> {
  const got = actual as Record<string, unknown>;
  assert.is(Object.getPrototypeOf(got), Object.getPrototypeOf(expected), `${where}: prototype`);
  assert.equal(Reflect.ownKeys(got), Reflect.ownKeys(expected), `${where}: own keys`);
  for (const key of Object.keys(expected)) {
    const value = Object.getOwnPropertyDescriptor(got, key)!.value;
    const want = Object.getOwnPropertyDescriptor(expected, key)!.value;
    if (want instanceof k.Tensor) await sameTensor(value, want, `${where}[${lit(key)}]`, target);
    else assert.equal(value, want, `${where}[${lit(key)}]`);
  }
}

const KEYS = DISTINCT_STRINGS;
const inputRecord = (scale: number) => recordOf(KEYS, (_, i) => k.full([2], i * scale + 1));

/** Reads every hostile key of an input object: guards check the keys, the graph reads each one. */
const guardKeys: HostileGenerator = {
  name: 'guards: hostile property names of an input object',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const body = ['let acc = o[' + lit(KEYS[0]!) + '];', ...KEYS.slice(1).map((key) => `acc = acc.add(o[${lit(key)}]);`), 'return acc;'].join('\n');
    const fn = fromSource<(o: Record<string, k.Tensor>) => k.Tensor>('o', body);
    const compiled = target!.compile(fn, { fullgraph: true });
    for (const scale of [1, 2]) await sameTensor(compiled(inputRecord(scale)), fn(inputRecord(scale)), `backend ${backend}, scale ${scale}`, target);
    // A missing key fails as eager does (the user's own code reads undefined).
    const partial = inputRecord(1);
    delete partial[KEYS[3]!];
    assert.throws(() => fn(partial), TypeError);
    assert.throws(() => compiled(partial), TypeError);
  },
};

/** Hostile strings as values compared in code: guards on string inputs. */
const guardStrings: HostileGenerator = {
  name: 'guards: hostile string arguments compared with hostile literals',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const body = ['let r = t;', ...KEYS.map((s, i) => `if (s === ${lit(s)}) r = r.add(${i + 1});`), 'return r;'].join('\n');
    const fn = fromSource<(t: k.Tensor, s: string) => k.Tensor>('t, s', body);
    const compiled = target!.compile(fn, { fullgraph: true, recompileLimit: 16 });
    for (const s of [KEYS[0]!, KEYS[17]!, KEYS[KEYS.length - 1]!, 'not in the corpus', KEYS[0]!]) {
      await sameTensor(compiled(k.ones([3]), s), fn(k.ones([3]), s), `backend ${backend}, s = ${lit(s).slice(0, 40)}`, target);
    }
  },
};

/** Hostile keys in a returned object literal (a computed `__proto__` key makes an own property): output rebuilding. */
const outputKeys: HostileGenerator = {
  name: 'output rebuilding: hostile keys of a returned object',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const body = `return { ${KEYS.map((key, i) => `[${lit(key)}]: t.mul(${i}), `).join('')}n: 1 };`;
    const fn = fromSource<(t: k.Tensor) => Record<string, unknown>>('t', body);
    const compiled = target!.compile(fn, { fullgraph: true });
    await sameRecord(compiled(k.ones([2])), fn(k.ones([2])), `backend ${backend}`, target);
  },
};

/** A graph break with hostile locals, labels and keys alive across it: resume-function codegen. */
const resume: HostileGenerator = {
  name: 'resume functions: hostile identifiers, labels and keys across a graph break',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const ids = HOSTILE_IDENTIFIERS;
    const body = [
      ...ids.map((id, i) => `let ${id} = t.mul(${i + 1});`),
      `const rec = { ${KEYS.map((key, i) => `[${lit(key)}]: ${i}, `).join('')} };`,
      ...ids.filter((id) => /^[A-Za-z_$][\w$]*$/.test(id)).map((id) => `${id}_label: for (const q of [1, 2]) { if (q > 1) break ${id}_label; }`),
      // item() of a float tensor is a graph break: the rest of the function is a resume function.
      'const v = t.sum().item();',
      `sink.push(v, rec[${lit(KEYS[5]!)}]);`,
      ...ids.map((id, i) => `${id} = ${id}.add(v + ${i});`),
      `return { sum: ${ids.join('.add(')}${')'.repeat(ids.length - 1)}, key: rec[${lit(KEYS[KEYS.length - 1]!)}], proto: rec.__proto__ === Object.prototype };`,
    ].join('\n');
    const sinkEager: unknown[] = [];
    const sinkCompiled: unknown[] = [];
    const eager = fromSource<(t: k.Tensor) => Record<string, unknown>>('t', body, { sink: sinkEager });
    const fn = fromSource<(t: k.Tensor) => Record<string, unknown>>('t', body, { sink: sinkCompiled });
    const compiled = target!.compile(fn);
    const explained = target!.explain(fn)(k.ones([3]));
    assert.ok(explained.breakCount >= 1, `backend ${backend}: expected a graph break`);
    sinkCompiled.length = 0;
    for (const n of [3, 4]) {
      const got = compiled(k.ones([n]));
      const want = eager(k.ones([n]));
      await sameTensor(got.sum, want.sum, `backend ${backend}, n = ${n}`, target);
      assert.is(got.key, want.key);
      assert.is(got.proto, want.proto);
    }
    assert.equal(sinkCompiled, sinkEager, 'side effects happen once each, in order');
  },
};

/** check() messages become runtime asserts (dynamic sizes): the message is data, raised verbatim. */
const checkMessages: HostileGenerator = {
  name: 'runtime asserts: hostile check() messages',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const messages = KEYS.slice(0, 12);
    const body = [...messages.map((m, i) => `check(t.shape[0] !== ${i + 2}, ${lit(m)});`), 'return t.mul(2);'].join('\n');
    const fn = fromSource<(t: k.Tensor) => k.Tensor>('t', body, { check: k.check });
    const compiled = target!.compile(fn, { dynamic: true });
    await sameTensor(compiled(k.ones([20])), fn(k.ones([20])), `backend ${backend}`, target);
    for (const i of [0, 3, 11]) {
      const failing = k.ones([i + 2]);
      let eagerError: unknown;
      try {
        fn(failing);
      } catch (error) {
        eagerError = error;
      }
      assert.is((eagerError as Error)?.name, 'CheckFailedError');
      try {
        compiled(failing);
        assert.unreachable(`backend ${backend}: check ${i} passed`);
      } catch (error) {
        // The class eager raised, with the message verbatim.
        assert.is((error as Error).constructor, (eagerError as Error).constructor);
        assert.ok((error as Error).message.includes(messages[i]!), `backend ${backend}: message ${lit(messages[i]!).slice(0, 40)} not in ${(error as Error).message.slice(0, 200)}`);
      }
    }
  },
};

/** Class and function names (fn.name, constructor names) that guards and logs print. */
const names: HostileGenerator = {
  name: 'guards and logs: hostile class and function names',
  perBackend: true,
  async run(target) {
    const { backend } = target!;
    const classes = KEYS.slice(0, 30).map((name) => {
      const C = class {
        constructor(readonly v: k.Tensor) {}
      };
      Object.defineProperty(C, 'name', { value: name });
      return C;
    });
    const fn = (xs: { v: k.Tensor }[]) => {
      let acc = xs[0]!.v;
      for (let i = 1; i < xs.length; i++) acc = acc.add(xs[i]!.v);
      return acc;
    };
    Object.defineProperty(fn, 'name', { value: KEYS[16] });
    const compiled = target!.compile(fn, { fullgraph: true });
    const inputs = (s: number) => classes.map((C, i) => new C(k.full([2], i * s)));
    for (const s of [1, 3]) await sameTensor(compiled(inputs(s)), fn(inputs(s)), `backend ${backend}`, target);
    // Another class in one slot misses the guard and recompiles; still the eager value.
    const swapped = inputs(2);
    swapped[4] = new classes[5]!(k.full([2], 9));
    await sameTensor(compiled(swapped), fn(swapped), `backend ${backend}, swapped class`, target);
  },
};

/** pytree's generated flatten / unflatten and its JSON form: keys, Map keys, registered names, fields. */
const pytree: HostileGenerator = {
  name: 'pytree: generated flatten / unflatten, serialize',
  perBackend: false,
  async run() {
    const tree = { rec: recordOf(KEYS, (_, i) => i), map: new Map(KEYS.map((key, i) => [key, -i])), list: [recordOf(KEYS.slice(0, 9), () => 'x')] };
    // Object key order is JS's own (integer-like keys such as '0' first), as Object.keys gives it.
    const expected = [...Object.values(tree.rec), ...KEYS.map((_, i) => -i), ...KEYS.slice(0, 9).map(() => 'x')];
    for (let round = 0; round < 3; round++) {
      // The second and later rounds run generated code for this structure.
      const [leaves, spec] = treeFlatten(tree);
      assert.equal(leaves, expected);
      const rebuilt = treeUnflatten(spec, leaves) as typeof tree;
      await sameRecord(rebuilt.rec, tree.rec, 'rebuilt record');
      assert.equal([...rebuilt.map], [...tree.map]);
      const back = TreeSpec.deserialize(spec.serialize());
      assert.ok(back.equals(spec), 'serialize round trip');
    }
    registeredNames();
    dataclassFields();
  },
};

function registeredNames(): void {
  const namespace = 'hostile-corpus';
  const classes = KEYS.map((name) => {
    const C = class {
      constructor(readonly v: unknown) {}
    };
    Object.defineProperty(C, 'name', { value: name });
    registerPytreeNode(C, { namespace, name, flatten: (c) => ({ children: [c.v], keys: [name], meta: name }), unflatten: (_m, [v]) => new C(v) });
    return C;
  });
  try {
    const pt = withOptions({ namespace });
    const tree = classes.map((C, i) => new C([i]));
    for (let round = 0; round < 3; round++) {
      const [leaves, spec] = pt.treeFlatten(tree);
      assert.equal(leaves, KEYS.map((_, i) => i));
      const rebuilt = pt.treeUnflatten(spec, leaves) as { v: number[] }[];
      rebuilt.forEach((node, i) => assert.ok(Object.getPrototypeOf(node) === classes[i]!.prototype && node.v[0] === i));
      assert.ok(TreeSpec.deserialize(spec.serialize()).equals(spec));
    }
    assert.ok(pt.treeStructure(tree).toString().length > 0);
  } finally {
    for (const C of classes) unregisterPytreeNode(C, { namespace });
  }
}

function dataclassFields(): void {
  class Record_ {}
  // The registry refuses '' and the two names that would hide the instance's class or prototype.
  const refused = ['', '__proto__', 'constructor'];
  const fields = KEYS.filter((key) => !refused.includes(key));
  for (const bad of refused) {
    assert.throws(() => registerDataclass(Record_, { dataFields: [bad], namespace: 'hostile-fields' }), (e: unknown) => e instanceof RegistrationError);
  }
  registerDataclass(Record_, { dataFields: fields, namespace: 'hostile-fields' });
  try {
    const pt = withOptions({ namespace: 'hostile-fields' });
    const value = Object.assign(new Record_(), recordOf(fields, (_, i) => i));
    for (let round = 0; round < 3; round++) {
      const [leaves, spec] = pt.treeFlatten([value]);
      assert.equal(leaves, fields.map((_, i) => i));
      const [rebuilt] = pt.treeUnflatten(spec, leaves) as [Record<string, number>];
      assert.ok(rebuilt instanceof Record_);
      fields.forEach((field, i) => assert.is(Object.getOwnPropertyDescriptor(rebuilt, field)?.value, i, `field ${lit(field).slice(0, 30)}`));
    }
  } finally {
    unregisterPytreeNode(Record_, { namespace: 'hostile-fields' });
  }
}

/** Every generator the corpus runs against; a new code generator adds an entry here. */
export const GENERATORS: readonly HostileGenerator[] = [guardKeys, guardStrings, outputKeys, resume, checkMessages, names, pytree];

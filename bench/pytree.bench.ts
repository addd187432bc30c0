// Pytree flatten / unflatten / map: Kiln's @kiln/pytree against jax-js's `tree` module and a naive
// recursive implementation, in one process, on the trees BENCH.md lists. Prints ns per leaf (ns per call
// for one op's arguments) and ratios; figures from other runs are not comparable (the machine is shared).
import { tree as jaxTree } from '@jax-js/jax';
import { registerDataclass, treeUnflatten, withOptions, type TreeSpec } from '@kiln/pytree';

// ---------- workloads ----------

class FakeTensor {
  constructor(readonly id: number) {}
}
class Linear {
  constructor(
    public weight: FakeTensor,
    public bias: FakeTensor,
    public name: string,
  ) {}
}
registerDataclass(Linear, { dataFields: ['weight', 'bias'], metaFields: ['name'], namespace: 'bench' });

let nextId = 0;
const t = () => new FakeTensor(nextId++);

function nested(depth: number): unknown {
  if (depth === 0) return t();
  return { a: nested(depth - 1), b: nested(depth - 1), c: nested(depth - 1) };
}

const stateDictObject: Record<string, FakeTensor> = {};
const stateDictMap = new Map<string, FakeTensor>();
for (let i = 0; i < 200; i++) {
  const key = `layers.${i >> 2}.${['q', 'k', 'v', 'o'][i & 3]}.weight`;
  stateDictObject[key] = t();
  stateDictMap.set(key, t());
}

// The same state dict with fast (in-object) properties, as an object literal or Kiln's unflatten makes it;
// built key by key, the one above is in V8's dictionary mode.
const [dictLeaves, dictSpec] = withOptions({}).treeFlatten(stateDictObject);
dictSpec.unflatten(dictLeaves);
const stateDictFast = dictSpec.unflatten(dictLeaves) as Record<string, FakeTensor>;

interface Workload {
  name: string;
  tree: unknown;
  /** jax-js only knows arrays and plain objects; for the others it would return one leaf. */
  jaxSupports: boolean;
  namespace?: string;
  perCall?: boolean;
}

const workloads: Workload[] = [
  { name: '1000 × {w,b,s}', tree: Array.from({ length: 1000 }, () => ({ w: t(), b: t(), s: 0.5 })), jaxSupports: true },
  { name: 'nested object, depth 5', tree: nested(5), jaxSupports: true },
  { name: 'state dict, 200 keys (object, dictionary mode)', tree: stateDictObject, jaxSupports: true },
  { name: 'state dict, 200 keys (object, fast properties)', tree: stateDictFast, jaxSupports: true },
  { name: 'state dict, 200 keys (Map)', tree: stateDictMap, jaxSupports: false },
  {
    name: '50 registered records',
    tree: Array.from({ length: 50 }, (_, i) => new Linear(t(), t(), `fc${i}`)),
    jaxSupports: false,
    namespace: 'bench',
  },
  { name: "one op's args", tree: [[t(), t()], { alpha: 1, out: null }], jaxSupports: true, perCall: true },
];

// ---------- naive recursive implementation ----------

type NaiveSpec =
  | { kind: 'leaf' }
  | { kind: 'array'; children: NaiveSpec[] }
  | { kind: 'object'; keys: string[]; children: NaiveSpec[] }
  | { kind: 'map'; keys: unknown[]; children: NaiveSpec[] }
  | { kind: 'record'; type: typeof Linear; name: string; children: NaiveSpec[] }
  | { kind: 'none'; value: null | undefined };
const NAIVE_LEAF: NaiveSpec = { kind: 'leaf' };

function naiveFlatten(x: unknown, leaves: unknown[] = []): [unknown[], NaiveSpec] {
  return [leaves, naiveVisit(x, leaves)];
}
function naiveVisit(x: unknown, leaves: unknown[]): NaiveSpec {
  if (x === null || x === undefined) return { kind: 'none', value: x };
  if (Array.isArray(x)) return { kind: 'array', children: x.map((c) => naiveVisit(c, leaves)) };
  if (x instanceof Map) return { kind: 'map', keys: [...x.keys()], children: [...x.values()].map((c) => naiveVisit(c, leaves)) };
  if (x instanceof Linear) {
    return { kind: 'record', type: Linear, name: x.name, children: [naiveVisit(x.weight, leaves), naiveVisit(x.bias, leaves)] };
  }
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    const keys = Object.keys(x);
    return { kind: 'object', keys, children: keys.map((k) => naiveVisit((x as Record<string, unknown>)[k], leaves)) };
  }
  leaves.push(x);
  return NAIVE_LEAF;
}
function naiveUnflatten(spec: NaiveSpec, leaves: unknown[], cursor = { i: 0 }): unknown {
  switch (spec.kind) {
    case 'leaf':
      return leaves[cursor.i++];
    case 'none':
      return spec.value;
    case 'array':
      return spec.children.map((c) => naiveUnflatten(c, leaves, cursor));
    case 'object': {
      const out: Record<string, unknown> = {};
      spec.children.forEach((c, i) => (out[spec.keys[i]!] = naiveUnflatten(c, leaves, cursor)));
      return out;
    }
    case 'map':
      return new Map(spec.children.map((c, i) => [spec.keys[i], naiveUnflatten(c, leaves, cursor)]));
    case 'record': {
      const [weight, bias] = spec.children.map((c) => naiveUnflatten(c, leaves, cursor));
      return new Linear(weight as FakeTensor, bias as FakeTensor, spec.name);
    }
  }
}
function naiveMap(f: (x: unknown) => unknown, tree: unknown): unknown {
  const [leaves, spec] = naiveFlatten(tree);
  return naiveUnflatten(spec, leaves.map(f));
}

// ---------- timing ----------

let sink: unknown;

/** Median ns per call over 9 batches of about 5 ms each, after a warm-up. */
function timePerCall(fn: () => unknown): number {
  let iterations = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed > 5e6) break;
    iterations *= 2;
  }
  const samples: number[] = [];
  for (let batch = 0; batch < 9; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    samples.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[4]!;
}

const identity = (x: unknown) => x;

interface Row {
  workload: string;
  op: string;
  unit: string;
  kiln: number;
  kilnGeneric: number;
  jax: number | null;
  naive: number;
}
const rows: Row[] = [];

for (const w of workloads) {
  const pt = withOptions({ namespace: w.namespace ?? '__global__' });
  // The generic walk, as a first-seen structure pays it: an isLeaf option keeps the cache out of the way.
  const generic = withOptions({ namespace: w.namespace ?? '__global__', isLeaf: () => false });
  const [leaves, spec] = pt.treeFlatten(w.tree) as [unknown[], TreeSpec];
  const genericSpec = generic.treeStructure(w.tree);
  const [jaxLeaves, jaxDef] = jaxTree.flatten(w.tree as never);
  const [naiveLeaves, naiveSpec] = naiveFlatten(w.tree);
  const scale = w.perCall ? 1 : leaves.length;
  const unit = w.perCall ? 'ns/call' : 'ns/leaf';
  // Implementations are timed in alternating rounds and each keeps its best median, so that a burst of
  // load from other processes on the shared machine does not land on one of them only.
  const row = (op: string, kiln: () => unknown, kilnGeneric: () => unknown, jax: () => unknown, naive: () => unknown) => {
    const best = { kiln: Infinity, kilnGeneric: Infinity, jax: Infinity, naive: Infinity };
    for (let round = 0; round < 5; round++) {
      best.kiln = Math.min(best.kiln, timePerCall(kiln));
      best.kilnGeneric = Math.min(best.kilnGeneric, timePerCall(kilnGeneric));
      if (w.jaxSupports) best.jax = Math.min(best.jax, timePerCall(jax));
      best.naive = Math.min(best.naive, timePerCall(naive));
    }
    rows.push({
      workload: `${w.name} (${leaves.length} leaves)`,
      op,
      unit,
      kiln: best.kiln / scale,
      kilnGeneric: best.kilnGeneric / scale,
      jax: w.jaxSupports ? best.jax / scale : null,
      naive: best.naive / scale,
    });
  };
  row('flatten', () => pt.treeFlatten(w.tree), () => generic.treeFlatten(w.tree), () => jaxTree.flatten(w.tree as never), () => naiveFlatten(w.tree));
  row(
    'unflatten',
    () => treeUnflatten(spec, leaves),
    () => {
      // Keeps this spec below the call count at which unflatten code is generated for it.
      genericSpec.unflattenCalls = 0;
      return treeUnflatten(genericSpec, leaves);
    },
    () => jaxTree.unflatten(jaxDef, jaxLeaves),
    () => naiveUnflatten(naiveSpec, naiveLeaves),
  );
  row('map', () => pt.treeMap(identity, w.tree), () => generic.treeMap(identity, w.tree), () => jaxTree.map(identity, w.tree as never), () => naiveMap(identity, w.tree));
}

// spec.tryFlatten: the per-call-site form (the caller keeps the spec; no cache lookup, one guarded pass).
const siteRows: string[] = [];
for (const w of workloads.filter((w) => w.jaxSupports)) {
  const spec = withOptions({}).treeStructure(w.tree);
  const scale = w.perCall ? 1 : spec.numLeaves;
  const tryFlatten = Math.min(...[0, 1, 2, 3, 4].map(() => timePerCall(() => spec.tryFlatten(w.tree)))) / scale;
  const jax = Math.min(...[0, 1, 2, 3, 4].map(() => timePerCall(() => jaxTree.flatten(w.tree as never)))) / scale;
  siteRows.push(`| ${w.name} | ${w.perCall ? 'ns/call' : 'ns/leaf'} | ${fmtNumber(tryFlatten)} | ${fmtNumber(jax)} | ${(jax / tryFlatten).toFixed(1)}× |`);
}

// ---------- report ----------

function fmtNumber(x: number): string {
  return x < 10 ? x.toFixed(2) : x.toFixed(1);
}
const fmt = (x: number | null) => (x === null ? 'n/a' : fmtNumber(x));
const ratio = (other: number | null, kiln: number) => (other === null ? 'n/a' : `${(other / kiln).toFixed(1)}×`);
console.log('Pytree (lower is better; ratios are how many times slower the peer is than Kiln\'s cached path)');
console.log('"kiln generic" is the first-seen path (no specialized code); jax-js supports only arrays and plain objects.\n');
console.log('| tree | op | unit | kiln | kiln generic | jax-js | naive | jax-js / kiln | naive / kiln | jax-js / kiln generic |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.workload} | ${r.op} | ${r.unit} | ${fmt(r.kiln)} | ${fmt(r.kilnGeneric)} | ${fmt(r.jax)} | ${fmt(r.naive)} | ${ratio(r.jax, r.kiln)} | ${ratio(r.naive, r.kiln)} | ${ratio(r.jax, r.kilnGeneric)} |`,
  );
}
console.log('\nPer call site: spec.tryFlatten(tree) against jax-js flatten\n');
console.log('| tree | unit | kiln tryFlatten | jax-js flatten | jax-js / kiln |');
console.log('|---|---|---|---|---|');
for (const line of siteRows) console.log(line);
if (sink === Symbol.for('never')) console.log(sink);

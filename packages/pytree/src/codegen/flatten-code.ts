// Generates a guarded flatten for one spec: it stores the leaves of a tree of exactly that structure and
// returns true, or returns false as soon as a guard fails (a different constructor, length, key list or
// metadata, or a node where the spec has a leaf), and the caller falls back to the generic walk.
//
// Guards compare `.constructor` by identity and key lists element by element (extra keys must never be
// dropped silently); the only reflective calls kept are for-in / Object.keys and one Object.hasOwn.
import { metaEquals } from '../meta.js';
import type { ResolvedOptions } from '../options.js';
import type { TreeSpec } from '../spec.js';
import { makeLeafTest } from '../classify.js';
import { Emitter, SourceTooLarge, isHomogeneous, keyLiteral } from './emitter.js';
import { readsMetadata, sameShape, shapeHash } from './shape.js';

/** Stores the leaves of `tree` into `out` from index `start`; false means the structure differs. */
export type CompiledFlatten = (tree: unknown, out: unknown[], start: number) => boolean;

/** Objects with more keys than this are checked with Object.keys rather than a for-in walk. */
const INLINE_KEY_CHECKS = 12;
/** Records of leaves with more keys than this are read in a loop (generated code size stays bounded). */
const LOOP_RECORDS_FROM = 256;

export function flattenSource(spec: TreeSpec, options: ResolvedOptions): { source: string; make: () => unknown } {
  const emitter = new Emitter('f', (node, e) => emitNode(node, e, options), { hash: shapeHash, same: sameShape });
  const entry = rootFunction(spec, emitter);
  return emitter.finish(entry, {
    L: makeLeafTest(options.noneIsLeaf, options.namespace),
    E: metaEquals,
    sameKeySet,
    sameKeyList,
    mapValues,
  });
}

export function compileFlatten(spec: TreeSpec, options: ResolvedOptions): CompiledFlatten | null {
  try {
    return flattenSource(spec, options).make() as CompiledFlatten;
  } catch (error) {
    if (error instanceof SourceTooLarge) return null;
    throw error;
  }
}

function rootFunction(spec: TreeSpec, emitter: Emitter): string {
  if (readsMetadata(spec)) {
    // Functions of metadata-reading subtrees take their spec as a fourth argument.
    const self = emitter.constant(spec);
    emitter.rawFunction(`function root(x, o, j) {\nreturn ${emitter.functionFor(spec)}(x, o, j, ${self});\n}`);
    return 'root';
  }
  if (spec.kind !== 'leaf' && spec.kind !== 'none') return emitter.functionFor(spec);
  // A root leaf or none node has no container function of its own: emit a one-off wrapper.
  emitter.rawFunction(`function root(x, o, j) {\nlet v;\n${childCheck(spec, 'x', 0, emitter)}\nreturn true;\n}`);
  return 'root';
}

function at(offset: number, base = 'j'): string {
  return offset === 0 ? base : `${base} + ${offset}`;
}

/**
 * Code that checks one child value and stores it if it is a leaf; `expr` is evaluated exactly once. Leaves
 * go to precomputed slots of a preallocated array (the spec fixes every offset), which V8 runs about three
 * times faster than push. `childSpec` is the expression for the child's spec, passed to functions of
 * metadata-reading subtrees.
 */
function childCheck(spec: TreeSpec, expr: string, offset: number, emitter: Emitter, base = 'j', childSpec = ''): string {
  switch (spec.kind) {
    case 'leaf':
      return `v = ${expr}; if ((typeof v === 'object' || v === undefined) && !L(v)) return false; o[${at(offset, base)}] = v;`;
    case 'none':
      return `if (${expr} !== ${spec.meta === null ? 'null' : 'undefined'}) return false;`;
    default:
      return readsMetadata(spec)
        ? `if (!${emitter.functionFor(spec)}(${expr}, o, ${at(offset, base)}, ${childSpec})) return false;`
        : `if (!${emitter.functionFor(spec)}(${expr}, o, ${at(offset, base)})) return false;`;
  }
}

function emitNode(spec: TreeSpec, emitter: Emitter, options: ResolvedOptions): string {
  const lines: string[] = readsMetadata(spec) ? ['(x, o, j, m) {', 'let v;'] : ['(x, o, j) {', 'let v;'];
  if (spec.childSpecs.some(readsMetadata)) lines.push('const cs = m.childSpecs;');
  const children = spec.childSpecs;
  switch (spec.kind) {
    case 'array':
      lines.push(`if (x == null || x.constructor !== Array || x.length !== ${children.length}) return false;`);
      lines.push(...valueChecks(spec, (i) => `x[${i}]`, emitter));
      break;
    case 'object':
    case 'nullProtoObject': {
      lines.push(
        spec.kind === 'object'
          ? 'if (x == null || x.constructor !== Object) return false;'
          : 'if (x == null || x.constructor !== undefined || Object.getPrototypeOf(x) !== null) return false;',
      );
      lines.push(keyGuard(spec.keys as string[], emitter, options.sortKeys));
      lines.push(...valueChecks(spec, (i) => `x[${keyLiteral(spec.keys![i] as string)}]`, emitter));
      break;
    }
    case 'map': {
      const keys = emitter.constant(spec.keys);
      lines.push(`if (x == null || x.constructor !== Map || x.size !== ${children.length}) return false;`);
      lines.push(`const values = mapValues(x, ${keys}); if (values === null) return false;`);
      lines.push(...valueChecks(spec, (i) => `values[${i}]`, emitter));
      break;
    }
    case 'custom':
      lines.push(...customGuard(spec, emitter));
      break;
    case 'leaf':
    case 'none':
      throw new Error('leaf and none specs are checked inline by their parent');
    default:
      return spec.kind satisfies never;
  }
  lines.push('return true;', '}');
  return lines.join('\n');
}

/** Per-child checks, or one loop when every child has the same structure (a list of identical records). */
function valueChecks(spec: TreeSpec, valueAt: (i: number) => string, emitter: Emitter): string[] {
  const children = spec.childSpecs;
  if (isHomogeneous(spec, sameShape)) {
    const step = children[0]!.numLeaves;
    const loopValue = spec.kind === 'array' ? 'x[i]' : spec.kind === 'map' ? 'values[i]' : null;
    if (loopValue !== null) {
      return [
        `for (let i = 0, p = j; i < ${children.length}; i++, p += ${step}) { ${childCheck(children[0]!, loopValue, 0, emitter, 'p', 'cs[i]')} }`,
      ];
    }
  }
  const isRecord = spec.kind === 'object' || spec.kind === 'nullProtoObject';
  if (isRecord && children.length > LOOP_RECORDS_FROM && children.every((child) => child.kind === 'leaf')) {
    // A very large record of leaves (a state dict): one loop keeps the code size independent of the key
    // count. Below this size one named load per key is faster: V8's inline caches make each a field load
    // when the object has fast properties, and in dictionary mode a loop of keyed loads is no faster.
    const keys = emitter.constant(spec.keys);
    return [`for (let i = 0; i < ${children.length}; i++) { ${childCheck(children[0]!, `x[${keys}[i]]`, 0, emitter, 'j + i')} }`];
  }
  let offset = 0;
  return children.map((child, i) => {
    const check = childCheck(child, valueAt(i), offset, emitter, 'j', `cs[${i}]`);
    offset += child.numLeaves;
    return check;
  });
}

/**
 * Extra keys must not be dropped silently, so the key list is compared in full. For small objects a for-in
 * walk does it without allocating (about half the cost of Object.keys); large objects are usually in
 * dictionary mode, where for-in is slow and Object.keys is the cheaper read.
 */
function keyGuard(keys: readonly string[], emitter: Emitter, sortKeys: boolean): string {
  const expected = emitter.constant(keys);
  // With sortKeys the spec lists keys sorted, but objects usually arrive in another insertion order.
  const fallback = sortKeys ? `if (!sameKeySet(Object.keys(x), ${expected})) return false;` : 'return false;';
  if (keys.length <= INLINE_KEY_CHECKS) {
    return [
      `let n = 0, same = true;`,
      `for (const key in x) { if (key !== ${expected}[n++]) { same = false; break; } }`,
      // for-in lists own keys before inherited ones, so an own last key means every key matched is own.
      `if (!same || n !== ${keys.length}${keys.length > 0 ? ` || !Object.hasOwn(x, ${keyLiteral(keys[keys.length - 1]!)})` : ''}) { ${fallback} }`,
    ].join('\n');
  }
  return `if (!sameKeyList(Object.keys(x), ${expected})) { ${fallback} }`;
}

function customGuard(spec: TreeSpec, emitter: Emitter): string[] {
  const def = spec.node!;
  const type = emitter.constant(def.type);
  const lines = [`if (x == null || x.constructor !== ${type}) return false;`];
  // The expected metadata is read from this node's spec `m`, so nodes differing only in it share code.
  if (def.kind === 'static') {
    const node = emitter.constant(def);
    lines.push(`if (x !== m.meta && !${node}.metaEquals(x, m.meta)) return false;`);
    return lines;
  }
  if (def.kind === 'dataclass') {
    if (def.metaFields!.length > 0) lines.push('const mm = m.meta;');
    def.metaFields!.forEach((field, i) => {
      lines.push(`v = x[${keyLiteral(field)}]; if (v !== mm[${i}] && !E(v, mm[${i}])) return false;`);
    });
    lines.push(...valueChecks(spec, (i) => `x[${keyLiteral(def.dataFields![i]!)}]`, emitter));
    return lines;
  }
  const node = emitter.constant(def);
  lines.push(`const r = ${node}.flatten(x); const ch = r == null ? null : r.children;`);
  lines.push(
    `if (!Array.isArray(ch) || ch.length !== ${spec.childSpecs.length} || !${node}.metaEquals(r.meta, m.meta)) return false;`,
    // Keys that do not match the children make the generic path raise (see callFlatten).
    `if (r.keys !== undefined && (!Array.isArray(r.keys) || r.keys.length !== ${spec.childSpecs.length})) return false;`,
  );
  lines.push(...valueChecks(spec, (i) => `ch[${i}]`, emitter));
  return lines;
}

function sameKeyList(actual: string[], expected: readonly string[]): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return false;
  return true;
}

/** Same keys in any order; used only with sortKeys. */
function sameKeySet(actual: string[], sorted: readonly string[]): boolean {
  if (actual.length !== sorted.length) return false;
  const copy = [...actual].sort();
  for (let i = 0; i < copy.length; i++) if (copy[i] !== sorted[i]) return false;
  return true;
}

/** The Map's values in the spec's key order, or null if its keys differ (SameValueZero, in order). */
function mapValues(map: Map<unknown, unknown>, keys: readonly unknown[]): unknown[] | null {
  let i = 0;
  for (const key of map.keys()) {
    const expected = keys[i++];
    if (key !== expected && !(key !== key && expected !== expected)) return null;
  }
  return Array.from(map.values());
}

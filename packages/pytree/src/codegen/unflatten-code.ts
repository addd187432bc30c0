// Generates an unflatten for one spec. Objects are built from literals with constant keys, so every result
// of a spec shares one hidden class (building key by key drops objects past a dozen keys into dictionary
// mode, BENCH.md). Leaves are read at constant offsets from the subtree's start; runs of leaves in an array
// become one `slice`.
import type { TreeSpec } from '../spec.js';
import { callUnflatten } from '../unflatten.js';
import { Emitter, SourceTooLarge, isHomogeneous, keyLiteral } from './emitter.js';

const SLICE_FROM = 8;

export type CompiledUnflatten = (leaves: readonly unknown[]) => unknown;

export function unflattenSource(spec: TreeSpec): { source: string; make: () => unknown } {
  const emitter = new Emitter('u', emitNode);
  const root = valueExpr(spec, 0, emitter);
  emitter.rawFunction(`function root(l) {\nconst i = 0;\nreturn ${root};\n}`);
  return emitter.finish('root', { U: callUnflatten });
}

export function compileUnflatten(spec: TreeSpec): CompiledUnflatten | null {
  try {
    return unflattenSource(spec).make() as CompiledUnflatten;
  } catch (error) {
    if (error instanceof SourceTooLarge) return null;
    throw error;
  }
}

function at(offset: number, base = 'i'): string {
  return offset === 0 ? base : `${base} + ${offset}`;
}

/** An expression building the subtree whose first leaf is at `i + offset`. */
function valueExpr(spec: TreeSpec, offset: number, emitter: Emitter, base = 'i'): string {
  switch (spec.kind) {
    case 'leaf':
      return `l[${at(offset, base)}]`;
    case 'none':
      return spec.meta === null ? 'null' : 'undefined';
    default:
      return `${emitter.functionFor(spec)}(l, ${at(offset, base)})`;
  }
}

function childExprs(spec: TreeSpec, emitter: Emitter): string[] {
  let offset = 0;
  return spec.childSpecs.map((child) => {
    const expr = valueExpr(child, offset, emitter);
    offset += child.numLeaves;
    return expr;
  });
}

function emitNode(spec: TreeSpec, emitter: Emitter): string {
  return `(l, i) {\n${nodeBody(spec, emitter)}\n}`;
}

function nodeBody(spec: TreeSpec, emitter: Emitter): string {
  switch (spec.kind) {
    case 'array':
      return arrayBody(spec, emitter);
    case 'object':
    case 'nullProtoObject': {
      const fields = childExprs(spec, emitter).map((expr, i) => {
        const key = spec.keys![i] as string;
        // `"__proto__": v` in a literal sets the prototype; the computed form makes an own property.
        return `${key === '__proto__' ? '["__proto__"]' : keyLiteral(key)}: ${expr}`;
      });
      if (spec.kind === 'nullProtoObject') fields.unshift('__proto__: null');
      return `return {${fields.join(', ')}};`;
    }
    case 'map':
      return mapBody(spec, emitter);
    case 'custom': {
      const def = spec.node!;
      if (def.kind === 'static') return `return ${emitter.constant(spec.meta)};`;
      if (def.kind === 'dataclass' && def.instancePrototype !== undefined) return dataclassBody(spec, emitter);
      return `return U(${emitter.constant(spec)}, [${childExprs(spec, emitter).join(', ')}]);`;
    }
    case 'leaf':
    case 'none':
      throw new Error('leaf and none specs are built inline by their parent');
    default:
      return spec.kind satisfies never;
  }
}

function arrayBody(spec: TreeSpec, emitter: Emitter): string {
  const children = spec.childSpecs;
  if (children.length === 0) return 'return [];';
  // slice has a fixed cost that only pays off past a handful of elements.
  const allLeaves = children.every((child) => child.kind === 'leaf');
  if (allLeaves && children.length > SLICE_FROM) return `return l.slice(i, ${at(children.length)});`;
  if (isHomogeneous(spec) && !allLeaves) {
    const child = children[0]!;
    const step = child.numLeaves;
    return [
      'const a = [];',
      `for (let k = 0, j = i; k < ${children.length}; k++, j += ${step}) a.push(${valueExpr(child, 0, emitter, 'j')});`,
      'return a;',
    ].join('\n');
  }
  return `return [${childExprs(spec, emitter).join(', ')}];`;
}

/** `set` calls rather than `new Map([[k, v], ...])`, which builds and iterates a temporary pair per entry. */
function mapBody(spec: TreeSpec, emitter: Emitter): string {
  const keys = emitter.constant(spec.keys);
  const children = spec.childSpecs;
  if (isHomogeneous(spec)) {
    const step = children[0]!.numLeaves;
    return [
      'const m = new Map();',
      `for (let k = 0, j = i; k < ${children.length}; k++, j += ${step}) m.set(${keys}[k], ${valueExpr(children[0]!, 0, emitter, 'j')});`,
      'return m;',
    ].join('\n');
  }
  const sets = childExprs(spec, emitter).map((expr, k) => `m.set(${keys}[${k}], ${expr});`);
  return ['const m = new Map();', ...sets, 'return m;'].join('\n');
}

/**
 * Same steps as the registered default `create` (prototype, then meta fields, then data fields, in that
 * order, so instances share one hidden class), without the intermediate fields record.
 */
function dataclassBody(spec: TreeSpec, emitter: Emitter): string {
  const def = spec.node!;
  const proto = emitter.constant(def.instancePrototype);
  const meta = emitter.constant(spec.meta);
  const lines = [`const r = Object.create(${proto});`];
  def.metaFields!.forEach((field, k) => lines.push(`r[${keyLiteral(field)}] = ${meta}[${k}];`));
  childExprs(spec, emitter).forEach((expr, k) => lines.push(`r[${keyLiteral(def.dataFields![k]!)}] = ${expr};`));
  lines.push('return r;');
  return lines.join('\n');
}

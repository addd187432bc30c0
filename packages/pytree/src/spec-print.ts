// How a TreeSpec reads to a person: the short description that error messages use, and the full rendering
// behind `toString()` (bounded, since a composed spec may stand for far more nodes than it holds).
import { formatKey } from './paths.js';
import type { TreeSpec } from './spec.js';

/** Short English description of a spec node, for error messages. */
export function describeSpec(spec: TreeSpec): string {
  switch (spec.kind) {
    case 'leaf':
      return 'a leaf';
    case 'none':
      return String(spec.meta);
    case 'array':
      return `an array of length ${spec.childSpecs.length}`;
    case 'object':
    case 'nullProtoObject':
      return `an object with keys {${spec.keys!.map(renderObjectKey).join(', ')}}`;
    case 'map':
      return `a Map with keys {${spec.keys!.map(formatKey).join(', ')}}`;
    case 'custom':
      return `a ${spec.node!.name} node`;
    default:
      return spec.kind satisfies never;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function renderObjectKey(key: unknown): string {
  const text = key as string;
  return IDENTIFIER.test(text) ? text : JSON.stringify(text);
}

/**
 * toString stops after about this many characters with `...`: a spec may stand for far more nodes than it
 * holds (compose shares its inner spec for every leaf), and printing all of them could exhaust memory.
 */
export const RENDER_LIMIT = 100_000;

export function renderSpec(spec: TreeSpec, budget: { left: number }): string {
  const children: string[] = [];
  for (const child of spec.childSpecs) {
    if (budget.left <= 0) break;
    const text = renderSpec(child, budget);
    budget.left -= text.length + 2;
    children.push(text);
  }
  // Past the budget the remaining children are one `...`.
  const more = children.length < spec.childSpecs.length ? ['...'] : [];
  const keyed = (render: (key: unknown) => string) => [...children.map((child, i) => `${render(spec.keys![i])}: ${child}`), ...more].join(', ');
  switch (spec.kind) {
    case 'leaf':
      return '*';
    case 'none':
      return String(spec.meta);
    case 'array':
      return `[${[...children, ...more].join(', ')}]`;
    case 'object':
      return `{${keyed(renderObjectKey)}}`;
    case 'nullProtoObject':
      return `NullProto({${keyed(renderObjectKey)}})`;
    case 'map':
      return `Map({${keyed(formatKey)}})`;
    case 'custom':
      return `CustomNode(${spec.node!.name}[${renderMeta(spec.meta)}], [${[...children, ...more].join(', ')}])`;
    default:
      return spec.kind satisfies never;
  }
}

function renderMeta(meta: unknown): string {
  try {
    const text = JSON.stringify(meta);
    return text === undefined ? String(meta) : text;
  } catch {
    return String(meta);
  }
}

// Names an exported program shows its users: argument leaves by parameter name and path (`x`, `batch.ids`,
// `pair[1]`), lifted tensors state-dict style (`layers.0.weight`), from the sources the tracer read them at
// (`L[0]`, `T.layers[0].weight`, `C[2].bias`).
import type { KeyPath } from '@kiln/pytree';
import { ExportError } from './errors.js';

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The tracer's source for a path below an argument (`L[1].x`, `L[0][2]`): the same text its guards use. */
export function argumentSource(index: number, path: KeyPath): string {
  let source = `L[${index}]`;
  for (const entry of path) {
    const key = entry.key;
    if (typeof key === 'number') source += `[${key}]`;
    else if (typeof key !== 'string') throw new ExportError(`argument ${index}: a key of type ${typeof key} in the arguments`, 'pass arrays and plain objects of tensors');
    else if (IDENT.test(key)) source += `.${key}`;
    else if (/^(0|[1-9]\d*)$/.test(key)) source += `[${key}]`;
    else source += `[${JSON.stringify(key)}]`;
  }
  return source;
}

/** The user's name for an argument leaf: `x`, `x.ids`, `pairs[1]`, `x["a b"]`. */
export function argumentName(parameter: string, path: KeyPath): string {
  let name = parameter;
  for (const entry of path) {
    const key = entry.key;
    if (typeof key === 'number') name += `[${key}]`;
    else if (typeof key === 'string' && IDENT.test(key)) name += `.${key}`;
    else name += `[${JSON.stringify(key)}]`;
  }
  return name;
}

/** The steps of a source after its root: `.a[0]["b c"]` → ['a', '0', 'b c']. */
function sourceSteps(rest: string): string[] {
  const steps: string[] = [];
  const step = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let at = 0;
  while (at < rest.length) {
    step.lastIndex = at;
    const m = step.exec(rest);
    if (!m) throw new ExportError(`cannot name the value read at ${rest}`);
    steps.push(m[1] ?? m[2] ?? (JSON.parse(m[3]!) as string));
    at = step.lastIndex;
  }
  return steps;
}

/**
 * The state-dict name of a tensor the function read outside its arguments: `T.layers[0].weight` →
 * `layers.0.weight`; `C[i].w` → `<captured binding>.w`; `M[i]` (a `let` binding) likewise; `K[i]` (a
 * helper's closure) → `constant<i>`.
 */
export function stateName(source: string, captureNames: readonly string[], mutableNames: readonly string[]): string {
  const root = /^(T|([CMK])\[(\d+)\])/.exec(source);
  if (!root) throw new ExportError(`cannot name the value read at ${source}`);
  const steps = sourceSteps(source.slice(root[0].length));
  if (root[1] === 'T') return steps.length ? steps.join('.') : 'self';
  const index = Number(root[3]);
  const base = root[2] === 'C' ? captureNames[index] : root[2] === 'M' ? mutableNames[index] : `constant${index}`;
  return [base ?? `captured${index}`, ...steps].join('.');
}

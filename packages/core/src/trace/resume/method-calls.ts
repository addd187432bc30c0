// Method calls in a statement run eagerly at a graph break (`log(this.head(h))`, `model.forward(x)`) are
// redirected through one helper so the method runs compiled when the policy would inline it, the way
// Dynamo's PEP 523 hook sees every frame. The object is not touched (the method stays where it is, its
// identity unchanged): only the call goes through `__kiln_method(obj, "name", "obj.name")(...args)`, which
// reads `obj.name` once, before the arguments are evaluated, and calls it with `this` = obj, as JS does.
import type { AnyNode } from '../values.js';
import { children } from './names.js';

export const METHOD_PARAM = '__kiln_method';
/** `__kiln_callee(f, "f")(…args)`: a by-name call in a skipped function's copy (see skipped-copy.ts). */
export const CALLEE_PARAM = '__kiln_callee';

/** A call `obj.name(…)` the helper can stand in for without changing evaluation order or short-circuits. */
function redirectable(n: AnyNode): boolean {
  if (n.type !== 'CallExpression' || n.optional) return false;
  const c = n.callee;
  return c.type === 'MemberExpression' && !c.computed && !c.optional && c.property.type === 'Identifier' && c.object.type !== 'Super';
}

/** Nodes on an optional chain's short-circuit path: `a?.b.m()` must stay undefined when `a` is nullish. */
function chainPath(n: AnyNode, out: Set<AnyNode>): void {
  out.add(n);
  if (n.type === 'MemberExpression') chainPath(n.object, out);
  else if (n.type === 'CallExpression') chainPath(n.callee, out);
}

/** A plain call by name (`helper(x)`, not `helper?.(x)`): redirected in skipped functions' copies only. */
const byName = (n: AnyNode): boolean => n.type === 'CallExpression' && !n.optional && n.callee.type === 'Identifier';

/** Newlines a rewrite drops (`obj\n  .name`), put back so generated lines keep matching the user's lines. */
const keptLines = (dropped: string): string => '\n'.repeat(dropped.split('\n').length - 1);

/** Rewritten text, and where each of its offsets came from in the user's text (for stack traces). */
export interface RedirectedText {
  readonly text: string;
  /** Offset in `text` → offset in the source; generated pieces map to the user text just before them. */
  origin(offset: number): number;
}

/**
 * The text of `node` with every redirectable method call rewritten, and with `byNameCalls` every call by
 * name too. Names and texts are emitted with JSON.stringify (the property name is an identifier; the callee
 * text is the user's own source). Line breaks are kept, so a generated line is the user's line.
 */
export function redirectMethodCalls(source: string, node: AnyNode, byNameCalls = false): RedirectedText {
  const onChain = new Set<AnyNode>();
  let text = '';
  const segments: { at: number; length: number; origin: number }[] = [];
  const emit = (piece: string, origin?: number): void => {
    if (origin !== undefined && piece.length) segments.push({ at: text.length, length: piece.length, origin });
    text += piece;
  };
  const render = (n: AnyNode): void => {
    if (n.type === 'ChainExpression') chainPath(n.expression, onChain);
    const kids: AnyNode[] = [];
    children(n, (c) => void kids.push(c));
    // A shorthand property's key and value are the same text (`{ rows, cols = 7 }`): render the longer once.
    kids.sort((a, b) => a.start - b.start || b.end - a.end);
    const redirect = redirectable(n) && !onChain.has(n);
    const named = byNameCalls && byName(n) && !onChain.has(n);
    let at = n.start;
    for (const kid of kids) {
      if (kid.start < at) continue;
      emit(source.slice(at, kid.start), at);
      if (redirect && kid === n.callee) {
        const callee = n.callee;
        emit(`${METHOD_PARAM}(`);
        render(callee.object);
        const dropped = keptLines(source.slice(callee.object.end, callee.end));
        emit(`, ${JSON.stringify(callee.property.name)}, ${JSON.stringify(source.slice(callee.start, callee.end))}${dropped})`);
      } else if (named && kid === n.callee) {
        emit(`${CALLEE_PARAM}(`);
        emit(kid.name, kid.start);
        emit(`, ${JSON.stringify(kid.name)})`);
      } else render(kid);
      at = kid.end;
    }
    emit(source.slice(at, n.end), at);
  };
  render(node);
  const origin = (offset: number): number => {
    let best = node.start;
    for (const s of segments) {
      if (offset >= s.at && offset < s.at + s.length) return s.origin + (offset - s.at);
      if (s.at <= offset) best = s.origin + s.length - 1;
    }
    return best;
  };
  return { text, origin };
}

/**
 * The helper the generated statement calls. `wrap` turns a function the policy would inline into its compiled
 * version (cached per function) and returns anything else as it is.
 */
export function methodHelper(wrap: (fn: Function) => Function): (obj: unknown, name: string, text: string) => (...args: unknown[]) => unknown {
  return (obj, name, text) => {
    const fn = (obj as Record<string, unknown>)[name];
    return (...args) => {
      if (typeof fn !== 'function') throw new TypeError(`${text} is not a function`);
      return wrap(fn).apply(obj, args);
    };
  };
}

/**
 * The by-name helper: the callee value was read before the arguments (as JS does); a non-function still
 * throws only after they are evaluated, with the message eager code gives.
 */
export function calleeHelper(wrap: (fn: Function) => Function): (fn: unknown, name: string) => Function {
  return (fn, name) =>
    typeof fn === 'function'
      ? wrap(fn)
      : () => {
          throw new TypeError(`${name} is not a function`);
        };
}

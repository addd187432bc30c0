// The user's names for guard sources, as PT2 prints them: guards and graph placeholders read `L['x']`
// (the parameter `x`), `model.layers[2].bias` (the captured binding `model`) and `this.w`, instead of the
// positions the guard code uses (`L[0]`, `C[3]`, `T`). Only the printed text changes; the code keeps positions.
import { parseFunction } from '../trace/functions.js';

export interface SourceNames {
  /** Parameter names by position (undefined for a destructured or rest parameter). */
  readonly params: readonly (string | undefined)[];
  /** Captured bindings by their `C` index. */
  readonly captures: readonly string[];
  /** Reassignable bindings by their `M` index. */
  readonly mutable: readonly string[];
  /** Constants that stand for a binding (a global such as `Math`, a helper's captured `cfg`), by `K` index. */
  readonly constants?: readonly (string | undefined)[];
  /** Sources aliased as `U[i]` for their symbolic sizes (a key no plain accessor spells), by index. */
  readonly aliases?: readonly string[];
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The parameter names of `fn` (`function f(x, { a }, ...rest)` → ['x', undefined, undefined]). */
export function parameterNames(fn: Function): (string | undefined)[] {
  const node = parseFunction(fn)?.node as { params?: Array<{ type: string; name?: string; left?: { type: string; name?: string } }> } | undefined;
  return (node?.params ?? []).map((p) => {
    const id = p.type === 'AssignmentPattern' ? p.left : p;
    return id?.type === 'Identifier' && id.name && IDENT.test(id.name) ? id.name : undefined;
  });
}

// A root at the start of an accessor chain: not preceded by a name character, a dot, or a closing bracket.
const ROOT = /(?<![\w$.\]])(?:([LCMKU])\[(\d+)\]|T(?=[.[\s:]|$))/g;
const STRING = /"(?:[^"\\]|\\.)*"/g;

/** `text` with its sources renamed (quoted strings inside it are left as they are). */
export function userSource(text: string, names: SourceNames): string {
  let out = '';
  let last = 0;
  const rename = (part: string) =>
    part.replace(ROOT, (whole, root: string | undefined, index: string | undefined) => {
      if (!root) return 'this';
      const i = Number(index);
      if (root === 'U') return names.aliases?.[i] !== undefined ? userSource(names.aliases[i]!, names) : whole;
      const name = root === 'L' ? names.params[i] : root === 'C' ? names.captures[i] : root === 'K' ? names.constants?.[i] : names.mutable[i];
      if (!name) return whole;
      return root === 'L' ? `L['${name}']` : name;
    });
  for (const m of text.matchAll(STRING)) {
    out += rename(text.slice(last, m.index)) + m[0];
    last = m.index! + m[0].length;
  }
  return out + rename(text.slice(last));
}

/** A graph placeholder's name from its user source: `L['x']` → `x`, `model.layers[2].bias` → `model_layers_2_bias`. */
export function placeholderName(userText: string): string {
  return userText.replace(/^L\['([\w$]+)'\]/, '$1').replace(/^this\b/, 'self').replace(/[^\w$]+/g, '_').replace(/_+$/, '') || 'input';
}

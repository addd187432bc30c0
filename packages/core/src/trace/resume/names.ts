// Name analysis of a frame body for splitting it at a graph break: which names statements refer to, which
// they declare, which they assign. Over-approximations are deliberate: a name counted as referenced when it
// is not only adds an unused parameter to generated code, never a wrong binding.
import type { AnyNode } from '../values.js';

const isFunctionNode = (n: AnyNode): boolean => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';

/** Visits child nodes with their parent key, so reference positions can be told from property keys. */
export function children(node: AnyNode, visit: (child: AnyNode, key: string, parent: AnyNode) => void): void {
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc') continue;
    const c = node[key];
    if (Array.isArray(c)) {
      for (const x of c) if (x && typeof x.type === 'string') visit(x, key, node);
    } else if (c && typeof c === 'object' && typeof c.type === 'string') visit(c, key, node);
  }
}

/** True when the identifier at `key` of `parent` names a binding or reference (not a property key or label). */
function isNamePosition(key: string, parent: AnyNode): boolean {
  if (parent.type === 'MemberExpression' && key === 'property') return parent.computed;
  if ((parent.type === 'Property' || parent.type === 'MethodDefinition' || parent.type === 'PropertyDefinition') && key === 'key') return parent.computed;
  if (key === 'label') return false;
  if (parent.type === 'MetaProperty') return false;
  return true;
}

/** Every name a node refers to or binds, including inside nested functions (an over-approximation). */
export function referencedNames(node: AnyNode, out = new Set<string>()): Set<string> {
  const visit = (n: AnyNode, key: string, parent: AnyNode | null): void => {
    if (n.type === 'Identifier') {
      if (!parent || isNamePosition(key, parent)) out.add(n.name);
      return;
    }
    children(n, visit);
  };
  visit(node, '', null);
  return out;
}

/** Names used only as direct callees (`helper(x)`): passing a compiled wrapper instead keeps semantics. */
export function calleeOnlyNames(node: AnyNode): Set<string> {
  const callee = new Set<string>();
  const other = new Set<string>();
  const visit = (n: AnyNode, key: string, parent: AnyNode | null): void => {
    if (n.type === 'Identifier') {
      if (!parent || isNamePosition(key, parent)) (parent?.type === 'CallExpression' && key === 'callee' ? callee : other).add(n.name);
      return;
    }
    children(n, visit);
  };
  visit(node, '', null);
  return new Set([...callee].filter((n) => !other.has(n)));
}

export function patternNames(p: AnyNode | null, out: Set<string>): Set<string> {
  if (!p) return out;
  if (p.type === 'Identifier') out.add(p.name);
  else if (p.type === 'ObjectPattern') for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
  else if (p.type === 'ArrayPattern') for (const e of p.elements) patternNames(e, out);
  else if (p.type === 'RestElement') patternNames(p.argument, out);
  else if (p.type === 'AssignmentPattern') patternNames(p.left, out);
  return out;
}

/** Names a top-level statement declares in the frame scope: its own declarations plus hoisted `var`s. */
export function declaredNames(stmt: AnyNode): Set<string> {
  const out = new Set<string>();
  if (stmt.type === 'VariableDeclaration') for (const d of stmt.declarations) patternNames(d.id, out);
  else if ((stmt.type === 'FunctionDeclaration' || stmt.type === 'ClassDeclaration') && stmt.id) out.add(stmt.id.name);
  const visit = (n: AnyNode): void => {
    if (isFunctionNode(n) || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') return;
    if (n.type === 'VariableDeclaration' && n.kind === 'var') for (const d of n.declarations) patternNames(d.id, out);
    children(n, visit);
  };
  visit(stmt);
  return out;
}

/** Names assigned (`=`, `+=`, `++`, for-of targets) anywhere in the node, nested functions included. */
export function writtenNames(node: AnyNode): Set<string> {
  const out = new Set<string>();
  const visit = (n: AnyNode): void => {
    if (n.type === 'AssignmentExpression') patternNames(n.left, out);
    else if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') out.add(n.argument.name);
    else if ((n.type === 'ForOfStatement' || n.type === 'ForInStatement') && n.left.type !== 'VariableDeclaration') patternNames(n.left, out);
    children(n, visit);
  };
  visit(node);
  return out;
}

/** What ties code to its function and cannot be moved into generated code: `this`, `arguments`, `super`, `new.target`. */
export function frameBoundUses(node: AnyNode): { this: boolean; other: string | undefined } {
  let usesThis = false;
  let other: string | undefined;
  const visit = (n: AnyNode, inFunction: boolean): void => {
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') {
      // A non-arrow function has its own `this`/`arguments`; its `super` is its class's.
      children(n, (c) => visit(c, true));
      return;
    }
    if (!inFunction && n.type === 'ThisExpression') usesThis = true;
    if (!inFunction && n.type === 'Identifier' && n.name === 'arguments') other ??= "'arguments'";
    if (!inFunction && n.type === 'Super') other ??= "'super'";
    if (!inFunction && n.type === 'MetaProperty') other ??= 'new.target';
    children(n, (c) => visit(c, inFunction));
  };
  visit(node, false);
  return { this: usesThis, other };
}

/** Whether the code calls a method named like an in-place tensor op (`x.add_(1)`, `t.copy_(u)`). */
export function callsInPlaceMethod(node: AnyNode): boolean {
  let found = false;
  const visit = (n: AnyNode): void => {
    if (found) return;
    if (n.type === 'CallExpression' && n.callee.type === 'MemberExpression' && !n.callee.computed && /[^_]_$/.test(n.callee.property.name ?? '')) found = true;
    children(n, visit);
  };
  visit(node);
  return found;
}

const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await arguments eval undefined NaN Infinity'.split(' '),
);

/** A name that generated code may use as a parameter: plain ASCII identifier, not reserved. */
export const isPlainIdentifier = (name: string): boolean => /^[A-Za-z_$][\w$]*$/.test(name) && !RESERVED.has(name);

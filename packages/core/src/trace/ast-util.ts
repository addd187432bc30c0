import type { Node as AstNode } from 'acorn';

type AnyNode = AstNode & Record<string, any>;

/** Visits every node of an ESTree (plain recursive walk, no dependency). */
export function walk(node: AnyNode, visit: (n: AnyNode) => void): void {
  visit(node);
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    const child = node[key];
    if (Array.isArray(child)) {
      for (const c of child) if (c && typeof c.type === 'string') walk(c, visit);
    } else if (child && typeof child === 'object' && typeof child.type === 'string') walk(child, visit);
  }
}

function patternNames(p: AnyNode | null, out: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier':
      out.add(p.name);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const e of p.elements) patternNames(e, out);
      break;
    case 'RestElement':
      patternNames(p.argument, out);
      break;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      break;
  }
}

/**
 * Names that are assigned after their declaration anywhere in a script: such a captured binding may change
 * between calls, so guards must read it again. Name-based (scopes are ignored), hence conservative.
 */
export function assignedNames(ast: AstNode): Set<string> {
  const out = new Set<string>();
  walk(ast as AnyNode, (n) => {
    if (n.type === 'AssignmentExpression') patternNames(n.left, out);
    else if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') out.add(n.argument.name);
    else if ((n.type === 'ForOfStatement' || n.type === 'ForInStatement') && n.left.type !== 'VariableDeclaration') patternNames(n.left, out);
    else if (n.type === 'VariableDeclaration' && n.kind !== 'const') {
      // `let x;` with no initializer is assigned later; `var` may be redeclared.
      for (const d of n.declarations) if (!d.init || n.kind === 'var') patternNames(d.id, out);
    }
  });
  return out;
}

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
  const { assigned, setOnceAtTopLevel } = scriptAssignments(ast);
  return new Set([...assigned, ...setOnceAtTopLevel]);
}

/**
 * What a script assigns, split in two. `assigned`: names that may be assigned after their declaration (as
 * `assignedNames`, less the second set). `setOnceAtTopLevel`: names whose one and only declaration in the whole
 * script is a `var` with a value among the script's top-level statements, and which nothing else assigns —
 * what a bundler (esbuild) makes of a module's `const`. Such a binding is assigned exactly once, when module
 * evaluation reaches its declaration (`undefined` until then, hoisted); in a module nothing outside can assign
 * it. So once it holds something other than `undefined`, it never changes (closures.ts checks both).
 */
export function scriptAssignments(ast: AstNode): { assigned: Set<string>; setOnceAtTopLevel: Set<string> } {
  const assigned = new Set<string>();
  const varDeclarations = new Map<string, number>();
  /** Every other binding of a name (let/const, function, class, parameter, catch, import): another value it may hold. */
  const otherDeclarations = new Set<string>();
  walk(ast as AnyNode, (n) => {
    if (n.type === 'AssignmentExpression') patternNames(n.left, assigned);
    else if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') assigned.add(n.argument.name);
    else if ((n.type === 'ForOfStatement' || n.type === 'ForInStatement') && n.left.type !== 'VariableDeclaration') patternNames(n.left, assigned);
    else if (n.type === 'VariableDeclaration' && n.kind === 'var') {
      const names = new Set<string>();
      for (const d of n.declarations) patternNames(d.id, names);
      for (const name of names) varDeclarations.set(name, (varDeclarations.get(name) ?? 0) + 1);
    } else if (n.type === 'VariableDeclaration') {
      // `let x;` with no initializer is assigned later.
      for (const d of n.declarations) patternNames(d.id, n.kind === 'let' && !d.init ? assigned : otherDeclarations);
    } else if (/Function|Class/.test(n.type)) {
      if (n.id) patternNames(n.id, otherDeclarations);
      for (const p of n.params ?? []) patternNames(p, otherDeclarations);
    } else if (n.type === 'CatchClause') patternNames(n.param, otherDeclarations);
    else if (/^Import(Default|Namespace)?Specifier$/.test(n.type)) patternNames(n.local, otherDeclarations);
  });
  const topLevelInitialized = new Set<string>();
  for (const statement of (ast as AnyNode).body as AnyNode[]) {
    const decl = statement.type === 'ExportNamedDeclaration' ? statement.declaration : statement;
    if (decl?.type !== 'VariableDeclaration' || decl.kind !== 'var') continue;
    for (const d of decl.declarations) if (d.init && d.id.type === 'Identifier') topLevelInitialized.add(d.id.name);
  }
  const setOnceAtTopLevel = new Set<string>();
  for (const [name, count] of varDeclarations) {
    // Any other declaration of the name (a nested or second `var`, a loop's, a hoisted function of the same
    // name) may run again, hold a value before this one runs, or be another binding: not proven.
    if (count === 1 && topLevelInitialized.has(name) && !assigned.has(name) && !otherDeclarations.has(name)) setOnceAtTopLevel.add(name);
    else assigned.add(name);
  }
  return { assigned, setOnceAtTopLevel };
}

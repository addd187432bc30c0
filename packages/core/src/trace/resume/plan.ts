// Where the values go when a frame splits at top-level statement k: which live locals the graph before the
// break outputs, which parameters the eagerly run part takes and returns, and which each resume function
// takes. Two shapes: the whole statement runs eagerly and one resume function follows (`statement`), or only
// the test of an `if` runs eagerly and the branch taken is compiled with the rest (`test`: two resume
// functions, `then` and `else`). Anything generated code could not reproduce exactly is a reason not to split.
import { parseFunction } from '../functions.js';
import type { ParsedFunction } from '../functions.js';
import type { AnyNode } from '../values.js';
import { isGeneratedName } from './codegen.js';
import { calleeOnlyNames, declaredNames, frameBoundUses, isPlainIdentifier, patternNames, referencedNames, writtenNames } from './names.js';

/** Where a parameter's value comes from at run time (`eager`: an index into the eager part's result array). */
export type ArgSource =
  | { readonly from: 'live'; readonly index: number }
  | { readonly from: 'capture'; readonly index: number }
  | { readonly from: 'eager'; readonly index: number };

/** A resume function: the statements it runs, its parameters and where their values come from. */
export interface Continuation {
  readonly suffix: string;
  readonly statements: readonly AnyNode[];
  readonly params: readonly string[];
  readonly args: readonly ArgSource[];
  readonly usesThis: boolean;
}

export interface SplitLayout {
  readonly mode: 'statement' | 'test';
  readonly statementIndex: number;
  readonly statement: AnyNode;
  /** What runs eagerly: the statement, or the `if` test. */
  readonly eagerNode: AnyNode;
  readonly declarations: readonly AnyNode[];
  /** Locals the graph before the break outputs, in order. */
  readonly liveNames: readonly string[];
  readonly eagerParams: readonly string[];
  readonly eagerArgs: readonly ArgSource[];
  /** Eager parameters that are only called: a user function there is passed compiled. */
  readonly calleeParams: readonly boolean[];
  readonly eagerReturns: readonly string[];
  readonly eagerUsesThis: boolean;
  /** `statement`: [rest]; `test`: [then, else]. Empty statement lists mean nothing follows. */
  readonly continuations: readonly Continuation[];
}

/**
 * Where a frame split, as plain data: with the function's parsed source, layoutSplit makes the same layout
 * again (what the persistent cache keeps of a split, so a later process skips the restarted trace).
 */
export interface SplitPoint {
  readonly statementIndex: number;
  readonly mode: SplitLayout['mode'];
  /** Names bound in the frame scope when tracing stopped before the statement (layoutSplit's `inScope`). */
  readonly inScope: readonly string[];
  /** The layout's live locals, in order (the outputs of the graph before the break): checked on restore. */
  readonly liveNames: readonly string[];
}

export class NotSplittable extends Error {}

function fail(reason: string): never {
  throw new NotSplittable(reason);
}

const refsOf = (nodes: readonly AnyNode[], into = new Set<string>()): Set<string> => {
  for (const n of nodes) referencedNames(n, into);
  return into;
};

/** Whether a captured binding may be reassigned (its script assigns it after its declaration). */
const reassignable = (parsed: ParsedFunction) => (name: string): boolean => parsed.info.captures.get(name)?.mutable ?? false;

/**
 * @param inScope names bound in the frame scope when tracing stopped before statement k (params, hoisted
 *   `var`s, declarations of earlier statements)
 * @param mayBeReassigned answers for a captured binding the code after the break reads; by default read
 *   from the script (which costs a fresh process the script's URL and a parse of the whole file)
 */
export function layoutSplit(
  parsed: ParsedFunction,
  captureNames: readonly string[],
  k: number,
  inScope: ReadonlySet<string>,
  mode: 'statement' | 'test',
  mayBeReassigned: (name: string) => boolean = reassignable(parsed),
): SplitLayout {
  const node = parsed.node;
  const body = node.body.body as AnyNode[];
  const statement = body[k]!;
  const declarations = body.filter((s) => s.type === 'FunctionDeclaration');
  const rest = body.slice(k + 1).filter((s) => s.type !== 'FunctionDeclaration');
  const functionNames = new Set(declarations.map((d) => d.id.name as string));
  const eagerNode = mode === 'test' ? statement.test : statement;
  const branches = mode === 'test' ? [statement.consequent, statement.alternate].filter(Boolean) : [];
  const continued: [string, AnyNode[]][] =
    mode === 'test' ? [['then', [...unwrap(statement.consequent), ...rest]], ['else', [...unwrap(statement.alternate), ...rest]]] : [['', rest]];

  const written = refsOfWritten(body);
  for (const n of functionNames) if (written.has(n)) fail(`function '${n}' declared in the frame is reassigned`);
  const after = [...branches, ...rest];
  const other = [eagerNode, ...after].map(frameBoundUses).find((u) => u.other)?.other;
  if (other) fail(`the code after the break uses ${other}`);
  const declThis = declarations.some((d) => frameBoundUses(d.body).this);
  const eagerUsesThis = frameBoundUses(eagerNode).this || declThis;
  if (node.type === 'ArrowFunctionExpression' && (eagerUsesThis || after.some((s) => frameBoundUses(s).this))) fail("an arrow function's `this` cannot cross a graph break");

  const frameLocals = new Set<string>(['arguments']);
  for (const p of node.params) patternNames(p, frameLocals);
  for (const s of body) for (const n of declaredNames(s)) frameLocals.add(n);
  if (mode === 'test') {
    // A `var` declared in one branch and read after the `if` exists in both branches' scope in eager code.
    const branchVars = new Set(branches.flatMap((b) => [...declaredNames(b)]));
    const restRefs = refsOf(rest);
    for (const n of branchVars) if (restRefs.has(n) || !inScope.has(n)) fail(`'var ${n}' is declared inside a branch of the 'if'`);
  }

  const refDecls = refsOf(declarations);
  const refEager = refsOf([eagerNode], new Set(refDecls));
  const refAfter = refsOf(after, new Set(refDecls));
  const reserved = [...refEager, ...refAfter].find(isGeneratedName);
  if (reserved) fail(`the code uses '${reserved}', a name generated code binds`);
  // The tracer binds a `var` declared inside a block where it runs, not hoisted to the frame: such a name
  // has no trustworthy value at the break.
  const topDeclared = new Set(body.flatMap((s) => (s.type === 'VariableDeclaration' ? [...declaredNames(s)] : s.id ? [s.id.name as string] : [])));
  const declaredHere = mode === 'statement' ? declaredNames(statement) : new Set<string>();
  for (const n of frameLocals) {
    if (topDeclared.has(n) || inScope.has(n) || declaredHere.has(n) || node.params.some((p: AnyNode) => patternNames(p, new Set()).has(n))) continue;
    const laterOnly = body.slice(k + 1).some((s) => declaredNames(s).has(n)) && !body.slice(0, k + 1).some((s) => declaredNames(s).has(n));
    if (refEager.has(n) || (!laterOnly && refAfter.has(n))) fail(`'var ${n}' is declared inside a block and read across the break`);
  }

  const captureIndex = new Map(captureNames.map((n, i) => [n, i] as const));
  const capturesIn = (refs: Set<string>): string[] => {
    const used = [...refs].filter((n) => captureIndex.has(n) && !frameLocals.has(n));
    for (const n of used) {
      if (written.has(n)) fail(`the code after the break assigns captured binding '${n}'`);
      if (mayBeReassigned(n)) fail(`the code after the break reads captured binding '${n}', which may be reassigned`);
    }
    return used;
  };

  const live = [...inScope].filter((n) => n !== 'arguments' && !functionNames.has(n));
  const liveNames = live.filter((n) => refEager.has(n) || refAfter.has(n));
  const eagerLocals = liveNames.filter((n) => refEager.has(n));
  const capturesEager = capturesIn(refEager);
  const eagerParams = [...eagerLocals, ...capturesEager];
  const eagerArgs: ArgSource[] = [
    ...eagerLocals.map((n) => ({ from: 'live' as const, index: liveNames.indexOf(n) })),
    ...capturesEager.map((n) => ({ from: 'capture' as const, index: captureIndex.get(n)! })),
  ];
  const callees = calleeOnlyNames(eagerNode);
  const declaredEager = mode === 'test' ? new Set<string>() : declaredNames(statement);
  // A callee-only name is never assigned by the eager part, and its parameter may hold a compiled wrapper:
  // the resume takes the original value.
  const returnable = (n: string): boolean => (eagerLocals.includes(n) && !callees.has(n)) || declaredEager.has(n);
  const localsOf = (refs: Set<string>): string[] =>
    [...frameLocals].filter((n) => n !== 'arguments' && !functionNames.has(n) && refs.has(n) && (inScope.has(n) || declaredEager.has(n)));
  const eagerReturns = localsOf(refAfter).filter(returnable);
  const firstReturn = mode === 'test' ? 2 : 1; // [DONE, test?, ...returns]

  const continuations = continued.map(([suffix, statements]): Continuation => {
    const refs = refsOf(statements, new Set(refDecls));
    const locals = localsOf(refs);
    const captures = capturesIn(refs);
    const args: ArgSource[] = [
      ...locals.map((n) => (eagerReturns.includes(n) ? { from: 'eager' as const, index: firstReturn + eagerReturns.indexOf(n) } : { from: 'live' as const, index: liveNames.indexOf(n) })),
      ...captures.map((n) => ({ from: 'capture' as const, index: captureIndex.get(n)! })),
    ];
    if (args.some((a) => a.from === 'live' && a.index < 0)) fail('a local the resume needs is not live at the break');
    return { suffix, statements, params: [...locals, ...captures], args, usesThis: statements.some((s) => frameBoundUses(s).this) || declThis };
  });
  for (const n of [...eagerParams, ...continuations.flatMap((c) => c.params)]) if (!isPlainIdentifier(n)) fail(`the name '${n}' cannot be a parameter of generated code`);
  return {
    mode,
    statementIndex: k,
    statement,
    eagerNode,
    declarations,
    liveNames,
    eagerParams,
    eagerArgs,
    calleeParams: eagerParams.map((n) => callees.has(n)),
    eagerReturns,
    eagerUsesThis,
    continuations,
  };
}

/**
 * A branch's statements as top-level statements of its resume function, so a break inside the branch splits
 * there instead of running the whole branch eagerly. Only a block without lexical declarations is unwrapped
 * (its `let`/`const`/`class`/function names would otherwise leak into the rest).
 */
function unwrap(branch: AnyNode | null): AnyNode[] {
  if (!branch) return [];
  if (branch.type !== 'BlockStatement') return [branch];
  const lexical = (branch.body as AnyNode[]).some(
    (s) => (s.type === 'VariableDeclaration' && s.kind !== 'var') || s.type === 'ClassDeclaration' || s.type === 'FunctionDeclaration',
  );
  return lexical ? [branch] : branch.body;
}

function refsOfWritten(body: readonly AnyNode[]): Set<string> {
  const written = new Set<string>();
  for (const s of body) for (const n of writtenNames(s)) written.add(n);
  return written;
}

const STATEMENT_KINDS: Readonly<Record<string, string>> = {
  IfStatement: "the enclosing 'if' statement",
  ForStatement: "the enclosing 'for' loop",
  ForOfStatement: "the enclosing 'for…of' loop",
  ForInStatement: "the enclosing 'for…in' loop",
  WhileStatement: "the enclosing 'while' loop",
  DoWhileStatement: "the enclosing 'do…while' loop",
  TryStatement: "the enclosing 'try' statement",
  SwitchStatement: "the enclosing 'switch' statement",
  BlockStatement: 'the enclosing block',
  LabeledStatement: 'the enclosing labeled statement',
};

/** For explain: what runs eagerly at this break. */
export const describeEagerPart = (layout: SplitLayout): string =>
  layout.mode === 'test' ? "the test of the enclosing 'if' (the branch taken is compiled)" : (STATEMENT_KINDS[layout.statement.type] ?? 'the statement');

const blockViews = new WeakMap<ParsedFunction, ParsedFunction>();

/**
 * The function's AST as splitting reads it: a concise arrow `(x) => <expr>` as `(x) => { return <expr>; }`,
 * one top-level statement (the tracer counts its body as statement 0: invokeRoot), so a break inside it
 * splits there as in a block body: the `return` runs eagerly with the functions it calls compiled (so a
 * `forward` that breaks is split in its own frame). The synthetic `return` spans the expression's text;
 * eagerStatement writes the keyword (`conciseBody`).
 */
export function parseForSplit(fn: Function): ParsedFunction | null {
  const parsed = parseFunction(fn);
  if (!parsed?.node.expression) return parsed;
  let view = blockViews.get(parsed);
  if (!view) {
    const expr = parsed.node.body;
    const statement = { type: 'ReturnStatement', start: expr.start, end: expr.end, argument: expr, conciseBody: true };
    const body = { type: 'BlockStatement', start: expr.start, end: expr.end, body: [statement] };
    view = { ...parsed, node: { ...parsed.node, expression: false, body } as typeof parsed.node };
    blockViews.set(parsed, view);
  }
  return view;
}

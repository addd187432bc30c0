// Where the values go when a frame splits at top-level statement k: which live locals the graph before the
// break outputs, which parameters the eagerly run statement takes and returns, and which the resume
// function takes. Anything that generated code could not reproduce exactly is a reason not to split.
import type { ParsedFunction } from '../functions.js';
import type { AnyNode } from '../values.js';
import { DONE_PARAM } from './codegen.js';
import { calleeOnlyNames, declaredNames, frameBoundUses, isPlainIdentifier, patternNames, referencedNames, writtenNames } from './names.js';

/** Where a parameter's value comes from at run time. */
export type ArgSource =
  | { readonly from: 'live'; readonly index: number }
  | { readonly from: 'capture'; readonly index: number }
  | { readonly from: 'eager'; readonly index: number };

export interface SplitLayout {
  readonly statementIndex: number;
  readonly statement: AnyNode;
  readonly rest: readonly AnyNode[];
  readonly declarations: readonly AnyNode[];
  /** Locals the graph before the break outputs, in order. */
  readonly liveNames: readonly string[];
  readonly eagerParams: readonly string[];
  readonly eagerArgs: readonly ArgSource[];
  /** Eager parameters that are only called: a user function there is passed compiled. */
  readonly calleeParams: readonly boolean[];
  readonly eagerReturns: readonly string[];
  readonly resumeParams: readonly string[];
  readonly resumeArgs: readonly ArgSource[];
  readonly eagerUsesThis: boolean;
  readonly resumeUsesThis: boolean;
}

export class NotSplittable extends Error {}

function fail(reason: string): never {
  throw new NotSplittable(reason);
}

/**
 * @param inScope names bound in the frame scope when tracing stopped before statement k (params, hoisted
 *   `var`s, declarations of earlier statements)
 */
export function layoutSplit(parsed: ParsedFunction, captureNames: readonly string[], k: number, inScope: ReadonlySet<string>): SplitLayout {
  const node = parsed.node;
  const body = node.body.body as AnyNode[];
  const statement = body[k]!;
  const declarations = body.filter((s) => s.type === 'FunctionDeclaration');
  const rest = body.slice(k + 1).filter((s) => s.type !== 'FunctionDeclaration');
  const functionNames = new Set(declarations.map((d) => d.id.name as string));

  const written = new Set<string>();
  for (const s of body) for (const n of writtenNames(s)) written.add(n);
  for (const n of functionNames) if (written.has(n)) fail(`function '${n}' declared in the frame is reassigned`);

  const arrow = node.type === 'ArrowFunctionExpression';
  const usesK = frameBoundUses(statement);
  const usesRest = rest.map(frameBoundUses);
  const other = usesK.other ?? usesRest.find((u) => u.other)?.other;
  if (other) fail(`the code after the break uses ${other}`);
  const eagerUsesThis = usesK.this || declarations.some((d) => frameBoundUses(d.body).this);
  const resumeUsesThis = usesRest.some((u) => u.this) || declarations.some((d) => frameBoundUses(d.body).this);
  if (arrow && (eagerUsesThis || resumeUsesThis)) fail("an arrow function's `this` cannot cross a graph break");

  const frameLocals = new Set<string>(['arguments']);
  for (const p of node.params) patternNames(p, frameLocals);
  for (const s of body) for (const n of declaredNames(s)) frameLocals.add(n);

  const refDecls = new Set<string>();
  for (const d of declarations) referencedNames(d, refDecls);
  const refK = referencedNames(statement, new Set(refDecls));
  const refRest = new Set(refDecls);
  for (const s of rest) referencedNames(s, refRest);
  if (refK.has(DONE_PARAM) || refRest.has(DONE_PARAM)) fail(`the code uses the reserved name ${DONE_PARAM}`);

  const captureIndex = new Map(captureNames.map((n, i) => [n, i] as const));
  const capturesUsed = (refs: Set<string>): string[] => {
    const used = [...refs].filter((n) => captureIndex.has(n) && !frameLocals.has(n));
    for (const n of used) {
      if (written.has(n)) fail(`the code after the break assigns captured binding '${n}'`);
      if (parsed.info.captures.get(n)?.mutable) fail(`the code after the break reads captured binding '${n}', which may be reassigned`);
    }
    return used;
  };
  const capturesK = capturesUsed(refK);
  const capturesRest = capturesUsed(refRest);

  const live = [...inScope].filter((n) => n !== 'arguments' && !functionNames.has(n));
  const liveNames = live.filter((n) => refK.has(n) || refRest.has(n));
  const liveIndex = (n: string): number => liveNames.indexOf(n);
  const eagerLocals = liveNames.filter((n) => refK.has(n));
  const eagerParams = [...eagerLocals, ...capturesK];
  const eagerArgs: ArgSource[] = [
    ...eagerLocals.map((n) => ({ from: 'live' as const, index: liveIndex(n) })),
    ...capturesK.map((n) => ({ from: 'capture' as const, index: captureIndex.get(n)! })),
  ];
  const callees = calleeOnlyNames(statement);
  const calleeParams = eagerParams.map((n) => callees.has(n));

  const declaredK = declaredNames(statement);
  const resumeLocals = [...frameLocals].filter((n) => n !== 'arguments' && !functionNames.has(n) && refRest.has(n) && (inScope.has(n) || declaredK.has(n)));
  // A callee-only name is never assigned by the statement, and its parameter may hold a compiled wrapper:
  // the resume takes the original value.
  const eagerReturns = resumeLocals.filter((n) => (eagerLocals.includes(n) && !callees.has(n)) || declaredK.has(n));
  const resumeParams = [...resumeLocals, ...capturesRest];
  const resumeArgs: ArgSource[] = [
    ...resumeLocals.map((n) => (eagerReturns.includes(n) ? { from: 'eager' as const, index: eagerReturns.indexOf(n) } : { from: 'live' as const, index: liveIndex(n) })),
    ...capturesRest.map((n) => ({ from: 'capture' as const, index: captureIndex.get(n)! })),
  ];
  for (const n of [...eagerParams, ...resumeParams]) if (!isPlainIdentifier(n)) fail(`the name '${n}' cannot be a parameter of generated code`);
  if (resumeArgs.some((a) => a.from === 'live' && a.index < 0)) fail('a local the resume needs is not live at the break');
  return { statementIndex: k, statement, rest, declarations, liveNames, eagerParams, eagerArgs, calleeParams, eagerReturns, resumeParams, resumeArgs, eagerUsesThis, resumeUsesThis };
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
export const describeEagerStatement = (stmt: AnyNode): string => STATEMENT_KINDS[stmt.type] ?? 'the statement';

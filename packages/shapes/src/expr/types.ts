// Expression nodes. Every integer (or float) expression is a canonical polynomial: a constant plus a sorted
// list of terms (coefficient × monomial), where a monomial is a sorted product of atoms raised to positive
// integer powers. Atoms are symbols (`s0`, `u0`), nested ints (`j0`) and calls (`FloorDiv`, `Mod`, `Min`,
// `Max`, `TrueDiv`) whose arguments are again canonical expressions. Building and comparing this form needs no
// symbolic engine, which is what keeps mathjs off the hot path.

export type CallFn = 'FloorDiv' | 'Mod' | 'Min' | 'Max' | 'TrueDiv';

export interface SymbolAtom {
  readonly kind: 'symbol';
  readonly name: string;
  /** Print form, also the identity of the atom. */
  readonly key: string;
  /** Natural-order key: `s2` sorts before `s10`. */
  readonly order: string;
}

export interface NestedIntAtom {
  readonly kind: 'nested';
  readonly id: number;
  readonly key: string;
  readonly order: string;
}

export interface CallAtom {
  readonly kind: 'call';
  readonly fn: CallFn;
  readonly args: readonly Expr[];
  readonly key: string;
  readonly order: string;
}

export type Atom = SymbolAtom | NestedIntAtom | CallAtom;

export interface Factor {
  readonly atom: Atom;
  readonly power: number;
}

export interface Monomial {
  readonly factors: readonly Factor[];
  readonly degree: number;
  readonly key: string;
  readonly order: string;
  /** Some factor is, or contains, a nested int. */
  readonly hasNested: boolean;
}

export interface Term {
  readonly coeff: number;
  readonly mono: Monomial;
}

export interface Expr {
  readonly kind: 'expr';
  /** Sorted by degree (descending), then by monomial order; never a zero coefficient. */
  readonly terms: readonly Term[];
  readonly constant: number;
  /** The printed form; two expressions are equal exactly when their keys are. */
  readonly key: string;
  /** True when some atom (at any depth) is a nested int. */
  readonly hasNested: boolean;
}

export type RelOp = '==' | '!=' | '<' | '<=';

/** A relation `diff op 0`, printed with positive terms on the left and negative terms on the right. */
export interface RelExpr {
  readonly kind: 'rel';
  readonly op: RelOp;
  readonly diff: Expr;
  readonly key: string;
}

export interface BoolConst {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly key: string;
}

export interface NotExpr {
  readonly kind: 'not';
  readonly arg: BoolExpr;
  readonly key: string;
}

export interface JunctionExpr {
  readonly kind: 'and' | 'or';
  readonly args: readonly BoolExpr[];
  readonly key: string;
}

export type BoolExpr = RelExpr | BoolConst | NotExpr | JunctionExpr;

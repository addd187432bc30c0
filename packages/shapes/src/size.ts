// The structural interface shared with @kiln/tensor, which defines the same shapes itself instead of
// importing this package. A constant size is always a plain number.
export type Size = number | SymIntLike;

export interface SymIntLike {
  readonly isSymInt: true;
  add(o: Size): Size;
  sub(o: Size): Size;
  mul(o: Size): Size;
  floorDiv(o: Size): Size;
  mod(o: Size): Size;
  min(o: Size): Size;
  max(o: Size): Size;
  neg(): Size;
  eq(o: Size): boolean | SymBoolLike;
  ne(o: Size): boolean | SymBoolLike;
  lt(o: Size): boolean | SymBoolLike;
  le(o: Size): boolean | SymBoolLike;
  gt(o: Size): boolean | SymBoolLike;
  ge(o: Size): boolean | SymBoolLike;
  toString(): string;
}

export interface SymBoolLike {
  readonly isSymBool: true;
  guardBool(): boolean;
  toString(): string;
}

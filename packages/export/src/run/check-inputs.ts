// Checks a call's arguments against an exported program's input specs before anything runs, and binds each
// dim's symbol to its size. Every error names the input by its user name and says what was expected.
import { treeFlatten } from '@kiln/pytree';
import { expr as shapesExpr } from '@kiln/shapes';
import { Tensor } from '@kiln/tensor';
import {
  DimRangeError, InputConstantError, InputDtypeError, InputRankError, InputRelationError, InputSizeError, InputStructureError,
} from '../errors.js';
import type { ExportedProgram, SizeSpec, TensorInputSpec } from '../program.js';
import { renameSymbols } from '../size-facts.js';

const { evaluate, evaluateBool, exprFromJson, boolFromJson } = shapesExpr;

const describe = (x: unknown): string => (x instanceof Tensor ? `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]` : x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x);
const sizeText = (s: SizeSpec, names: ReadonlyMap<string, string>): string => (typeof s === 'number' ? String(s) : 'sym' in s ? names.get(s.sym) ?? s.sym : renameSymbols(s.text, names));

/** The argument leaves in spec order, checked; returns the tensors by placeholder and the dims' values. */
export function checkInputs(program: ExportedProgram, args: readonly unknown[]): { tensors: Map<string, Tensor>; byName: Map<string, Tensor>; symbols: Map<string, number> } {
  const [leaves, spec] = treeFlatten([...args]);
  if (!spec.equals(program.inputTree)) {
    throw new InputStructureError(
      `${program.source.name}: the arguments have structure ${spec.toString()}, the exported program takes ${program.inputTree.toString()}`,
      'pass the same number and nesting of arguments as the example inputs',
    );
  }
  const names = new Map(program.dims.map((d) => [d.symbol, d.name]));
  const symbols = new Map<string, number>();
  const tensors = new Map<string, Tensor>();
  const byName = new Map<string, Tensor>();
  const pending: { spec: TensorInputSpec; t: Tensor }[] = [];
  program.inputs.forEach((input, i) => {
    const x = leaves[i];
    if (input.kind === 'constant') {
      if (!Object.is(x, input.value)) throw new InputConstantError(`input '${input.name}' must be ${JSON.stringify(input.value)} (the value it was exported with), got ${describe(x)}${typeof x === 'number' || typeof x === 'string' ? ` ${JSON.stringify(x)}` : ''}`, 'non-tensor inputs are baked into the program: export again with the new value, or pass it as a tensor');
      return;
    }
    if (!(x instanceof Tensor)) throw new InputDtypeError(`input '${input.name}' must be a ${input.dtype} tensor, got ${describe(x)}`);
    if (x.dtype !== input.dtype) throw new InputDtypeError(`input '${input.name}' must be ${input.dtype}, got ${x.dtype} (shape [${x.shape.join(', ')}])`, `convert it with .to('${input.dtype}')`);
    if (x.ndim !== input.shape.length) {
      throw new InputRankError(`input '${input.name}' must have rank ${input.shape.length} ([${input.shape.map((s) => sizeText(s, names)).join(', ')}]), got rank ${x.ndim} ([${x.shape.join(', ')}])`);
    }
    input.shape.forEach((s, d) => {
      const size = x.shape[d]!;
      if (typeof s === 'number' && s !== size) throw new InputSizeError(`input '${input.name}' must have size ${s} in dim ${d} (it is static), got ${size} (shape [${x.shape.join(', ')}])`, 'export with a Dim for this dim to make it dynamic');
      if (typeof s === 'object' && 'sym' in s && !symbols.has(s.sym)) symbols.set(s.sym, size);
    });
    if (input.placeholder !== null) tensors.set(input.placeholder, x);
    byName.set(input.name, x);
    pending.push({ spec: input, t: x });
  });
  checkRelations(program, pending, symbols, names);
  return { tensors, byName, symbols };
}

function checkRelations(program: ExportedProgram, pending: readonly { spec: TensorInputSpec; t: Tensor }[], symbols: ReadonlyMap<string, number>, names: ReadonlyMap<string, string>): void {
  const value = (s: string): number | undefined => symbols.get(s);
  for (const { spec, t } of pending) {
    spec.shape.forEach((s, d) => {
      if (typeof s === 'number') return;
      const want = 'sym' in s ? symbols.get(s.sym) : evaluate(exprFromJson(s.expr), value);
      if (want !== undefined && want !== t.shape[d]) {
        const place = program.dims.find((x) => 'sym' in s && x.symbol === s.sym)?.places[0];
        throw new InputRelationError(
          `input '${spec.name}' dim ${d} is ${t.shape[d]}, but the program needs it equal to ${sizeText(s, names)}${place ? ` (${place})` : ''} = ${want}`,
          'these sizes were equal (or related) in the exported trace; the program only runs where they still are',
        );
      }
    });
  }
  for (const a of program.asserts) {
    if (a.kind !== 'check') continue;
    if (evaluateBool(boolFromJson(a.expr), value) === false) throw new InputRelationError(`check failed for these inputs: ${a.text}${a.message ? ` (${a.message})` : ''}${a.location ? ` at ${a.location}` : ''}`);
  }
  for (const d of program.dims) {
    const v = symbols.get(d.symbol);
    if (v !== undefined && (v < d.min || v > d.max)) {
      throw new DimRangeError(`input dim ${d.places[0] ?? d.name} (${d.name}) is ${v}, outside the exported range [${d.min}, ${d.max}]`, 'export with a wider Dim range if the code allows it');
    }
  }
  for (const a of program.asserts) {
    if (a.kind !== 'relation') continue;
    if (evaluateBool(boolFromJson(a.expr), value) === false) {
      throw new InputRelationError(`the inputs break a relation the program relies on: ${a.text}${a.location ? ` (from ${a.location})` : ''}`, 'the exported trace took a path that holds only where this relation does');
    }
  }
}

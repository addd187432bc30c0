// Random programs for the graph fuzzer: inputs (shapes that broadcast against a base shape, dtypes, strided
// layouts, special values) and a DAG of steps from the op tables, built by running each step eagerly so
// every step is valid for the shapes it meets. A program prints as numbered lines for failure messages.
import fc from 'fast-check';
import * as k from '@kiln/tensor';
import { Picker } from './graph-fuzz-ops.js';
import type { Step } from './graph-fuzz-ops.js';
import { VALUE_MAKERS } from './graph-fuzz-ops.js';
import { STRUCTURE_MAKERS } from './graph-fuzz-structure.js';

const MAKERS = { ...VALUE_MAKERS, ...STRUCTURE_MAKERS };
const NAMES = Object.keys(MAKERS);
const LAYOUTS = ['contiguous', 'transposed', 'stepped', 'expanded', 'offset'] as const;
type Layout = (typeof LAYOUTS)[number];

export interface InputSpec {
  dtype: 'float32' | 'int32' | 'bool';
  /** Leading base dims this input does not have (it broadcasts over them). */
  drop: number;
  /** Bit i set: dim i is 1 (broadcasts). */
  ones: number;
  layout: Layout;
  seed: number;
}
export interface ProgramSpec {
  base: number[];
  inputs: InputSpec[];
  /** 0: no special values; else about one element in 2^special+1 is NaN, ±Inf, -0, huge or subnormal. */
  special: number;
  steps: { op: number; raw: number[]; keepError: boolean }[];
  outputs: number[];
}

const SIZES = [2, 1, 3, 0, 5, 7, 16, 33, 70];
export const programSpec: fc.Arbitrary<ProgramSpec> = fc.record({
  base: fc.array(fc.constantFrom(...SIZES), { maxLength: 4 }),
  inputs: fc.array(
    fc.record({
      dtype: fc.constantFrom('float32' as const, 'float32' as const, 'int32' as const, 'bool' as const),
      drop: fc.nat(4), ones: fc.nat(15), layout: fc.constantFrom(...LAYOUTS), seed: fc.nat(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  special: fc.nat(4),
  steps: fc.array(fc.record({ op: fc.nat(NAMES.length - 1), raw: fc.array(fc.nat(99), { maxLength: 10 }), keepError: fc.boolean() }), { minLength: 1, maxLength: 7 }),
  outputs: fc.array(fc.nat(), { maxLength: 2 }),
});

/** Keeps every program small enough to run in a few milliseconds eagerly. */
export function boundedBase(base: readonly number[]): number[] {
  const out = [...base];
  while (out.reduce((a, b) => a * b, 1) > 3000) out[out.indexOf(Math.max(...out))] = 3;
  return out;
}

/** The shapes a `dynamic: true` program is called with the second time: same broadcasting, other sizes. */
export const resized = (base: readonly number[]) => base.map((n) => (n === 1 ? 1 : n === 0 ? 2 : n === 2 ? 0 : n + 1));

// Huge finite values (FUZZ_HUGE=1) still differ, not fixed yet: sin/cos reduce |x| > 1e5 inaccurately and
// var/std/layerNorm square (x - mean) in float32 where eager squares in float64 (|x| > 1e19 overflows).
const SPECIAL = process.env.FUZZ_HUGE ? [NaN, Infinity, -Infinity, -0, 1e30, -3e29, 1e-40, 0] : [NaN, Infinity, -Infinity, -0, 1e-40, 0];
function rng(seed: number) {
  let s = seed | 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff);
}

/** One input tensor; `perturb` scales each ordinary float by 1 ± 2e-6 (the eager result's conditioning). */
export function makeInput(spec: InputSpec, base: readonly number[], special: number, perturb = false): k.Tensor {
  const shape = base.slice(Math.min(spec.drop, base.length)).map((n, i) => ((spec.ones >> i) & 1 ? 1 : n));
  const next = rng(spec.seed), jitter = rng(spec.seed ^ 0x5bd1e995);
  const value = () => {
    if (spec.dtype === 'bool') return next() < 0.5 ? 1 : 0;
    if (spec.dtype === 'int32') return Math.floor(next() * 11) - 5;
    if (special > 0 && next() < 1 / (2 ** special + 1)) return SPECIAL[Math.floor(next() * SPECIAL.length)]!;
    const x = (next() * 2 - 1) * 3;
    return perturb ? x * (1 + 2e-6 * (jitter() * 2 - 1)) : x;
  };
  const make = (s: readonly number[]) => {
    const n = s.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, value);
    const typed = spec.dtype === 'float32' ? Float32Array.from(data) : spec.dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
    return k.Tensor.fromData(typed, [...s], spec.dtype);
  };
  return laidOut(spec.layout, shape, make);
}

/** The same values' shape, stored through a view that is not contiguous (or not at offset 0). */
function laidOut(layout: Layout, shape: number[], make: (s: readonly number[]) => k.Tensor): k.Tensor {
  const r = shape.length;
  if (layout === 'transposed' && r >= 2) return make([...shape.slice(0, -2), shape[r - 1]!, shape[r - 2]!]).transpose(-1, -2);
  if (layout === 'stepped' && r >= 1) return make([shape[0]! * 2, ...shape.slice(1)]).slice(0, 0, null, 2);
  if (layout === 'expanded' && shape.some((n) => n > 1)) {
    const d = shape.findIndex((n) => n > 1);
    return make(shape.map((n, i) => (i === d ? 1 : n))).expand(shape);
  }
  if (layout === 'offset') {
    const n = shape.reduce((a, b) => a * b, 1);
    return make([n + 3]).narrow(0, 3, n).view(shape);
  }
  return make(shape);
}

export interface Program {
  readonly inputs: number;
  readonly steps: { step: Step; first: number; count: number }[];
  readonly outputs: number[];
  readonly loose: boolean;
  readonly text: string;
}

/** Builds the DAG by running each candidate step eagerly on `inputs`; steps that are invalid there are skipped. */
export function buildProgram(spec: ProgramSpec, inputs: readonly k.Tensor[]): Program {
  const vals = [...inputs];
  const steps: Program['steps'] = [];
  for (const s of spec.steps) {
    const p = new Picker(s.raw);
    const step = MAKERS[NAMES[s.op]!]!(p, vals, p.value(vals.length));
    if (!step) continue;
    let out: k.Tensor[];
    try {
      const r = step.run(vals);
      out = Array.isArray(r) ? r : [r];
    } catch {
      // An eager error is behaviour compiled code must reproduce: the step ends the program as its output
      // (an unused one could be dropped as dead code).
      if (!s.keepError) continue;
      steps.push({ step, first: vals.length, count: 1 });
      return finish(inputs, steps, [vals.length]);
    }
    if (out.some((t) => t.shape.length > 5 || t.shape.reduce((a, b) => a * b, 1) > 20000)) continue;
    steps.push({ step, first: vals.length, count: out.length });
    vals.push(...out);
  }
  return finish(inputs, steps, [vals.length - 1, ...spec.outputs.map((o) => o % vals.length)]);
}

function finish(inputs: readonly k.Tensor[], steps: Program['steps'], outputs: number[]): Program {
  const loose = steps.some((s) => s.step.loose);
  return { inputs: inputs.length, steps, outputs, loose, text: printProgram(inputs, steps, outputs) };
}

/** The program as a function of its inputs (traced, compiled and run eagerly alike). */
export function programFn(program: Program): (...inputs: k.Tensor[]) => k.Tensor[] {
  return (...inputs) => {
    const vals = [...inputs];
    for (const { step } of program.steps) {
      const r = step.run(vals);
      vals.push(...(Array.isArray(r) ? r : [r]));
    }
    return program.outputs.map((i) => vals[i]!);
  };
}

function printProgram(inputs: readonly k.Tensor[], steps: Program['steps'], outputs: number[]): string {
  const describe = (t: k.Tensor) =>
    `${t.dtype}[${t.shape}]${t.isContiguous() && t.offset === 0 ? '' : ` strides [${t.strides}] offset ${t.offset}`}`;
  const lines = inputs.map((t, i) => `%${i}: ${describe(t)}`);
  for (const { step, first, count } of steps) {
    const lhs = Array.from({ length: count }, (_, j) => `%${first + j}`).join(', ');
    lines.push(`${lhs} = ${step.text.replace(/\$(\d+)/g, '%$1')}`);
  }
  lines.push(`return [${outputs.map((o) => `%${o}`)}]`);
  return lines.join('\n    ');
}

// Runs one fuzzed program eagerly and through every compiled path, and lists the differences. Float
// results get a tolerance scaled by the eager result's own sensitivity: the same program run on inputs
// scaled by 1 ± 2e-6 shows where cancellation or a near tie makes any float32 reordering move the result,
// so only differences well beyond that count (ints and bools: exact unless the perturbation flips them).
import * as k from '@kiln/tensor';
import { compile, reset } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';
import { boundedBase, buildProgram, makeInput, programFn, resized } from './graph-fuzz-program.js';
import type { Program, ProgramSpec } from './graph-fuzz-program.js';

type Outcome = { ok: true; value: k.Tensor[] } | { ok: false; error: unknown };
const attempt = (run: () => unknown): Outcome => {
  try {
    return { ok: true, value: run() as k.Tensor[] };
  } catch (error) {
    return { ok: false, error };
  }
};
const errorName = (e: unknown) => (e instanceof Error ? e.constructor.name : typeof e);
const describe = (e: unknown) => `${errorName(e)}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}${
  e instanceof Error && !(e instanceof k.KilnError) ? `\n      ${(e.stack ?? '').split('\n').slice(1, 4).join('\n      ')}` : ''}`;

export interface FuzzCase {
  readonly program: Program;
  readonly differences: string[];
}

/** Which compiled paths to run (all by default). */
export interface Paths {
  traceOps?: boolean;
  compile?: boolean;
  dynamic?: boolean;
}

export function checkProgram(spec: ProgramSpec, paths: Paths = {}): FuzzCase {
  const base = boundedBase(spec.base);
  const inputsFor = (shape: readonly number[], perturb = false) => spec.inputs.map((s) => makeInput(s, shape, spec.special, perturb));
  const program = buildProgram(spec, inputsFor(base));
  // Every program is one closure from the same source line: compile's per-code cache would fill up.
  reset();
  const fn = programFn(program);
  const tol = program.loose ? 1e-4 : 1e-5;
  const differences: string[] = [];
  const compare = (label: string, got: Outcome, shape: readonly number[]) => {
    const want = attempt(() => fn(...inputsFor(shape)));
    const near = attempt(() => fn(...inputsFor(shape, true)));
    for (const d of compareOutcome(got, want, near, tol)) differences.push(`${label} on base [${shape}]: ${d}`);
  };
  if (paths.traceOps !== false) {
    const got = attempt(() => compileGraphForCpu(traceOps(fn, inputsFor(base)).coreGraph).run(inputsFor(base)));
    compare('traceOps + compileGraphForCpu', got, base);
  }
  if (paths.compile !== false) {
    const compiled = compile(fn, { backend: 'cpu' });
    compare('compile(cpu)', attempt(() => compiled(...inputsFor(base))), base);
  }
  if (paths.dynamic !== false) {
    const compiled = compile(fn, { backend: 'cpu', dynamic: true });
    for (const shape of [base, resized(base)]) compare('compile(cpu, dynamic)', attempt(() => compiled(...inputsFor(shape))), shape);
  }
  return { program, differences };
}

function compareOutcome(got: Outcome, want: Outcome, near: Outcome, tol: number): string[] {
  if (!want.ok && !got.ok) {
    const [g, w] = [errorName(got.error), errorName(want.error)];
    return g === w ? [] : [`compiled threw ${describe(got.error)}, eager ${describe(want.error)}`];
  }
  if (!want.ok) return [`eager threw ${describe(want.error)}, compiled returned`];
  if (!got.ok) return [`compiled threw ${describe(got.error)}, eager returned`];
  if (got.value.length !== want.value.length) return [`${got.value.length} outputs vs ${want.value.length}`];
  return want.value.flatMap((w, i) => {
    const g = got.value[i]!;
    const n = near.ok ? near.value[i] : undefined;
    const d = compareTensor(g, w, n && JSON.stringify(n.shape) === JSON.stringify(w.shape) ? n : w, tol);
    return d ? [`output ${i}: ${d}`] : [];
  });
}

function compareTensor(got: k.Tensor, want: k.Tensor, near: k.Tensor, tol: number): string | undefined {
  // A program whose split made fewer pieces at this shape returns `undefined` for a missing value.
  if (!(want instanceof k.Tensor)) return got === want ? undefined : `${String(got)} vs eager ${String(want)}`;
  if (!(got instanceof k.Tensor)) return `not a tensor: ${String(got)}`;
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape [${got.shape}] vs eager [${want.shape}]`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} vs eager ${want.dtype}`;
  const [a, b, c] = [got.toTypedArray(), want.toTypedArray(), near.toTypedArray()];
  const floating = want.dtype === 'float32';
  for (let i = 0; i < b.length; i++) {
    const [x, y, z] = [a[i]!, b[i]!, c[i]!];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!floating) {
      if (y === z) return `element ${i}: ${x} vs eager ${y} (of [${want.shape}] ${want.dtype})`;
      continue;
    }
    // NaN/Inf positions must match unless the perturbed eager run moves them too
    if (Number.isFinite(y) !== Number.isFinite(z) || Number.isNaN(y) !== Number.isNaN(z)) continue;
    if (Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)) + 8 * Math.abs(y - z)) continue;
    return `element ${i}: ${x} vs eager ${y} (perturbed eager ${z}; of [${want.shape}] float32)`;
  }
  return undefined;
}

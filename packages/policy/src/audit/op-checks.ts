import { FakeStorage, Generator, Tensor, normalizeArgs } from '@kiln/tensor';
import type { MetaResult, MetaTensor, OpDef } from '@kiln/tensor';
import type { AnyFunction } from '../frame.js';
import type { MathEntry } from '../rules/math.js';
import type { TableRule } from '../rules/table.js';
import { isMetaTensor, metaOf, placeholderMetaContext, runFake, fakeTensor } from './fake.js';
import { observe } from './purity.js';
import type { SampleFactory } from './samples.js';
import type { FakeResult, Finding, PurityResult } from './types.js';

const isTensor = (x: unknown) => x instanceof Tensor;
const TENSOR_TYPES = new Set(['Tensor', 'Tensor?', 'TensorOrScalar', 'Tensor[]']);

const mapTensors = (args: readonly unknown[], f: (t: Tensor) => unknown) =>
  args.map((a) => (a instanceof Tensor ? f(a) : Array.isArray(a) && a.some(isTensor) ? a.map((t) => (t instanceof Tensor ? f(t) : t)) : a));

const describeError = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));

/** Eager run with a private generator for random ops, so the audit itself leaves the global one alone. */
function runEagerSample(op: OpDef, samples: SampleFactory): unknown {
  const hasGenerator = op.schema.keywordOnly.some((a) => a.type === 'Generator?');
  return op.fn(...samples(), ...(hasGenerator ? [{ generator: new Generator(0) }] : []));
}

function describeResult(r: unknown): string {
  if (r instanceof Tensor || (typeof r === 'object' && r !== null && 'shape' in r && 'dtype' in r)) {
    const t = r as MetaTensor;
    return `${t.dtype}[${t.shape.map(String).join(', ')}]`;
  }
  if (Array.isArray(r)) return `(${r.map(describeResult).join(', ')})`;
  return typeof r;
}

/** Does the fake result describe the eager one? Symbolic (data-dependent) sizes match any size. */
function sameMetadata(fake: unknown, eager: unknown): boolean {
  if (Array.isArray(fake) || Array.isArray(eager)) {
    return Array.isArray(fake) && Array.isArray(eager) && fake.length === eager.length && fake.every((f, i) => sameMetadata(f, eager[i]));
  }
  if (eager instanceof Tensor) {
    const f = fake as MetaTensor;
    return (
      typeof f === 'object' && f !== null && f.dtype === eager.dtype && f.shape.length === eager.shape.length &&
      f.shape.every((s, i) => typeof s !== 'number' || s === eager.shape[i])
    );
  }
  return true;
}

export interface FakeCheck {
  readonly result: FakeResult;
  readonly finding?: Finding;
}

/**
 * Runs the op on metadata only — its meta function on `{ shape, strides, offset, dtype, ndim }` records, or
 * its decomposition on fake tensors — and checks the shapes and dtypes against the eager result.
 */
export function checkFake(op: OpDef, samples: SampleFactory, subject: string): FakeCheck {
  const fail = (message: string): FakeCheck => ({ result: 'failed', finding: { severity: 'fail', subject, message } });
  const takesTensors = [...op.schema.positional, ...op.schema.keywordOnly].some((a) => TENSOR_TYPES.has(a.type));
  if (!op.meta && !op.decompose) {
    if (!takesTensors) return { result: 'constant' };
    return fail(`op '${op.name}' has no meta function and no decomposition, so it cannot run on fake tensors; add a meta function in @kiln/tensor`);
  }
  let eager: unknown;
  try {
    eager = runEagerSample(op, samples);
  } catch (e) {
    return fail(`op '${op.name}' fails eagerly on its sample inputs: ${describeError(e)}`);
  }
  try {
    const raw = samples();
    let fake: unknown;
    if (op.meta) {
      const args = mapTensors(normalizeArgs(op.name, op.schema, raw, isTensor), metaOf);
      const meta: MetaResult = op.meta(args, placeholderMetaContext());
      if ('scalar' in meta && !['number', 'boolean', 'bigint'].includes(typeof eager)) {
        return fail(`op '${op.name}' describes a scalar result on fake tensors but returns ${describeResult(eager)} eagerly`);
      }
      fake = isMetaTensor(meta) || Array.isArray(meta) ? meta : eager;
    } else {
      const args = mapTensors(normalizeArgs(op.name, op.schema, raw, isTensor), (t) => fakeTensor(metaOf(t)));
      fake = runFake(() => op.decompose!(args), { expand: false }).result;
    }
    if (!sameMetadata(fake, eager)) {
      return fail(`op '${op.name}' on fake tensors gives ${describeResult(fake)} but eagerly ${describeResult(eager)}`);
    }
    return { result: op.meta ? 'meta' : 'decomposition' };
  } catch (e) {
    return fail(`op '${op.name}' fails on fake tensors: ${describeError(e)}`);
  }
}

const tensorsIn = (x: unknown): Tensor[] => (x instanceof Tensor ? [x] : Array.isArray(x) ? x.flatMap(tensorsIn) : []);

/**
 * Expands the op's decomposition to the end on fake tensors: the leaves must all be core ops, and the result
 * must have the eager result's shapes and dtypes.
 */
export function checkDecomposition(op: OpDef, samples: SampleFactory, subject: string): { coreOps: string[]; finding?: Finding } {
  const fail = (coreOps: string[], message: string) => ({ coreOps, finding: { severity: 'fail' as const, subject, message } });
  try {
    const args = mapTensors(normalizeArgs(op.name, op.schema, samples(), isTensor), (t) => fakeTensor(metaOf(t)));
    const { result, run } = runFake(() => op.decompose!(args), { expand: true });
    // Every op without a decomposition is core (the registry's definition), so the leaves are core ops; what
    // can go wrong is a tensor made outside the registry (a kernel call, Tensor.fromData), which the core
    // graph would never see: under the fake mode it is the only kind without fake storage.
    const coreOps = [...new Set(run.calls.filter((c) => c.op.isCore).map((c) => c.op.name))].sort();
    if (tensorsIn(result).some((t) => !(t.storage instanceof FakeStorage))) {
      return fail(coreOps, `the decomposition of '${op.name}' builds a tensor without going through ops (a kernel call or Tensor.fromData), so the core graph cannot see it`);
    }
    const eager = runEagerSample(op, samples);
    if (!sameMetadata(result, eager)) {
      return fail(coreOps, `the decomposition of '${op.name}' gives ${describeResult(result)} on fake tensors but the op gives ${describeResult(eager)} eagerly`);
    }
    return { coreOps };
  } catch (e) {
    return fail([], `the decomposition of '${op.name}' does not run on fake tensors (it must use ops only, never tensor data): ${describeError(e)}`);
  }
}

/**
 * Runs an allowlisted function on its sample inputs while watching global state and its arguments. Random
 * ops must declare 'rng', in-place ops 'mutates-input'; anything else that changes global state is impure.
 */
export function checkPurity(rule: TableRule, fn: AnyFunction, samples: SampleFactory): { result: PurityResult; findings: Finding[] } {
  const isMethod = rule.name.includes('.prototype.');
  const obs = observe(samples(), (args) => (isMethod ? fn.apply(args[0], args.slice(1)) : fn(...args)));
  const findings: Finding[] = [];
  const subject = rule.name;
  if (obs.error !== undefined) {
    return { result: 'not-run', findings: [{ severity: 'fail', subject, message: `${rule.name} could not run on its sample inputs: ${obs.error}` }] };
  }
  const undeclared = obs.globalChanges.filter((c) => !(obs.rngChanged && rule.effect === 'rng' && c.includes('random generator')));
  if (undeclared.length) {
    findings.push({
      severity: 'fail',
      subject,
      message: `impure: ${rule.name} changed global state (${undeclared.join('; ')}); a function in the graph must not — fix it, declare the effect if it is randomness, or move it out of the allowlist`,
    });
  }
  if (rule.effect === 'rng' && !obs.rngChanged) {
    findings.push({ severity: 'warn', subject, message: `${rule.name} declares effect 'rng' but did not advance the random generator on its samples` });
  }
  if (obs.mutatedInputs.length && rule.effect !== 'mutates-input') {
    findings.push({ severity: 'fail', subject, message: `${rule.name} mutated ${obs.mutatedInputs.length === 1 ? 'argument' : 'arguments'} ${obs.mutatedInputs.join(', ')} without declaring effect 'mutates-input'` });
  }
  if (rule.effect === 'mutates-input' && !obs.mutatedInputs.length) {
    findings.push({ severity: 'warn', subject, message: `${rule.name} declares effect 'mutates-input' but left its arguments unchanged on its samples` });
  }
  const result: PurityResult = undeclared.length ? 'impure' : obs.mutatedInputs.length ? 'mutates-input' : obs.rngChanged ? 'rng' : 'pure';
  return { result, findings };
}

/** Math entries: no global state touched, and the same result twice (so constant folding is sound). */
export function checkMathEntry(entry: MathEntry, fn: AnyFunction): { result: PurityResult; findings: Finding[] } {
  const results: unknown[] = [];
  const obs = observe(entry.sample, (args) => {
    results.push(fn(...args), fn(...args));
  });
  const findings: Finding[] = [];
  if (obs.error !== undefined) findings.push({ severity: 'fail', subject: entry.name, message: `${entry.name} threw on ${JSON.stringify(entry.sample)}: ${obs.error}` });
  if (obs.globalChanges.length) findings.push({ severity: 'fail', subject: entry.name, message: `impure: ${entry.name} changed ${obs.globalChanges.join('; ')}` });
  if (results.length === 2 && !Object.is(results[0], results[1])) {
    findings.push({ severity: 'fail', subject: entry.name, message: `${entry.name} is not deterministic (${String(results[0])} then ${String(results[1])}), so it cannot be constant-folded` });
  }
  return { result: findings.length ? 'impure' : 'pure', findings };
}

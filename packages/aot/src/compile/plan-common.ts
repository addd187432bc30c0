// What every backend's plan takes from a lowered program the same way: the program inputs (arguments or
// weights), the buffers (captured constants become weights), runtime asserts as data, and the rule that a
// standalone module has no eager kernels for a node its code generator left to one.
import type { CheckStep, FallbackStep, IndexRangeCheck, LoweredProgram } from '@kiln/lower';
import type { Tensor } from '@kiln/tensor';
import { KILN_VERSION } from '@kiln/export';
import { AOT_PLAN_FORMAT, AOT_PLAN_VERSION, type AotAssertStep, type AotBuffer, type AotPlanCommon } from '../runtime/plan.js';
import { AotCompileError, aotCondition, type AotSource } from './source.js';

/**
 * Raises AotCompileError naming every node the program would run with an eager kernel the module cannot
 * carry (`carried`: the steps it has a standalone kernel for; none on WebGPU).
 */
export function rejectEagerSteps(source: AotSource, program: LoweredProgram, backend: string, carried: (step: FallbackStep) => boolean = () => false): void {
  const eager = program.steps.flatMap((s) => (s.kind === 'fallback' && !carried(s) ? [`${s.op}${s.node ? ` (node %${s.node})` : ''}: ${s.reason}`] : []));
  if (eager.length === 0) return;
  throw new AotCompileError(
    `${source.name}: ${eager.length} ${eager.length === 1 ? 'node' : 'nodes'} would run with eager kernels that a standalone ${backend} module cannot carry:\n  ${eager.join('\n  ')}`,
    `run this program with loadProgram() or compile(), or rewrite these ops with ones the ${backend} backend generates code for`,
  );
}

/** The plan fields every backend shares, and the weights blob's tensors by name. */
export function commonPlan(source: AotSource, program: LoweredProgram): { common: AotPlanCommon; weights: Map<string, Tensor> } {
  const weights = new Map<string, Tensor>();
  const programInputs = source.placeholders.map((p) => {
    if ('user' in p) return { user: p.user };
    weights.set(p.weight, p.value);
    return { weight: p.weight, shape: [...p.value.shape] };
  });
  const buffers: AotBuffer[] = program.buffers.map((b) => {
    const constant = (b as { constant?: Tensor }).constant;
    if (!constant) return { name: b.name, dtype: b.dtype, numel: b.numel, ...(b.input !== undefined ? { input: b.input, shape: b.shape ?? [] } : {}) };
    const weight = `constant.${b.name}`;
    weights.set(weight, constant);
    return { name: b.name, dtype: b.dtype, numel: b.numel, weight };
  });
  const mutations = source.mutations.map((m) => {
    if ('arg' in m) return m;
    const buffer = buffers.find((b) => b.input !== undefined && programInputs[b.input]?.weight === m.weight);
    if (!buffer) throw new AotCompileError(`${source.name}: the state tensor ${JSON.stringify(m.weight)} is written in place but has no buffer in the lowered program`);
    return { buffer: buffer.name, output: m.output };
  });
  const common: AotPlanCommon = {
    format: AOT_PLAN_FORMAT,
    version: AOT_PLAN_VERSION,
    kilnVersion: KILN_VERSION,
    name: source.name,
    argsTree: source.argsTree,
    inputs: source.inputs,
    symbols: source.symbols,
    preconditions: source.preconditions,
    programInputs,
    outputs: program.outputs,
    outputTree: source.outputTree,
    buffers,
    params: program.params,
    mutations,
  };
  return { common, weights };
}

/** A check step as the runtime runs it: index ranges as they are, asserts with their condition as size expressions. */
export function checkStep(step: CheckStep | FallbackStep): IndexRangeCheck | AotAssertStep {
  if (step.kind === 'fallback') throw new Error('unreachable: rejectEagerSteps ran first');
  if (step.check === 'indexRange') return step;
  const { cond, ...assert } = step.assert;
  if (cond === undefined) throw new AotCompileError(`runtime assert ${assert.expr} has no condition as data (a graph serialized by an older Kiln)`, 'export the program again');
  return { kind: 'assert', assert, condition: aotCondition(cond) };
}

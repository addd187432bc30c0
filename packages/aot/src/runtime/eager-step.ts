// One eager step of an AOT module: its arguments read out of the module's memory (buffer views become
// HostTensors, size expressions numbers), its eager kernel run, the data-dependent sizes it determines bound
// (`u0` = rows of nonzero's result, or item()'s value), and its result cast to the step's output dtype.
import { evalSize, resolveScalarArg } from '@kiln/lower';
import type { LoopDType, SizeExpr } from '@kiln/lower';
import { withUserFrame } from '@kiln/graph';
import { castTo, type EagerKernel, type HostTensor } from './eager-kernels.js';
import type { AotEagerStep } from './plan.js';

type View = { buffer: string; shape: readonly SizeExpr[]; strides: readonly SizeExpr[]; offset: SizeExpr; dtype: LoopDType };
const isView = (a: unknown): a is View => typeof a === 'object' && a !== null && 'buffer' in a && 'strides' in a;

/** Runs the step; returns the output's bytes to store (undefined for a step with no tensor output). */
export function runEagerStep(step: AotEagerStep, kernel: EagerKernel, params: Record<string, number>, read: (buffer: string, dtype: LoopDType) => HostTensor['data']): ReturnType<typeof castTo> | undefined {
  const arg = (a: unknown): unknown => {
    if (Array.isArray(a)) return a.map(arg);
    if (!isView(a)) return resolveScalarArg(a, params, {});
    const size = (s: SizeExpr) => evalSize(s, params);
    return { data: read(a.buffer, a.dtype), shape: a.shape.map(size), strides: a.strides.map(size), offset: size(a.offset) } satisfies HostTensor;
  };
  const kwargs: Record<string, unknown> = {};
  for (const key in step.kwargs) kwargs[key] = arg(step.kwargs[key]);
  let result;
  try {
    result = kernel(step.op, step.args.map(arg), kwargs);
  } catch (err) {
    throw withUserFrame(err, step.op, step.source);
  }
  for (const bind of step.binds) params[bind.param] = typeof result === 'number' ? result : bind.dim === 'value' ? Number(result.values[0]) : result.shape[bind.dim as number]!;
  if (!step.output || typeof result === 'number') return undefined;
  return castTo(result.values, step.output.dtype);
}

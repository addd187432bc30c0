// What lowering hands a backend: kernels in the loop IR, the buffers they use, where the size parameters
// come from, eager fallbacks for nodes no rule lowers, and how the outputs are read back.
import type { Kernel, LoopDType, SizeExpr } from '../loop-ir/loop-ir.js';
import { printKernel } from '../loop-ir/print.js';
import { evalSize, printSize } from '../loop-ir/sizes.js';
import { IndexError } from '@kiln/tensor';
import { assertFailure, evaluateAssert } from '@kiln/graph';
import type { GraphAssert, SourceLocation } from '@kiln/graph';

export interface ProgramBuffer {
  readonly name: string;
  readonly dtype: LoopDType;
  readonly numel: SizeExpr;
  /** An input's buffer is filled from the caller's tensor; others are allocated per call. */
  readonly input?: number;
  /** An input's shape, checked against the caller's tensor (rank and static sizes). */
  readonly shape?: readonly SizeExpr[];
}

/**
 * A kernel parameter bound at call time: a size from an input's shape (`s0 = inputs[0].shape[1]`), or a
 * scalar input's value (`u0 = inputs[1]`; see params.ts: `paramValue` computes the slot value).
 */
export type ParamBinding =
  | { readonly param: string; readonly input: number; readonly dim: number }
  | { readonly param: string; readonly input: number; readonly scalar: 'int32' | 'float32' };

/** A tensor read back from a buffer (shape, strides, offset may be symbolic). */
export interface TensorOutput {
  readonly kind: 'tensor';
  readonly buffer: string;
  readonly dtype: LoopDType;
  readonly shape: readonly SizeExpr[];
}
export type ProgramOutput = TensorOutput | { readonly kind: 'size'; readonly value: SizeExpr } | { readonly kind: 'constant'; readonly value: unknown };

/** A node run with its eager kernel: inputs are read from buffers, the result written to `output`. */
export interface FallbackStep {
  readonly kind: 'fallback';
  readonly op: string;
  /** The core-graph node it runs (its name, as printed: `%7`). */
  readonly node?: string;
  /** Arguments with tensors replaced by `{ buffer, shape, strides, offset, dtype }` descriptors. */
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** Where the result goes; null for a scalar result (`item()`), which only binds a parameter. */
  readonly output: { readonly buffer: string; readonly dtype: LoopDType; readonly shape: readonly SizeExpr[] } | null;
  /**
   * Data-dependent sizes learned from the result: `u0 = result.shape[0]` after `nonzero`, or `u1 = result`
   * after `item`. Buffers sized by them are allocated after this step, and kernels take them as parameters.
   */
  readonly binds: readonly { readonly param: string; readonly dim: number | 'value' }[];
  readonly reason: string;
  /** The user's source line of the node, for errors the eager kernel raises. */
  readonly source?: SourceLocation;
}

/**
 * A check the runner executes between kernels; a failure raises the error eager code raises. `indexRange`:
 * `buffer` holds the int32 [min, max] of the positions an indirect load will use (a reduction kernel wrote
 * it), which must lie in [0, extent) before any kernel reads through them.
 */
export interface IndexRangeCheck {
  readonly kind: 'check';
  readonly check: 'indexRange';
  readonly buffer: string;
  readonly extent: SizeExpr;
  /** The op and what its index selects from, for the message (`gather`, `dim 1 of self`): never user text. */
  readonly op: string;
  readonly what: string;
  /** The user's source line of the indexing op, for the IndexError. */
  readonly source?: SourceLocation;
}

/**
 * A runtime assert of the graph (check() / checkIsSize() on a data-dependent size, or the implicit
 * `u0 >= 0` of one used as a size), placed right after the step that binds its last symbol. Its condition
 * is data over the size parameters; the user's message is only ever put in the error.
 */
export interface AssertCheck {
  readonly kind: 'check';
  readonly check: 'assert';
  readonly assert: GraphAssert;
}

export type CheckStep = IndexRangeCheck | AssertCheck;

export type ProgramStep = { readonly kind: 'kernel'; readonly kernel: Kernel } | FallbackStep | CheckStep;

/**
 * Runs a check step. `read(buffer, n)` gives the first `n` int32 values of a buffer. An index range raises
 * IndexError, as eager's kernels do, naming the offending value (the smallest or the largest position, so
 * possibly not the first one eager meets); an assert raises CheckFailedError, as check() does.
 */
export function runCheck(step: CheckStep, params: Readonly<Record<string, number>>, read: (buffer: string, n: number) => ArrayLike<number>): void {
  if (step.check === 'assert') {
    if (evaluateAssert(step.assert, (s) => params[s]) !== true) throw assertFailure(step.assert);
    return;
  }
  checkIndexRange(step, params, read);
}

/** Runs an index-range check (see runCheck); apart so that runtimes without symbolic expressions (AOT modules) run it too. */
export function checkIndexRange(step: IndexRangeCheck, params: Readonly<Record<string, number>>, read: (buffer: string, n: number) => ArrayLike<number>): void {
  const [min, max] = Array.from(read(step.buffer, 2));
  const size = evalSize(step.extent, params);
  if (min! >= 0 && max! < size) return;
  const bad = min! < 0 ? min! : max!;
  throw new IndexError(
    `${step.op}: index ${bad} is out of range for ${step.what} of size ${size} (compiled program)`,
    `indices must lie in [0, ${size - 1}]${size === 0 ? ' (the dim is empty)' : ''}; negative indices are not wrapped`,
  );
}

export interface LoweredProgram {
  readonly buffers: readonly ProgramBuffer[];
  readonly params: readonly ParamBinding[];
  readonly steps: readonly ProgramStep[];
  readonly outputs: readonly ProgramOutput[];
  /** For each buffer, the index of the last step that reads it (memory planning frees it after that). */
  readonly lastUse: ReadonlyMap<string, number>;
  /** Per kernel name, the core-graph nodes whose computation it holds (a backend that cannot generate it runs them eagerly). */
  readonly kernelNodes?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Fusion rules that fired, by name, with how many times. */
  readonly fusions?: Readonly<Record<string, number>>;
}

/** The printed program: buffers, then each kernel (loop-IR printer) or fallback, then outputs. */
export function printProgram(p: LoweredProgram): string {
  const lines: string[] = [];
  for (const b of p.buffers) lines.push(`buffer ${b.name}: ${b.dtype}[${printSize(b.numel)}]${b.input !== undefined ? ` = input ${b.input}` : ''}`);
  for (const s of p.params) lines.push(`param ${s.param} = inputs[${s.input}]${'scalar' in s ? ` (${s.scalar} scalar)` : `.shape[${s.dim}]`}`);
  for (const step of p.steps) {
    if (step.kind === 'kernel') lines.push(printKernel(step.kernel));
    else if (step.kind === 'check') lines.push(printCheck(step));
    else {
      const binds = step.binds.map((b) => `${b.param} = ${b.dim === 'value' ? 'value' : `shape[${b.dim}]`}`).join(', ');
      lines.push(`eager ${step.output?.buffer ?? '_'} = ${step.op}(…)${binds ? ` → ${binds}` : ''}  # eager: ${step.reason}`);
    }
  }
  lines.push(
    `return ${p.outputs
      .map((o) => (o.kind === 'tensor' ? `${o.buffer}[${o.shape.map(printSize).join(', ')}]` : o.kind === 'size' ? printSize(o.value) : JSON.stringify(o.value)))
      .join(', ')}`,
  );
  return lines.join('\n');
}

function printCheck(step: CheckStep): string {
  if (step.check === 'indexRange') return `check ${step.buffer} in [0, ${printSize(step.extent)})  # ${step.op} index range`;
  // The message is user text: printed as a JSON string literal, like any other value.
  const { expr, source, message } = step.assert;
  return `check ${expr}  # runtime assert${source ? ` (${source})` : ''}${message !== undefined ? ` ${JSON.stringify(message)}` : ''}`;
}

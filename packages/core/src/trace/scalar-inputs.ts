// Runtime numbers (runtime-number.ts) used as scalar operands of tensor ops become *scalar graph inputs*,
// as Dynamo turns an unspecialized int into a SymInt placeholder: `x.mul(this.step)` records
// `mul(%x, %step)`, and the entry passes the number's current value when it runs. The graph then serves
// every value, so a step counter compiles at most twice (the first, specialized trace and this one).
//
// Promotion depends on the number's class, as for a Python int or float: an int32 tensor times an integer
// stays int32, times 0.5 becomes float32. The class is therefore guarded (an entry for ints, one for
// floats), and an int must fit int32, the width of a kernel parameter; an integer outside that range is
// specialized instead (correct, recompiles per value, as before).
import { SymFloat } from '@kiln/shapes';
import type { SymInt } from '@kiln/shapes';
import { placeholderName } from '../guards/names.js';
import type { FrameTracer } from './frame.js';
import type { NumberExpr, RuntimeNumber } from './runtime-number.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Scalar inputs of each trace, by the JS expression that computes them (one input per expression). */
const inputsOf = new WeakMap<FrameTracer, Map<string, SymInt | SymFloat>>();

/** The expression as JavaScript over the entry's roots: sources are the tracer's safe accessors. */
function exprToJs(e: NumberExpr, constant: (v: unknown) => string): string {
  switch (e.kind) {
    case 'source':
      return e.source;
    case 'const':
      // -0, NaN and the infinities do not survive String(); they go through the constant table.
      return Number.isFinite(e.value) && !Object.is(e.value, -0) ? `(${String(e.value)})` : constant(e.value);
    case 'op': {
      const [a, b] = e.args.map((x) => exprToJs(x, constant));
      return e.op === 'neg' ? `(-${a})` : `(${a} ${e.op} ${b})`;
    }
    default:
      return e satisfies never;
  }
}

// -0 is an integer to JavaScript but not to an int32 kernel parameter: passed as one it becomes 0 and
// `x.div(-0)` would give +Infinity where eager gives -Infinity. It is neither class, so it is specialized.
const isInt32 = (v: number): boolean => Number.isInteger(v) && !Object.is(v, -0) && v >= INT32_MIN && v <= INT32_MAX;

/**
 * The symbolic scalar that stands for `v` in a tensor op (a SymInt for an int32-range integer, a SymFloat
 * for any other non-integer), backed by a placeholder whose value the entry computes from `v`'s
 * expression. An integer outside int32 is specialized to its value.
 */
export function scalarGraphInput(tracer: FrameTracer, v: RuntimeNumber): SymInt | SymFloat | number {
  const isInt = isInt32(v.hint);
  if (!isInt && Number.isInteger(v.hint)) return tracer.specialize(v); // outside int32, or -0
  const js = exprToJs(v.expr, (c) => tracer.guards.constant(c));
  let inputs = inputsOf.get(tracer);
  if (!inputs) inputsOf.set(tracer, (inputs = new Map()));
  const known = inputs.get(js);
  if (known) return known;
  tracer.guards.add(
    isInt
      ? { code: `((v) => Number.isInteger(v) && !Object.is(v, -0) && v >= ${INT32_MIN} && v <= ${INT32_MAX})(${js})`, text: `${js} is an int32 integer (scalar graph input)`, kind: 'type' }
      : { code: `((v) => typeof v === "number" && !Number.isInteger(v))(${js})`, text: `${js} is a non-integer number (float scalar graph input)`, kind: 'type' },
  );
  const symbol = tracer.shapeEnv.createUnbacked({ origin: `scalar input ${js}` });
  const value = isInt ? symbol : new SymFloat(symbol.expr, tracer.shapeEnv, v.hint);
  tracer.inputSources.push(js);
  // Named as the user's number where it is one (`lr` for L['lr']), as tensor placeholders are.
  const name = v.expr.kind === 'source' ? placeholderName(tracer.userSource(js)) : `scalar${inputs.size}`;
  tracer.recorder.addScalarInput(value, name, js);
  inputs.set(js, value);
  return value;
}

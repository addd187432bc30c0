// Error of the wasm exp against float64 Math.exp, in float32 ulps of the exact result, over every float32
// input of a range taken by bit pattern (a stride of 1 is exhaustive). Shared by the exp accuracy test and
// the script that runs it exhaustively.
import { loop, type PointwiseKernel, type ReductionKernel } from '@kiln/lower';
import { Arena, compileKernels, type CompiledKernel } from '@kiln/backend-cpu';

const { acc, contiguous, load, sub, unary } = loop;
const ROW = 4096;
/** The largest finite float32 plus half an ulp: anything above rounds to +∞. */
const MAX_F32 = (2 - 2 ** -24) * 2 ** 127;
const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** 2^(e - 150) for each float32 exponent field e (subnormals share e = 1's spacing). */
const ULP_OF_EXPONENT = Float64Array.from({ length: 256 }, (_, e) => 2 ** (Math.max(e, 1) - 150));

/** One float32 ulp at |v|, from the exponent of v rounded to float32 (subnormal spacing 2^-149 below 2^-126). */
export function ulpAt(v: number): number {
  asFloat[0] = v;
  return ULP_OF_EXPONENT[(bits[0]! >>> 23) & 0xff]!;
}

/**
 * The exp kernel under test. `nonPositive`: softmax's exp(x - max x), as a row reduction whose rows start
 * with 0 (so the max is 0 and x - max is x itself, exactly); otherwise the general exp, as a pointwise kernel.
 */
export function expKernel(arena: Arena, nonPositive: boolean, inlineMath = true): CompiledKernel {
  const x = load('x', contiguous([1, ROW]));
  const kernel: ReductionKernel | PointwiseKernel = nonPositive
    ? {
        kind: 'reduction', name: 'exp_sweep', params: [], inputs: [{ name: 'x', dtype: 'float32' }], outputs: [{ name: 'y', dtype: 'float32' }],
        outer: [1], reduce: [ROW], stages: [{ type: 'max', prologue: x }],
        stores: [{ buffer: 'y', scope: 'full', access: contiguous([1, ROW]), value: unary('exp', sub(x, acc(0))) }],
      }
    : {
        kind: 'pointwise', name: 'exp_sweep', params: [], inputs: [{ name: 'x', dtype: 'float32' }], outputs: [{ name: 'y', dtype: 'float32' }],
        sizes: [1, ROW], stores: [{ buffer: 'y', access: contiguous([1, ROW]), value: unary('exp', x) }],
      };
  return compileKernels([kernel], arena, { inlineMath }).kernels.get('exp_sweep')!;
}

export interface SweepResult {
  /** Worst error in ulps of the exact result, and the input where it happened. */
  maxUlp: number;
  worstInput: number;
  /** Worst error among results below 2^-126 (subnormal), in units of 2^-149. */
  maxSubnormalUlp: number;
  /** How many inputs were checked, and how many of them gave subnormal results. */
  count: number;
  subnormals: number;
}

/**
 * Runs the kernel on every `stride`-th float32 bit pattern from `fromBits` to `toBits` (inclusive) and
 * compares each result with Math.exp in float64. For the non-positive kernel every row starts with 0.
 */
export function sweepExp(kernel: CompiledKernel, arena: Arena, fromBits: number, toBits: number, stride: number, nonPositive: boolean): SweepResult {
  const px = arena.alloc(ROW * 4);
  const py = arena.alloc(ROW * 4);
  const r: SweepResult = { maxUlp: 0, worstInput: NaN, maxSubnormalUlp: 0, count: 0, subnormals: 0 };
  const input = new Float32Array(ROW);
  const step = stride * (fromBits <= toBits ? 1 : -1);
  let b = fromBits;
  const more = () => (step > 0 ? b <= toBits : b >= toBits);
  while (more()) {
    let n = nonPositive ? 1 : 0;
    input[0] = 0;
    for (; n < ROW && more(); n++, b += step) {
      bits[0] = b;
      input[n] = asFloat[0]!;
    }
    input.fill(input[n - 1]!, n); // pad a short last row with a value already checked
    arena.view('float32', px, ROW).set(input);
    kernel.call({ x: px, y: py });
    const got = arena.view('float32', py, ROW) as Float32Array;
    for (let i = nonPositive ? 1 : 0; i < n; i++) {
      const exact = Math.exp(input[i]!);
      // above float32's range the only right answer is +∞
      const err = exact > MAX_F32 ? (got[i] === Infinity ? 0 : Infinity) : Math.abs(got[i]! - exact) / ulpAt(exact);
      r.count++;
      if (exact < 2 ** -126) {
        r.subnormals++;
        if (err > r.maxSubnormalUlp) r.maxSubnormalUlp = err;
      }
      if (err > r.maxUlp) {
        r.maxUlp = err;
        r.worstInput = input[i]!;
      }
    }
  }
  arena.release(px);
  arena.release(py);
  return r;
}

/** The bit pattern of a float32. */
export function f32Bits(v: number): number {
  asFloat[0] = v;
  return bits[0]!;
}

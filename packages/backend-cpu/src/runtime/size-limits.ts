// The int32 range of the wasm kernels, checked before every kernel call. Kernels count, index and add
// addresses in i32 (wasm SIMD addresses are 32-bit and V8's i64 arithmetic costs registers in every loop),
// so a size past 2³¹ would wrap silently: `ones([1]).expand([n, n]).sum()` with n = 46341 summed one
// element. The arena keeps every byte address below 2³¹ (ARENA_MAX_BYTES), so in-bounds accesses fit;
// what is left to check is what no buffer bounds: iteration spaces (an expand view costs no memory), size
// arithmetic (a `(n * n) // m` wraps before it divides) and parameter values. A kernel that cannot run in
// range is not run: the program raises KernelSizeLimitError and the backend runs the call eagerly.
import type { Kernel, SizeExpr } from '@kiln/lower';
import { SIZE_OPS, evalSize, printSize, sizeProduct } from '@kiln/lower';
import { KilnError } from '@kiln/tensor';

/**
 * The largest magnitude a kernel's size values may take: i32's maximum less a margin, because vector loops
 * step their counter by up to 8 past the last full group before comparing it with the end.
 */
export const KERNEL_INT32_LIMIT = 2 ** 31 - 1024;

/** A kernel whose sizes, for this call, do not fit the i32 arithmetic of the wasm kernels. */
export class KernelSizeLimitError extends KilnError {
  constructor(
    readonly kernel: string,
    /** The size expression that is out of range, as printed (`(s0 * s0)`). */
    readonly size: string,
    readonly value: number,
  ) {
    super(
      `backend-cpu, kernel ${kernel}: ${size} = ${value} is beyond the int32 range of the wasm kernels (|value| ≤ ${KERNEL_INT32_LIMIT})`,
      'such calls run with the eager kernels instead (slower, same result); split the work into pieces below 2^31 elements to keep them compiled',
    );
  }
}

/** What to check before a kernel runs: its sizes that depend on parameters, and whether a static one is out of range. */
export interface KernelSizeCheck {
  readonly kernel: string;
  readonly symbolic: readonly SizeExpr[];
  /** A size with no parameters that is already out of range: the kernel can never run. */
  readonly staticOverflow?: { readonly size: string; readonly value: number };
}

const isSizeNode = (o: object): o is Exclude<SizeExpr, number> =>
  !('kind' in o) && (('param' in o && Object.keys(o).length === 1) || ('op' in o && 'a' in o && 'b' in o && (SIZE_OPS as readonly unknown[]).includes((o as { op: unknown }).op)));

/** The iteration spaces of a kernel (every loop counter and flat index stays below their product). */
function iterationSpaces(k: Kernel): SizeExpr[] {
  switch (k.kind) {
    case 'pointwise':
      return [sizeProduct(k.sizes)];
    case 'reduction':
      return [sizeProduct([...k.outer, ...k.reduce])];
    case 'extern':
      return [sizeProduct([...k.batch, k.m, k.n]), k.k];
    default:
      return k satisfies never;
  }
}

/**
 * Every size expression in a kernel (each is checked with all its sub-expressions: i32 `+ - *` wrap
 * harmlessly only when the end result is in range; a division, min, max or comparison of a wrapped value
 * does not), plus the iteration spaces. Walks the kernel as data, so a new kernel kind or field is covered
 * without a change here.
 */
export function kernelSizeCheck(k: Kernel): KernelSizeCheck {
  const seen = new Set<object>();
  const found = new Map<string, SizeExpr>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (isSizeNode(node)) {
      found.set(printSize(node), node);
      return;
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(k);
  const symbolic = [...found.values()];
  for (const space of iterationSpaces(k)) {
    if (typeof space !== 'number') symbolic.push(space);
    else if (Math.abs(space) > KERNEL_INT32_LIMIT) return { kernel: k.name, symbolic, staticOverflow: { size: 'its iteration space', value: space } };
  }
  return { kernel: k.name, symbolic };
}

/** Evaluates `e` (as evalSize does), raising at the first node whose value is out of the i32 range. */
function evalInRange(kernel: string, e: SizeExpr, params: Readonly<Record<string, number>>): number {
  if (typeof e === 'number') return e;
  // A binary node is folded by evalSize over its operands' values, so both agree on floordiv/mod.
  const value = evalSize('param' in e ? e : { op: e.op, a: evalInRange(kernel, e.a, params), b: evalInRange(kernel, e.b, params) }, params);
  if (!(Math.abs(value) <= KERNEL_INT32_LIMIT)) throw new KernelSizeLimitError(kernel, printSize(e), value);
  return value;
}

/** Raises KernelSizeLimitError when a size of the kernel is out of the i32 range for these parameters. */
export function checkKernelSizes(check: KernelSizeCheck, params: Readonly<Record<string, number>>): void {
  if (check.staticOverflow) throw new KernelSizeLimitError(check.kernel, check.staticOverflow.size, check.staticOverflow.value);
  for (const e of check.symbolic) evalInRange(check.kernel, e, params);
}

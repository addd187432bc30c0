// Random kernels against the reference interpreter: random shapes (0, 1, odd sizes), random views (permuted,
// broadcast, stepped, offset accesses), random expression trees over float32, int32 and bool, pointwise and
// reduction. A failure prints the kernel, so it can be turned into a hand-written case.
import { suite } from 'uvu';
import { printKernel, type Access, type BinaryOp, type Kernel, type LoopDType, type ReductionType, type SizeExpr, type UnaryOp, type ValueExpr, loop } from '@kiln/lower';
import type { TypedArray } from '@kiln/backend-cpu';
import { assertClose, random, randInt, randomArray, runBoth } from './helpers.js';

const { acc, binary, cast, constant, contiguous, load, unary, where } = loop;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** A random access over `sizes` into a fresh buffer; returns the access and the buffer length it needs. */
function randomAccess(sizes: number[]): { access: Access; numel: number } {
  const order = sizes.map((_, i) => i).sort(() => random() - 0.5);
  const strides: number[] = new Array(sizes.length).fill(0);
  let step = pick([1, 1, 1, 2]);
  for (const axis of [...order].reverse()) {
    if (random() < 0.2) continue; // broadcast along this axis
    strides[axis] = step;
    step *= Math.max(sizes[axis]!, 1) + pick([0, 0, 1]);
  }
  const offset = pick([0, 0, 3]);
  const last = sizes.reduce((s, n, i) => s + Math.max(n - 1, 0) * strides[i]!, offset);
  return { access: { offset, strides }, numel: sizes.some((n) => n === 0) ? offset : last + 1 };
}

interface Built {
  inputs: { name: string; dtype: LoopDType }[];
  arrays: Record<string, TypedArray>;
}

const FLOAT_UNARY: UnaryOp[] = ['neg', 'abs', 'exp', 'tanh', 'sigmoid', 'sin', 'floor', 'relu', 'erf'];
// Arg-reductions compare indices, and an index is only as stable as the values it ranks: the kernels'
// transcendentals may be 1 ulp off the reference's Math functions, so a near-tie can rank the other way and
// return another, equally right, index. Their prologues keep to ops that are exact in both (the
// transcendentals' accuracy has its own tests: exp-accuracy, math).
const EXACT_FLOAT_UNARY: UnaryOp[] = ['neg', 'abs', 'floor', 'relu'];
const FLOAT_BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'max', 'min'];
const INT_BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'max', 'min', 'and', 'xor'];

function randomValue(dtype: LoopDType, depth: number, rank: number, sizes: number[], b: Built, floatUnary = FLOAT_UNARY): ValueExpr {
  const leaf = (): ValueExpr => {
    if (random() < 0.15) return dtype === 'bool' ? constant(random() < 0.5 ? 1 : 0, 'bool') : constant(dtype === 'int32' ? randInt(-5, 5) : random() * 4 - 2, dtype);
    const name = `in${b.inputs.length}`;
    const { access, numel } = randomAccess(sizes);
    b.inputs.push({ name, dtype });
    b.arrays[name] = randomArray(dtype, numel);
    return load(name, access);
  };
  if (depth === 0 || random() < 0.25) return leaf();
  const sub = (d: LoopDType) => randomValue(d, depth - 1, rank, sizes, b, floatUnary);
  if (dtype === 'bool') {
    const t = pick<LoopDType>(['float32', 'int32']);
    return random() < 0.7 ? binary(pick<BinaryOp>(['lt', 'ge', 'eq', 'ne']), sub(t), sub(t)) : unary('not', sub('bool'));
  }
  const r = random();
  if (r < 0.15) return where(sub('bool'), sub(dtype), sub(dtype));
  if (r < 0.25) return cast(dtype, sub(dtype === 'float32' ? pick<LoopDType>(['int32', 'bool']) : pick<LoopDType>(['float32', 'bool'])));
  if (dtype === 'float32' && r < 0.5) return unary(pick(floatUnary), sub('float32'));
  if (dtype === 'int32' && r < 0.35) return unary(pick<UnaryOp>(['neg', 'abs', 'sign']), sub('int32'));
  return binary(pick(dtype === 'float32' ? FLOAT_BINARY : INT_BINARY), sub(dtype), sub(dtype));
}

const randomSizes = (rank: number) => Array.from({ length: rank }, () => pick([0, 1, 1, 2, 3, 4, 5, 7, 8, 9, 13, 17]));

function check(kernel: Kernel, built: Built, outputs: Record<string, number>, tol: number, params: Record<string, number> = {}): void {
  try {
    const { got, want } = runBoth(kernel, built.arrays, outputs, params);
    for (const name of Object.keys(outputs)) assertClose(got[name]!, want[name]!, tol, tol, name);
  } catch (e) {
    (e as Error).message += `\n${printKernel(kernel)}`;
    throw e;
  }
}

const Random = suite('random kernels vs the reference');

Random('pointwise: 150 random expression trees over random views', () => {
  for (let trial = 0; trial < 150; trial++) {
    const rank = randInt(0, 3);
    const sizes = randomSizes(rank);
    const dtype = pick<LoopDType>(['float32', 'float32', 'int32', 'bool']);
    const built: Built = { inputs: [], arrays: {} };
    const value = randomValue(dtype, 3, rank, sizes, built);
    const numel = sizes.reduce((a, n) => a * n, 1);
    const symbolic = random() < 0.3;
    const names = sizes.map((_, i) => `s${i}`);
    const kernelSizes: SizeExpr[] = symbolic ? names.map((param) => ({ param })) : sizes;
    const kernel: Kernel = {
      kind: 'pointwise', name: `rand${trial}`, params: symbolic ? names : [], inputs: built.inputs,
      outputs: [{ name: 'out', dtype }], sizes: kernelSizes,
      stores: [{ buffer: 'out', access: contiguous(kernelSizes), value }],
    };
    // loads use concrete strides; with symbolic sizes only the loop bounds (and the output) are symbolic
    check(kernel, built, { out: numel }, 2e-5, symbolic ? Object.fromEntries(names.map((n, i) => [n, sizes[i]!])) : {});
  }
});

Random('reductions: random prologues and epilogues, random reduced axes', () => {
  for (let trial = 0; trial < 100; trial++) {
    const nOuter = randInt(0, 2), nReduce = randInt(1, 2);
    const sizes = randomSizes(nOuter + nReduce);
    // every fifth trial: a wide last outer axis, so the 64-outputs-per-step loop of across-outer runs too
    if (trial % 5 === 0 && nOuter > 0) sizes[nOuter - 1] = randInt(60, 140);
    const type = pick<ReductionType>(['sum', 'max', 'min', 'argmax', 'argmin', 'sum']);
    const built: Built = { inputs: [], arrays: {} };
    const isArg = type === 'argmax' || type === 'argmin';
    const prologue = randomValue('float32', 2, sizes.length, sizes, built, isArg ? EXACT_FLOAT_UNARY : FLOAT_UNARY);
    const outer = sizes.slice(0, nOuter);
    const epilogue = isArg ? acc(0) : pick([acc(0), unary('tanh', acc(0)), binary('mul', acc(0), constant(0.5))]);
    const kernel: Kernel = {
      kind: 'reduction', name: `rred${trial}`, params: [], inputs: built.inputs,
      outputs: [{ name: 'out', dtype: isArg ? 'int32' : 'float32' }], outer, reduce: sizes.slice(nOuter),
      stages: [{ type, prologue }], stores: [{ buffer: 'out', scope: 'outer', access: contiguous(outer), value: epilogue }],
    };
    // an empty reduction yields its identity (±inf for max/min, 0 for sum and for arg-reductions)
    check(kernel, built, { out: outer.reduce((a, n) => a * n, 1) }, 1e-4);
  }
});

Random.run();

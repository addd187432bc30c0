// The loop IR: what lowering produces and every backend consumes. It is plain data (no classes, no
// closures) so that it prints, compares and serialises without help, and it names nothing about the target:
// no lanes, registers or workgroups. A backend decides how to vectorise or parallelise a kernel.
//
// A kernel reads input buffers and writes output buffers. Every access is affine in the kernel's loop
// indices: `offset + Σ index_i * stride_i`. Views (transpose, slice, expand/broadcast, unsqueeze) are thus
// index arithmetic on the producer's buffer and never copies; a broadcast axis has stride 0.

/**
 * Element types. `bool` is stored as one byte per element (0 or 1), matching `@kiln/tensor`'s Uint8Array
 * storage so buffers cross without conversion. `float64` is accepted in the IR; backends may reject it.
 */
export const LOOP_DTYPES = ['float32', 'int32', 'bool', 'float64'] as const;
export type LoopDType = (typeof LOOP_DTYPES)[number];

export const BYTES_PER_ELEMENT: Record<LoopDType, number> = { float32: 4, int32: 4, bool: 1, float64: 8 };

// ---------------------------------------------------------------------------------------------------------
// Sizes: integers known at compile time, or integer kernel parameters bound at call time.

/** A named integer kernel parameter, e.g. a symbolic size `s0`. Names must match `/^[a-z_][a-z0-9_]*$/i`. */
export interface SizeParam {
  readonly param: string;
}

export const SIZE_OPS = ['add', 'sub', 'mul', 'floordiv', 'mod', 'max', 'min'] as const;
export type SizeOp = (typeof SIZE_OPS)[number];

export interface SizeBinary {
  readonly op: SizeOp;
  readonly a: SizeExpr;
  readonly b: SizeExpr;
}

/** An integer expression over kernel parameters: sizes, strides and offsets are all `SizeExpr`s. */
export type SizeExpr = number | SizeParam | SizeBinary;

// ---------------------------------------------------------------------------------------------------------
// Buffers and affine accesses.

/** A kernel argument. Names are identifiers used only for printing and binding, never embedded in code. */
export interface BufferDecl {
  readonly name: string;
  readonly dtype: LoopDType;
}

/**
 * An affine access into a buffer: element `offset + Σ strides[i] * index[i]`, where `index` runs over the
 * kernel's iteration axes (for reductions: the outer axes, then the reduction axes). `strides.length`
 * equals the number of iteration axes; stride 0 broadcasts along that axis.
 */
export interface Access {
  readonly offset: SizeExpr;
  readonly strides: readonly SizeExpr[];
}

// ---------------------------------------------------------------------------------------------------------
// Value expressions: the per-element computation, a tree over loads, constants and the loop indices.

export const UNARY_OPS = [
  'neg', 'abs', 'sqrt', 'rsqrt', 'reciprocal', 'exp', 'log', 'tanh', 'sigmoid', 'erf', 'sin', 'cos',
  'floor', 'ceil', 'round', 'trunc', 'sign', 'relu', 'not', 'log1p', 'expm1',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/**
 * `floordiv` and `mod` follow Python/PyTorch: `floor(a / b)` and `a - floor(a / b) * b` (the result takes the
 * sign of b). For int32, division by zero yields 0 rather than trapping; eager raises, so lowering should
 * guard or fall back where that matters.
 */
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'floordiv', 'mod', 'max', 'min', 'pow', 'atan2',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Comparisons produce `bool` whatever their operand dtype. */
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export type ValueExpr =
  | { readonly kind: 'load'; readonly buffer: string; readonly access: Access }
  | { readonly kind: 'const'; readonly value: number; readonly dtype: LoopDType }
  /** The loop index along iteration axis `axis`, as int32 (arange, masks such as tril). */
  | { readonly kind: 'index'; readonly axis: number }
  /** A size expression over the kernel's parameters as an int32 value (`x.div(x.shape[1])` with a symbolic dim). */
  | { readonly kind: 'size'; readonly value: SizeExpr }
  /**
   * A float32 kernel parameter (a float scalar graph input such as an automatic-dynamic `lr`). It shares the
   * i32 parameter slots with the sizes and travels as its float32 bit pattern, so kernel signatures stay
   * all-i32; the backend reinterprets it.
   */
  | { readonly kind: 'floatParam'; readonly param: string }
  /**
   * An indirect load (gather, indexSelect, embedding): the element of `buffer` at `access` plus
   * `position * stride`, where `position` is an int32 value computed per element (a read of an index
   * tensor). Lowering checks every position against its extent before the kernel runs (a `check` step of
   * the program), so a backend loads without a bounds check of its own.
   */
  | { readonly kind: 'gather'; readonly buffer: string; readonly access: Access; readonly position: ValueExpr; readonly stride: SizeExpr }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly x: ValueExpr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly a: ValueExpr; readonly b: ValueExpr }
  | { readonly kind: 'where'; readonly cond: ValueExpr; readonly a: ValueExpr; readonly b: ValueExpr }
  | { readonly kind: 'cast'; readonly dtype: LoopDType; readonly x: ValueExpr }
  /**
   * A finished reduction value: in a reduction kernel, the result of stage `stage` for the current outer
   * index; in a matmul epilogue, stage 0 is the product element.
   */
  | { readonly kind: 'acc'; readonly stage: number };

// ---------------------------------------------------------------------------------------------------------
// Kernels.

/** Writes `value` (evaluated over the kernel's iteration space) to `buffer` at `access`. */
export interface KernelOutput {
  readonly buffer: string;
  readonly access: Access;
  readonly value: ValueExpr;
}

/** One output element per point of `sizes`; several outputs may share the loop (horizontal fusion). */
export interface PointwiseKernel {
  readonly kind: 'pointwise';
  readonly name: string;
  readonly params: readonly string[];
  readonly inputs: readonly BufferDecl[];
  readonly outputs: readonly BufferDecl[];
  readonly sizes: readonly SizeExpr[];
  readonly stores: readonly KernelOutput[];
}

export const REDUCTION_TYPES = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as const;
export type ReductionType = (typeof REDUCTION_TYPES)[number];

/**
 * One reduction over the reduction axes, per outer index. `prologue` is evaluated over outer ++ reduce
 * axes and may read the results of earlier stages (`acc`), which is how softmax's `exp(x - max)` fuses.
 * argmax/argmin yield the int32 flat index into the reduction axes (first occurrence wins).
 */
export interface ReductionStage {
  readonly type: ReductionType;
  readonly prologue: ValueExpr;
}

/**
 * A reduction kernel runs its stages in order for each point of `outer`, then its stores. A store's
 * `scope` says which space it is evaluated over: `outer` (one element per outer point: the reduced result
 * with a pointwise epilogue) or `full` (outer ++ reduce: a pointwise pass that reads the reductions, e.g.
 * softmax's `exp(x - max) / sum`). Store accesses have strides over the axes of their scope.
 * Outputs must not alias inputs: a backend may use an output row as scratch between stages.
 */
export interface ReductionKernel {
  readonly kind: 'reduction';
  readonly name: string;
  readonly params: readonly string[];
  readonly inputs: readonly BufferDecl[];
  readonly outputs: readonly BufferDecl[];
  readonly outer: readonly SizeExpr[];
  readonly reduce: readonly SizeExpr[];
  readonly stages: readonly ReductionStage[];
  readonly stores: readonly (KernelOutput & { readonly scope: 'outer' | 'full' })[];
}

/** An operand of an extern matmul: element (b, i, j) at `offset + Σ batch_b*batchStrides_b + i*rowStride + j*colStride`. */
export interface MatrixOperand {
  readonly buffer: string;
  readonly offset: SizeExpr;
  readonly batchStrides: readonly SizeExpr[];
  readonly rowStride: SizeExpr;
  readonly colStride: SizeExpr;
}

/**
 * `out[b, i, j] = epilogue(Σ_k a[b, i, k] * b[b, k, j])`. The epilogue is a pointwise expression over the
 * axes (batch..., m, n) in which `{ kind: 'acc', stage: 0 }` is the product element; it fuses bias and
 * activation (`relu(acc + bias[j])`). The output is contiguous, shape (batch..., m, n).
 */
export interface MatmulKernel {
  readonly kind: 'extern';
  readonly op: 'matmul';
  readonly name: string;
  readonly params: readonly string[];
  readonly inputs: readonly BufferDecl[];
  readonly outputs: readonly BufferDecl[];
  readonly batch: readonly SizeExpr[];
  readonly m: SizeExpr;
  readonly n: SizeExpr;
  readonly k: SizeExpr;
  readonly a: MatrixOperand;
  readonly b: MatrixOperand;
  readonly out: string;
  readonly epilogue?: ValueExpr;
}

export type ExternKernel = MatmulKernel;
export type Kernel = PointwiseKernel | ReductionKernel | ExternKernel;

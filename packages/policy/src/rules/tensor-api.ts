/**
 * The rest of `@kiln/tensor`'s public API: functions that are not ops and so never go in a graph. Each is
 * classified explicitly, so the audit can tell "decided" from "forgotten". `inline` entries are pure helpers
 * over shapes and dtypes (they run on symbolic sizes); `skip` entries touch data, global state or the
 * registry and run eagerly at a graph break.
 */
export interface FunctionRule {
  readonly name: string;
  readonly kind: 'inline' | 'skip';
  /** Why, as the end of a sentence: "skipped: <name> <why>". */
  readonly why: string;
}

const inline = (path: string, why: string): FunctionRule => ({ name: `@kiln/tensor#${path}`, kind: 'inline', why });
const skip = (path: string, why: string): FunctionRule => ({ name: `@kiln/tensor#${path}`, kind: 'skip', why });

const SHAPE_HELPER = 'is a pure helper over shapes and sizes, so it is traced (it works on symbolic sizes)';
const DTYPE_HELPER = 'is a pure helper over dtypes, so it is traced';
const ERROR_CLASS = 'constructs an error; a throw in traced code is a graph break anyway';
const REGISTRY = 'reads or changes the op registry or the dispatch mode, which only Kiln itself may do';
const METADATA = 'reads tensor metadata only, so it is traced (it works on fake tensors)';
const FAKE = "Kiln's own tracing machinery (tensors with metadata only); compiled code never constructs it";
const READS_DATA = 'reads tensor data, which fake tensors do not have; it runs eagerly at a graph break';
const DEVICE = 'moves tensors between devices or reads a device back (asynchronously), which the tracer does not model; it runs eagerly at a graph break';
const AUTOGRAD = 'reads or changes autograd state (the tape, grad mode), which the tracer does not model; it runs eagerly at a graph break and the eager tape carries across';

export const TENSOR_API_RULES: readonly FunctionRule[] = [
  // classes
  skip('Tensor', 'constructs a Tensor from a storage; use the creation ops (tensor, zeros, …) in compiled code'),
  skip('Tensor.fromData', 'wraps a typed array; use tensor() in compiled code so the data becomes a graph constant'),
  skip('Tensor.empty', 'allocates uninitialized storage; use zeros() or full() in compiled code'),
  skip('Storage', 'owns raw data buffers, which fake tensors do not have'),
  skip('allocate', 'allocates a raw typed array, which fake tensors do not have; use zeros() or full() in compiled code'),
  skip('copyElements', 'copies a raw typed array, which fake tensors do not have; use clone() in compiled code'),
  skip('Generator', 'constructs a random generator; create it outside the compiled function and pass it in'),
  skip('KilnError', ERROR_CLASS), skip('KilnTypeError', ERROR_CLASS), skip('ShapeError', ERROR_CLASS),
  skip('IndexError', ERROR_CLASS), skip('ValueError', ERROR_CLASS), skip('ViewError', ERROR_CLASS), skip('DisposedTensorError', ERROR_CLASS),
  skip('AutogradError', ERROR_CLASS),
  // autograd
  skip('noGrad', AUTOGRAD), skip('enableGrad', AUTOGRAD), skip('isGradEnabled', AUTOGRAD), skip('GradNode', AUTOGRAD), skip('edgeOf', AUTOGRAD),
  skip('Tensor.prototype.backward', AUTOGRAD), skip('Tensor.prototype.detach', AUTOGRAD),
  skip('Tensor.prototype.requiresGrad', AUTOGRAD), skip('Tensor.prototype.requiresGrad_', AUTOGRAD),
  skip('Tensor.prototype.retainGrad', AUTOGRAD), skip('Tensor.prototype.isLeaf', AUTOGRAD),
  skip('grad', AUTOGRAD), skip('valueAndGrad', AUTOGRAD), skip('vjp', AUTOGRAD), skip('jvp', AUTOGRAD),
  skip('derivativeKind', REGISTRY), inline('sumToShape', 'sums a gradient back to a shape with tensor ops, so it is traced'),
  skip('FakeTensor', FAKE), skip('FakeStorage', FAKE), skip('FakeTensorMode', FAKE), skip('materializeMeta', FAKE),
  skip('FakeTensorError', ERROR_CLASS),
  // global state
  skip('manualSeed', 'reseeds the global random generator (global state); call it before the compiled function'),
  // the registry and dispatch
  skip('defineOp', REGISTRY), skip('getOp', REGISTRY), skip('allOps', REGISTRY), skip('isBuiltinOp', REGISTRY), skip('listOps', REGISTRY),
  skip('withDispatchMode', REGISTRY), skip('currentDispatchMode', REGISTRY), skip('runEager', REGISTRY),
  skip('normalizeArgs', REGISTRY), skip('formatSchema', REGISTRY),
  // pure helpers
  inline('isDType', DTYPE_HELPER), inline('promoteTypes', DTYPE_HELPER), inline('resultType', DTYPE_HELPER),
  inline('isFloating', DTYPE_HELPER),
  inline('contiguousStridesOf', SHAPE_HELPER), inline('contiguousStrides', SHAPE_HELPER), inline('hasContiguousStrides', SHAPE_HELPER),
  inline('broadcastShapes', SHAPE_HELPER), inline('normalizeDim', SHAPE_HELPER), inline('numelOf', SHAPE_HELPER),
  inline('isStaticShape', SHAPE_HELPER), inline('isSymbolic', SHAPE_HELPER), inline('fmtShape', SHAPE_HELPER),
  inline('viewStrides', SHAPE_HELPER),
  inline('sizeAdd', SHAPE_HELPER), inline('sizeSub', SHAPE_HELPER), inline('sizeMul', SHAPE_HELPER),
  inline('sizeFloorDiv', SHAPE_HELPER), inline('sizeMin', SHAPE_HELPER), inline('sizeMax', SHAPE_HELPER),
  inline('sizeEq', SHAPE_HELPER), inline('sizeLt', SHAPE_HELPER), inline('sizeLe', SHAPE_HELPER),
  // Tensor members that are not ops
  inline('Tensor.prototype.ndim', METADATA), inline('Tensor.prototype.numel', METADATA),
  inline('Tensor.prototype.isContiguous', METADATA),
  skip('Tensor.prototype.toArray', READS_DATA), skip('Tensor.prototype.toTypedArray', READS_DATA),
  skip('Tensor.prototype.toString', READS_DATA),
  skip('Tensor.prototype.dispose', 'gives a tensor\'s bytes back to their owner (a backend\'s memory), which the tracer does not model; it runs eagerly at a graph break'),
  skip('Tensor.prototype.data', DEVICE), skip('Tensor.prototype.array', DEVICE), skip('Tensor.prototype.cpu', DEVICE),
  skip('Tensor.prototype.toDevice', DEVICE), skip('isDeviceName', DEVICE), skip('isHostDevice', DEVICE), skip('registerDevice', REGISTRY),
  // a fake tensor's storage is on the CPU whatever the real tensor's device: reading it eagerly is never wrong
  skip('Tensor.prototype.device', "reads the device of the tensor's storage, which fake tensors do not model; it runs eagerly at a graph break"),
  skip('writeBack', "writes a compiled call's result into an argument (moving it to the result's device); core replays it after the call"),
  skip('syncReadError', ERROR_CLASS),
];

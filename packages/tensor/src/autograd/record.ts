// The autograd layer: every op call passes through `recordOp` (installed in the registry) before it runs.
// With no input requiring grad it only notes views; otherwise it runs the op below autograd, then records
// a node on the tape that holds the op's inputs and outputs for its derivative.
import { isFloating } from '../dtype.js';
import { AutogradError, KilnTypeError } from '../errors.js';
import type { OpDef } from '../registry/registry.js';
import { dispatchBelowAutograd, setAutogradLayer } from '../registry/registry.js';
import { Tensor } from '../tensor.js';
import { isGradEnabled, withGradMode } from './grad-mode.js';
import { OpNode } from './node.js';
import { checkInplaceOnView, rebaseAfterInplaceOnView, refreshView, trackView } from './views.js';

/** Whether any tensor argument requires grad; brings stale views up to date on the way. */
// Indexed loops: this runs on every eager op, and for-of over arguments cost measurably more here.
function anyRequiresGrad(args: readonly unknown[]): boolean {
  let any = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof Tensor) {
      if (a.viewOf !== null) refreshView(a);
      any ||= a.requiresGrad;
    } else if (Array.isArray(a)) {
      for (let j = 0; j < a.length; j++) {
        const x: unknown = a[j];
        if (x instanceof Tensor) {
          if (x.viewOf !== null) refreshView(x);
          any ||= x.requiresGrad;
        }
      }
    }
  }
  return any;
}

/** The tensors an op returned, in order (a multi-output op returns an array, `max(x, dim)` a named one). */
function tensorOutputs(out: unknown): (Tensor | null)[] {
  if (out instanceof Tensor) return [out];
  if (Array.isArray(out)) return out.map((t) => (t instanceof Tensor ? t : null));
  return [];
}

export function recordOp(op: OpDef, args: unknown[]): unknown {
  const rg = op.requiresGradArg;
  if (rg >= 0 && args[rg] === true) return (dispatchBelowAutograd(op, args) as Tensor).requiresGrad_();
  if (!isGradEnabled()) return dispatchBelowAutograd(op, args);
  const needsGrad = anyRequiresGrad(args);
  if (op.mutatesSelf) return needsGrad ? recordInplace(op, args) : dispatchBelowAutograd(op, args);
  if (!needsGrad || op.derivative === 'nonDifferentiable') {
    const out = dispatchBelowAutograd(op, args);
    // Only view ops return tensors over their input's storage (`to` of the same dtype returns the input itself).
    if (op.category === 'view') trackView(op, args, out);
    return out;
  }
  // A composite without its own formula is differentiated through its decomposition: each op in it records itself.
  if (op.derivative === undefined && op.decompose) return op.decompose(args);
  const out = withGradMode(false, () => dispatchBelowAutograd(op, args));
  const outputs = tensorOutputs(out);
  // An op that returns its input itself (`contiguous()` of contiguous data) adds nothing to the history.
  if (outputs.length === 1 && outputs[0] === args[0]) return out;
  const differentiable = outputs.map((t) => (t !== null && isFloating(t.dtype) ? t : null));
  if (differentiable.every((t) => t === null)) return out;
  const node = new OpNode(op, args, outputs, op.derivative);
  differentiable.forEach((t, i) => {
    if (t === null) return;
    t.gradFn = node;
    t.outputNr = i;
  });
  if (op.category === 'view') trackView(op, args, out);
  return out;
}

function recordInplace(op: OpDef, args: unknown[]): unknown {
  const self = args[0] as Tensor;
  if (self.leafRequiresGrad) {
    throw new AutogradError(
      `${op.name}: a leaf tensor that requires grad is being used in an in-place operation`,
      'update parameters under noGrad() (optimizers do), or clone() the leaf first',
    );
  }
  if (!isFloating(self.dtype)) {
    throw new KilnTypeError(`${op.name}: cannot write a value that requires grad into a ${self.dtype} tensor (its gradient would be lost)`, 'convert self to a float dtype first');
  }
  if (self.viewOf !== null) checkInplaceOnView(self, op.name);
  // The derivative reads self as it was before the write: a lazy copy, which the write itself turns real.
  const before = new Tensor(self.storage.cowClone(), self.shape, self.strides, self.offset, self.dtype);
  before.gradFn = self.gradFn;
  before.outputNr = self.outputNr;
  const inputs = [before, ...args.slice(1)];
  withGradMode(false, () => dispatchBelowAutograd(op, args));
  const node = new OpNode(op, inputs, [self], op.derivative);
  if (self.viewOf !== null) {
    rebaseAfterInplaceOnView(self, node);
  } else {
    self.gradFn = node;
    self.outputNr = 0;
  }
  return self;
}

setAutogradLayer(recordOp);

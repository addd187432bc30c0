// The optimizer base class, as torch.optim.Optimizer: parameter groups with their own hyperparameters,
// per-parameter state, zeroGrad(), and step() updating the parameters in place (without recording).
import { KilnTypeError, Tensor, ValueError, noGrad } from '@kiln/tensor';

/** Per-parameter state: momentum buffers, moment estimates, step counts. */
export type ParamState = Record<string, Tensor | number>;

/**
 * The key under which a library function names its traced form (a global symbol, so this package needs no
 * compiler import): compile() traces `fn[TRACED_FORM]` wherever `fn` is called, and traces into a function
 * whose traced form is itself. The traced forms here use only tensor ops (in place on the parameters and the
 * state), array loops and field reads and writes, so an optimizer step becomes part of the compiled program.
 */
export const TRACED_FORM: unique symbol = Symbol.for('kiln.tracedForm') as never;

export function setTracedForm(fn: Function, traced: Function = fn): void {
  Object.defineProperty(fn, TRACED_FORM, { value: traced });
}

/** A group of parameters sharing hyperparameters; options left out take the optimizer's defaults. */
export type ParamGroup<O> = { params: readonly Tensor[] } & Partial<O>;

/** What optimizers take: a list of tensors, or a list of parameter groups. */
export type Params<O> = readonly Tensor[] | readonly ParamGroup<O>[];

export abstract class Optimizer<O extends object> {
  /** The groups with every option filled in (change `lr` here to schedule it, as in PyTorch). */
  readonly paramGroups: ({ params: readonly Tensor[] } & O)[];
  /** Per-parameter state (momentum buffers, moment estimates, step counts). */
  /**
   * The state records by group and position (undefined before a parameter's first update): where both
   * steps keep them, since compiled code cannot look a tensor up in a Map (`state` is a Map view of them).
   */
  readonly stateSlots: (ParamState | undefined)[][];

  /** Per-parameter state as torch.optim shows it: a Map from each updated parameter to its record. */
  get state(): Map<Tensor, ParamState> {
    const out = new Map<Tensor, ParamState>();
    this.paramGroups.forEach((group, g) => group.params.forEach((p, i) => this.stateSlots[g]![i] && out.set(p, this.stateSlots[g]![i]!)));
    return out;
  }

  protected constructor(
    readonly name: string,
    params: Params<O>,
    readonly defaults: O,
  ) {
    if (!Array.isArray(params) || params.length === 0) {
      throw new ValueError(`${name}: got an empty parameter list`, 'pass the tensors to optimize (leaves created with { requiresGrad: true })');
    }
    const groups: ParamGroup<O>[] = params[0] instanceof Tensor ? [{ params: params as Tensor[] } as unknown as ParamGroup<O>] : (params as ParamGroup<O>[]);
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((group, g) => {
      const full = { ...defaults, ...group } as { params: readonly Tensor[] } & O;
      group.params.forEach((p, i) => this.checkParam(p, `group ${g}, parameter ${i}`, seen));
      this.validate(full);
      return full;
    });
    this.stateSlots = this.paramGroups.map((g) => g.params.map(() => undefined));
  }

  private checkParam(p: unknown, where: string, seen: Set<Tensor>): void {
    if (!(p instanceof Tensor)) throw new KilnTypeError(`${this.name}: ${where} is not a Tensor`);
    if (!p.isLeaf) throw new ValueError(`${this.name}: can't optimize a non-leaf tensor (${where}, computed by ${p.gradFn!.name})`, 'optimize the leaf tensors the value was computed from');
    if (seen.has(p)) throw new ValueError(`${this.name}: ${where} appears more than once`, 'list each parameter in one group only');
    seen.add(p);
  }

  /** Checks one group's options (each optimizer names its own ranges). */
  protected abstract validate(group: O): void;

  /** Updates one parameter from its gradient; runs under noGrad. */
  protected abstract update(p: Tensor, grad: Tensor, group: O, state: ParamState): void;

  /** One optimization step over every parameter that has a gradient (compiled code traces the subclass's traced form). */
  step(): void {
    this.eagerStep();
  }

  /** The step run op by op (or by the fused loops): what compiled code falls back to. */
  eagerStep(): void {
    noGrad(() => {
      this.paramGroups.forEach((group, g) => {
        group.params.forEach((p, i) => {
          if (p.grad === null) return;
          this.update(p, p.grad, group, (this.stateSlots[g]![i] ??= {}));
        });
      });
    });
  }

  /** Clears the gradients: to null by default (`setToNone`, as in PyTorch 2), or to zeros in place. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else noGrad(() => p.grad!.zero_());
      }
    }
  }
}

export function checkRange(optimizer: string, name: string, value: unknown, ok: (v: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || !ok(value)) {
    throw new ValueError(`${optimizer}: invalid ${name}: ${String(value)} (must be ${expected})`);
  }
}

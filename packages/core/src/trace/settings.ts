// What compile() and export tell the frame tracer: how dynamic the inputs are, who decides calls, and export's
// hooks on its tensor inputs.
import type { Tensor, FakeTensor } from '@kiln/tensor';
import type { DimDynamism, ShapeEnv } from '@kiln/shapes';
import type { CallPolicy } from './policy-adapter.js';

export interface TraceSettings {
  /** true: every dimension dynamic; false: every dimension static; undefined: static unless marked. */
  readonly dynamic: boolean | undefined;
  /** Dimensions made dynamic by a previous recompile, as `source#dim`; numbers read as runtime values, as `source#value`. */
  readonly autoDynamic: ReadonlySet<string>;
  readonly markedDynamic: (t: Tensor) => ReadonlySet<number> | undefined;
  /**
   * Resume functions: the arguments that carry the frame's locals across a graph break. A finite non-integer
   * among them (a running loss, a decayed learning rate) is a runtime number from the first trace, as a plain
   * frame's number is once its value changed; see realize().
   */
  readonly carriedLocals?: ReadonlySet<number> | undefined;
  /** Who answers inline / skip / allowInGraph at call sites and for the frame itself (the compiler's policy). */
  readonly calls: CallPolicy;
  /**
   * Export's hooks on tensor inputs (absent for compile()): `dims` chooses the dynamism of each dimension
   * of the input at `source` (overriding the settings above), `created` sees its sizes right after they are
   * made, before any op reads them (named dims unify and get their ranges there).
   */
  readonly exportInputs?: {
    dims(source: string, t: Tensor): readonly DimDynamism[] | undefined;
    created(source: string, fake: FakeTensor, env: ShapeEnv): void;
  };
}

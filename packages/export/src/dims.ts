// Dynamic dims for export, as torch.export's `Dim`: a user names a dimension and bounds it, and the same Dim
// used in two places says those sizes are equal. The plan maps each tensor argument (by the tracer's source,
// `L[0]`, `L[1].x`) to one entry per dim: a Dim, 'auto' (dynamic, unnamed: `dynamic: true`) or static.
import type { FakeTensor } from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { DimDynamism, ShapeEnv, SymInt } from '@kiln/shapes';
import { ConstraintViolationError, ExportError } from './errors.js';

/** A named dynamic dimension with an inclusive range (`max` Infinity: unbounded). Make one with `Dim()`. */
export class DimRef {
  constructor(
    readonly name: string,
    readonly min: number,
    readonly max: number,
  ) {
    Object.freeze(this);
  }
  toString(): string {
    return `Dim('${this.name}', { min: ${this.min}, max: ${this.max} })`;
  }
}

const DIM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `Dim('batch', { min: 1, max: 1024 })`: a dynamic dim for exportProgram's `dims` option. The name is an
 * identifier (it appears in errors, printed programs and ONNX `dim_param`s); min defaults to 0, max to
 * Infinity. Sizes 0 and 1 in the example inputs are specialized (as torch.export does): give an example of at
 * least 2 for a dynamic dim; a min of 0 or 1 is allowed and the program then runs at those sizes too.
 */
export function Dim(name: string, bounds: { readonly min?: number; readonly max?: number } = {}): DimRef {
  if (typeof name !== 'string' || !DIM_NAME.test(name)) {
    throw new ExportError(`Dim: name must be an identifier, got ${JSON.stringify(name)}`, "e.g. Dim('batch', { min: 1, max: 1024 })");
  }
  if (bounds === null || typeof bounds !== 'object') throw new ExportError(`Dim('${name}'): bounds must be an object { min?, max? }`);
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Infinity;
  if (!Number.isInteger(min) || min < 0) throw new ExportError(`Dim('${name}'): min must be an integer >= 0, got ${String(min)}`);
  if (!(max === Infinity || Number.isInteger(max)) || max < min) {
    throw new ExportError(`Dim('${name}'): max must be an integer >= min (${min}) or Infinity, got ${String(max)}`);
  }
  return new DimRef(name, min, max);
}

export type DimChoice = DimRef | 'auto' | 'static';

/** A tensor argument of the example call: its tracer source, user name and per-dim choice. */
export interface PlannedTensor {
  readonly source: string;
  readonly name: string;
  readonly example: Tensor;
  readonly dims: readonly DimChoice[];
}

/** Reads one tensor's entry of the `dims` option: `{ 0: batch }`, `[batch, null]`, or null / undefined. */
export function tensorDims(spec: unknown, t: Tensor, name: string, auto: boolean): DimChoice[] {
  const out: DimChoice[] = t.shape.map(() => (auto ? 'auto' : 'static'));
  if (spec === undefined || spec === null) return out;
  if (typeof spec !== 'object') throw new ExportError(`dims for '${name}': expected { dimIndex: Dim } or an array of Dim | null, got ${typeof spec}`);
  for (const [key, value] of Object.entries(spec as Record<string, unknown>)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= t.ndim) {
      throw new ExportError(`dims for '${name}': dim ${key} is out of range for a tensor of rank ${t.ndim} (shape [${t.shape.join(', ')}])`, `use dim indices 0..${t.ndim - 1}`);
    }
    if (value === null || value === undefined) out[i] = 'static';
    else if (value instanceof DimRef) out[i] = value;
    else throw new ExportError(`dims for '${name}'.shape[${i}]: expected a Dim (from Dim('name')) or null, got ${typeof value}`);
  }
  return out;
}

/**
 * What the tracer asks about each tensor input (see core's captureForExport): the dims' dynamism, and once
 * the sizes exist, the ranges and equalities the Dims declare, applied before any op reads them.
 */
export function traceHooks(planned: ReadonlyMap<string, PlannedTensor>) {
  // Keyed by name: two Dim('n') objects are one dim, as a name is all a reader of the program sees.
  const first = new Map<string, { dim: DimRef; size: SymInt; place: string; hint: number }>();
  return {
    dims(source: string, t: Tensor): readonly DimDynamism[] | undefined {
      const p = planned.get(source);
      // Anything that is not an argument leaf (parameters, buffers) is static: its size is the program's.
      if (!p) return t.shape.map(() => 'static');
      return p.dims.map((d) => (d === 'static' ? 'static' : 'dynamic'));
    },
    created(source: string, fake: FakeTensor, env: ShapeEnv): void {
      const p = planned.get(source);
      if (!p) return;
      p.dims.forEach((d, i) => {
        if (!(d instanceof DimRef)) return;
        const place = `${p.name}.shape[${i}]`;
        const hint = p.example.shape[i]!;
        const size = fake.shape[i];
        if (typeof size === 'number') {
          throw new ConstraintViolationError(
            `${place} is ${hint} in the example inputs, but ${d} makes it dynamic: sizes 0 and 1 are specialized`,
            'give an example of at least 2 for a dynamic dim (the range may still include 0 and 1)',
          );
        }
        if (hint < d.min || hint > d.max) throw new ConstraintViolationError(`${place} is ${hint} in the example inputs, outside ${d}`, 'change the example or the range');
        env.constrainRange(size, { min: Math.max(d.min, 2), max: d.max });
        const seen = first.get(d.name);
        if (!seen) return void first.set(d.name, { dim: d, size: size as SymInt, place, hint });
        if (seen.dim.min !== d.min || seen.dim.max !== d.max) throw new ExportError(`${seen.place} and ${place} use two Dims named '${d.name}' with different ranges: ${seen.dim} and ${d}`, 'use one Dim object, or give them different names');
        if (seen.hint !== hint) {
          throw new ConstraintViolationError(`${seen.place} and ${place} share Dim '${d.name}' but are ${seen.hint} and ${hint} in the example inputs`, 'make them equal in the example, or give each its own Dim');
        }
        env.check((size as SymInt).eq(seen.size), `${seen.place} and ${place} share Dim '${d.name}'`);
      });
    },
  };
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

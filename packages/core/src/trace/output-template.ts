// Output templates: how a compiled frame rebuilds what eager code would have returned (or stored outside,
// or kept live across a break) from the graph's outputs and values read when the entry runs. Identity and
// aliasing are part of the result a user sees: a tensor met twice is one object, an input is itself, and a
// view of an input (or of another output) is a view again, so writing through it shows where eager shows it.
import { isSymBool, isSymFloat, isSymInt } from '@kiln/shapes';
import { treeFlatten, treeUnflatten } from '@kiln/pytree';
import type { TreeSpec } from '@kiln/pytree';
import { Tensor } from '@kiln/tensor';
import type { DType } from '@kiln/tensor';
import { FakeStorage } from '@kiln/tensor';
import type { FakeTensor } from '@kiln/tensor';
import type { FrameTracer } from './frame.js';
import { GraphValue } from './side-effects/record.js';
import { concrete } from './sym-ops.js';
import { applyArith, isRuntimeNumber } from './runtime-number.js';
import type { ArithOp, NumberExpr } from './runtime-number.js';
import { ExternalRef, isTensorValue } from './values.js';
import type { Value } from './values.js';

/** How to rebuild the return value: graph outputs by index, constants, live values by source. */
export type OutputTemplate =
  | { readonly kind: 'graph'; readonly index: number }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'source'; readonly index: number }
  /**
   * An array; `named`: fields besides the indices that hold one of its items (`max(x, dim)` is eager's
   * `[values, indices]` with `.values` / `.indices` set to the same two tensors), by item index.
   */
  | { readonly kind: 'array'; readonly items: readonly OutputTemplate[]; readonly named?: readonly (readonly [string, number])[] }
  /** A plain object; `proto`: the object it inherits from when not Object.prototype (`{ __proto__: p }`). */
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, OutputTemplate])[]; readonly proto?: OutputTemplate }
  /** A runtime number (runtime-number.ts): computed from values read when the entry runs. */
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly items: readonly OutputTemplate[] }
  /** Any other pytree node (a Map, a class registered with @kiln/pytree): its spec, and its leaves' templates. */
  | { readonly kind: 'tree'; readonly spec: TreeSpec; readonly items: readonly OutputTemplate[] }
  /**
   * A view of `base` (an input, or a contiguous graph output standing for the storage's first tensor): the
   * same storage seen through shape, strides and an offset relative to the base's own offset.
   */
  | { readonly kind: 'view'; readonly base: OutputTemplate; readonly shape: readonly OutputTemplate[]; readonly strides: readonly OutputTemplate[]; readonly offset: OutputTemplate; readonly dtype: DType };

/**
 * Builds the templates of one frame. Every tensor gets one graph output however often it is met (returned
 * twice, returned and stored, live across a break), so every holder gets the same object as in eager code.
 */
export class TemplateBuilder {
  readonly outputs: Value[] = [];
  readonly sources: string[] = [];
  private readonly shared = new Map<Value, number>();
  private readonly views = new Map<FakeTensor, OutputTemplate>();

  constructor(private readonly tracer: FrameTracer) {}

  /**
   * @param keepViews rebuild views as views (return values, values stored outside). Live locals at a break
   *   pass false: the resume frame guards its tensor inputs contiguous, and split.ts's checkLiveViews falls
   *   back where a materialized view would miss a later in-place write.
   */
  of(v: Value, keepViews: boolean): OutputTemplate {
    if (v instanceof GraphValue) return this.graphOutput(v.value); // an input written in place: its new value
    const input = isTensorValue(v) ? this.tracer.inputFakes.get(v) : undefined;
    // A graph input is itself, as in eager code: an in-place write, replayed or eager, shows for every holder.
    if (input) return this.source(input.source);
    if (isTensorValue(v)) return (keepViews && !this.shared.has(v) && this.viewOf(v)) || this.graphOutput(v);
    if (isSymInt(v)) return this.graphOutput(v);
    if (isSymBool(v) || isSymFloat(v)) return { kind: 'const', value: concrete(this.tracer, v) };
    if (isRuntimeNumber(v)) return this.number(v.expr);
    if (v instanceof ExternalRef) return this.source(v.source);
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return { kind: 'const', value: v };
    // Rebuilt objects are fresh and extensible: a frozen or sealed one would thaw (and a later write succeed).
    if (typeof v === 'object' && !Object.isExtensible(v)) throw this.tracer.break('a frozen or sealed object built in the frame is returned or live across a break', 'freeze it after the compiled function returns');
    if (Array.isArray(v)) return this.array(v, keepViews);
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto === Object.prototype || this.tracer.frameProtos.has(proto as object)) return this.object(v, proto, keepViews);
    const tree = this.pytree(v, keepViews);
    if (tree) return tree;
    throw this.tracer.break(
      `returning ${typeof v === 'function' ? 'a function' : `a ${(v as object).constructor?.name ?? 'object'} built in the frame`}`,
      'return tensors, numbers, arrays, plain objects, Maps, or instances of a class registered with @kiln/pytree',
    );
  }

  /** Own enumerable string keys in their order (numeric-like first); other keys break rather than vanish. */
  private object(v: object, proto: object | null, keepViews: boolean): OutputTemplate {
    const keys = Reflect.ownKeys(v);
    const entries = Object.entries(v);
    if (keys.length !== entries.length) throw this.tracer.break('returning an object with symbol-keyed or non-enumerable fields', 'return a plain object with string keys');
    const fields = entries.map(([k, x]) => [k, this.of(x, keepViews)] as const);
    if (proto === Object.prototype) return { kind: 'object', entries: fields };
    return { kind: 'object', entries: fields, proto: this.of(proto, keepViews) };
  }

  private graphOutput(v: Value): OutputTemplate {
    let index = this.shared.get(v);
    if (index === undefined) this.shared.set(v, (index = this.outputs.push(v) - 1));
    return { kind: 'graph', index };
  }

  private source(source: string): OutputTemplate {
    this.sources.push(source);
    return { kind: 'source', index: this.sources.length - 1 };
  }

  private array(v: readonly Value[], keepViews: boolean): OutputTemplate {
    const items = v.map((x) => this.of(x, keepViews));
    const extra = Object.keys(v).filter((key) => !/^(0|[1-9]\d*)$/.test(key));
    if (extra.length === 0) return { kind: 'array', items };
    const named = extra.map((key) => [key, v.indexOf((v as unknown as Record<string, unknown>)[key])] as const);
    const lost = named.find(([, i]) => i < 0);
    if (lost) throw this.tracer.break(`returning an array with a named field '${lost[0]}'`, 'return a plain object, or an array without extra fields');
    return { kind: 'array', items, named };
  }

  /**
   * A view of an input, or of a tensor whose storage another tensor of the frame owns: rebuilt over the
   * base's storage, one object per view (the template is reused, fillTemplate memoizes it per call).
   */
  private viewOf(v: FakeTensor): OutputTemplate | undefined {
    const known = this.views.get(v);
    if (known) return known;
    const base = this.baseOf(v);
    if (!base) return undefined;
    const size = (s: unknown) => this.of(s, false);
    const template: OutputTemplate = {
      kind: 'view',
      base: this.of(base, false),
      shape: v.shape.map(size),
      strides: v.strides.map(size),
      offset: size(v.offset),
      dtype: v.dtype,
    };
    this.views.set(v, template);
    return template;
  }

  /** The tensor whose runtime storage lays out `v`'s fake storage: an input, or the storage's owner. */
  private baseOf(v: FakeTensor): FakeTensor | undefined {
    for (const fake of this.tracer.inputFakes.keys()) if (fake.storage === v.storage) return fake;
    const owner = v.storage instanceof FakeStorage ? v.storage.owner : undefined;
    // A backend returns a fresh contiguous tensor for an output: it lays out the storage only if its fake does.
    if (!owner || owner === v || !owner.isContiguous() || owner.offset !== 0) return undefined;
    return owner;
  }

  private pytree(v: object, keepViews: boolean): OutputTemplate | undefined {
    let flat: [unknown[], TreeSpec];
    try {
      flat = treeFlatten(v);
    } catch {
      return undefined;
    }
    const [leaves, spec] = flat;
    if (spec.isLeaf()) return undefined;
    return { kind: 'tree', spec, items: leaves.map((leaf) => this.of(leaf as Value, keepViews)) };
  }

  private number(e: NumberExpr): OutputTemplate {
    if (e.kind === 'const') return { kind: 'const', value: e.value };
    if (e.kind === 'source') return this.source(e.source);
    return { kind: 'arith', op: e.op, items: e.args.map((a) => this.number(a)) };
  }
}

/**
 * Rebuilds a value from a template. `views` memoizes the views made in one call, so a view met twice (and
 * in the return value and a replayed side effect) is one object: pass the same map for every template of
 * a call.
 */
export function fillTemplate(t: OutputTemplate, outputs: readonly unknown[], sources: readonly unknown[], views = new Map<OutputTemplate, Tensor>()): unknown {
  const fill = (x: OutputTemplate) => fillTemplate(x, outputs, sources, views);
  switch (t.kind) {
    case 'graph':
      return outputs[t.index];
    case 'const':
      return t.value;
    case 'source':
      return sources[t.index];
    case 'array': {
      const items = t.items.map(fill);
      return t.named ? Object.assign(items, Object.fromEntries(t.named.map(([key, i]) => [key, items[i]]))) : items;
    }
    case 'object': {
      const out = (t.proto === undefined ? {} : Object.create(fill(t.proto) as object)) as Record<string, unknown>;
      for (const [k, x] of t.entries) {
        // An own `__proto__` field is defined: assigning it would set the prototype (Object.prototype's setter).
        if (k === '__proto__') Object.defineProperty(out, k, { value: fill(x), writable: true, enumerable: true, configurable: true });
        else out[k] = fill(x);
      }
      return out;
    }
    case 'arith': {
      const [a, b] = t.items.map((x) => fill(x) as number);
      return applyArith(t.op, a!, b!);
    }
    case 'tree':
      return treeUnflatten(t.spec, t.items.map(fill));
    case 'view': {
      let view = views.get(t);
      if (!view) views.set(t, (view = makeView(t, fill(t.base) as Tensor, fill)));
      return view;
    }
    default:
      return t satisfies never;
  }
}

function makeView(t: Extract<OutputTemplate, { kind: 'view' }>, base: Tensor, fill: (x: OutputTemplate) => unknown): Tensor {
  // Inputs are guarded contiguous and backends return contiguous outputs; anything else is copied so the
  // layout matches the fake storage's (the values stay right, only the aliasing is lost).
  const laid = base.isContiguous() ? base : base.contiguous();
  const sizes = (xs: readonly OutputTemplate[]) => xs.map((x) => fill(x) as number);
  return new Tensor(laid.storage, sizes(t.shape), sizes(t.strides), laid.offset + (fill(t.offset) as number), t.dtype);
}

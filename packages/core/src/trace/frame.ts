// The state of one frame being traced: the graph recorder, the shape env, the guards collected while
// external values are read, and the policy decisions made at call sites. Reads of outside objects' contents
// (properties, keys, elements) are in external-reads.ts; what the tracer is told, in settings.ts.
import { types } from 'node:util';
import { Tensor } from '@kiln/tensor';
import type { DimDynamism } from '@kiln/shapes';
import { ShapeEnv } from '@kiln/shapes';
import type { FakeTensor } from '@kiln/tensor';
import type { SourceLocation } from '@kiln/graph';
import { GraphRecorder } from '@kiln/graph';
import { GuardBuilder, childSource, describeConstant, isSafeAccessor } from '../guards/builder.js';
import { GraphBreak } from './errors.js';
import { parameterNames, placeholderName, userSource } from '../guards/names.js';
import type { SourceNames } from '../guards/names.js';
import type { Locator } from './functions.js';
import { ExternalRef, Scope } from './values.js';
import { readBinding } from './closures.js';
import type { Capture } from './closures.js';
import type { ParsedFunction } from './functions.js';
import { KEEP_NAME, isBuiltinGlobal } from './builtins.js';
import type { Value } from './values.js';
import type { PolicyDecision } from './policy-adapter.js';
import { EffectLog } from './side-effects/record.js';
import { RuntimeNumber, exprSources } from './runtime-number.js';
import type { InputFake } from './side-effects/inplace.js';
import { refuseProxy } from './external-reads.js';
import type { TraceSettings } from './settings.js';

export interface CallDecision extends PolicyDecision {
  readonly callee: string;
  readonly location: SourceLocation | undefined;
}

/** A captured binding that may be reassigned: guards read it through the inspector on every call. */
export interface MutableRead {
  readonly owner: Function | 'frame';
  readonly scopeIndex: number;
  readonly name: string;
}

const MAX_STEPS = 200_000;

export class FrameTracer {
  readonly shapeEnv = new ShapeEnv();
  readonly recorder = new GraphRecorder(this.shapeEnv);
  readonly guards = new GuardBuilder();
  readonly inputSources: string[] = [];
  readonly decisions: CallDecision[] = [];
  readonly mutableReads: MutableRead[] = [];
  /** Side effects on outside values, replayed after the graph runs. */
  readonly effects = new EffectLog();
  /** Graph inputs: fake tensor → where it was read and the real tensor (for in-place writes). */
  readonly inputFakes = new Map<FakeTensor, InputFake>();
  private readonly realized = new Map<string, Value>();
  private readonly lengthGuarded = new Set<string>();
  /** Sources read as runtime numbers → their value while tracing. */
  private readonly runtimeSources = new Map<string, number>();
  /** Call expressions whose value the code discards (statement expressions, `void`, sequence heads). */
  readonly discarded = new WeakSet<object>();
  /** The call expression being evaluated (set just before its callee runs). */
  callNode: object | undefined;
  /** `if` statements whose test broke (a top-level one can run its test eagerly and compile the branch). */
  readonly brokenTests = new WeakSet<object>();
  private locatorStack: Locator[] = [];
  location: SourceLocation | undefined;
  /** Index of the frame body's top-level statement being traced: where a break can split the frame. */
  topStatement: number | undefined;
  private steps = 0;
  /** Tensor sources read through a scratch slot `U[i]` for their sizes (see tensorInput). */
  private readonly aliasSources: string[] = [];

  private readonly captureMemo = new Map<Function, Map<string, Value>>();
  /** Objects built in the frame that other frame objects inherit from (`{ __proto__: defaults }`). */
  readonly frameProtos = new WeakSet<object>();
  /** Depth of library traced forms being traced (an optimizer step): their ops run without grad. */
  noGradDepth = 0;
  /** A traced form was traced: the graph runs without grad, so no other tensor op may join it (see calls.ts). */
  ranWithoutGrad = false;

  /**
   * @param top the compiled function and its captured bindings in `C` order: its constant captures are
   *   read per closure object (`C[i]`), so closures of the same code share one cache.
   */
  constructor(
    readonly settings: TraceSettings,
    readonly top: { readonly fn: Function; readonly captureNames: readonly string[] },
  ) {}

  private names: SourceNames | undefined;

  /** A source as the user wrote it (`L['x'].shape[0]`, `model.layers[2].bias`): for guard texts and placeholders. */
  userSource(text: string): string {
    this.names ??= { params: parameterNames(this.top.fn), captures: this.top.captureNames, mutable: [] };
    return userSource(text, { ...this.names, mutable: this.mutableReads.map((m) => m.name), constants: this.guards.constantNames, aliases: this.aliasSources });
  }

  // ---- free variables ----------------------------------------------------------------------------

  /** The outermost scope of an external function: its captured bindings, then standard globals. */
  externalScope(parsed: ParsedFunction, fn: Function): Scope {
    return new Scope(null, (name) => {
      const cap = parsed.info.captures.get(name);
      if (cap) return { found: true, value: this.capture(fn, cap) };
      if (isBuiltinGlobal(name)) return { found: true, value: this.fixed((globalThis as Record<string, unknown>)[name], name) };
      return { found: false };
    });
  }

  private capture(fn: Function, cap: Capture): Value {
    let memo = this.captureMemo.get(fn);
    if (!memo) this.captureMemo.set(fn, (memo = new Map()));
    if (memo.has(cap.name)) return memo.get(cap.name);
    let value: Value;
    if (cap.name === '__name' && typeof cap.value === 'function') {
      // The bundler's keep-names helper (`__name(fn, "fn")`): an identity for the tracer.
      value = this.fixed(KEEP_NAME);
    } else if (cap.mutable) {
      const index = this.mutableReads.push({ owner: fn === this.top.fn ? 'frame' : fn, scopeIndex: cap.scopeIndex, name: cap.name }) - 1;
      // The snapshot in `cap` is from the first compile: read the binding as it is now.
      value = this.external(readBinding(fn, cap.scopeIndex, cap.name), `M[${index}]`);
    } else if (fn === this.top.fn) {
      value = this.external(cap.value, `C[${this.top.captureNames.indexOf(cap.name)}]`);
    } else {
      // A constant binding of a function whose identity is guarded: fixed for as long as the guard holds.
      value = this.fixed(cap.value, cap.name);
    }
    memo.set(cap.name, value);
    return value;
  }

  // ---- source locations --------------------------------------------------------------------------

  withLocator<T>(locator: Locator, fn: () => T): T {
    this.locatorStack.push(locator);
    try {
      return fn();
    } finally {
      this.locatorStack.pop();
    }
  }

  /** Sets the user location for the node being evaluated (graph nodes and guards record it). */
  at(node: { start: number }): void {
    if (++this.steps > MAX_STEPS) throw this.break('the frame runs too many steps (a loop that does not end at trace time?)');
    const locator = this.locatorStack[this.locatorStack.length - 1];
    if (!locator) return;
    this.location = locator(node.start);
    this.recorder.location = this.location;
    this.shapeEnv.setLocation(`${this.location.file}:${this.location.line}`);
  }

  break(reason: string, hint?: string): GraphBreak {
    return new GraphBreak(reason, this.location, hint);
  }

  private where(): string | undefined {
    return this.location ? `${this.location.file}:${this.location.line}` : undefined;
  }

  // ---- external values ---------------------------------------------------------------------------

  /**
   * Turns a value read from outside the frame into a tracker, guarding what the trace relies on:
   * primitives by value, tensors by type / dtype / rank / sizes (they become graph inputs), functions and
   * class instances by identity, arrays by length, plain objects by prototype.
   */
  external(value: unknown, source: string): Value {
    const memo = this.realized.get(source);
    if (memo !== undefined || this.realized.has(source)) return memo;
    const out = this.realize(value, source);
    this.realized.set(source, out);
    return out;
  }

  /**
   * A value reached through something already guarded by identity: no guard of its own. `name` is the
   * binding the user wrote for it (`Math`, a helper's captured `cfg`): guards and placeholders print it.
   */
  fixed(value: unknown, name?: string): Value {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    if (value instanceof Tensor) return this.external(value, this.guards.constant(value, name));
    return new ExternalRef(value, this.guards.constant(value, name), 'identity');
  }

  guard(code: string, text: string, kind: Parameters<GuardBuilder['add']>[0]['kind'], valueSource?: string): void {
    this.guards.add({ code, text, kind, location: this.where(), valueSource });
  }

  private realize(value: unknown, source: string): Value {
    if (typeof value === 'number' && this.settings.dynamic !== false) {
      const why = this.settings.autoDynamic.has(`${source}#value`) ? 'automatic dynamic: its value changed at a recompile' : this.carriedFloat(value, source) ? 'a float local carried across a graph break' : undefined;
      if (why) {
        this.guard(`typeof ${source} === "number"`, `${source} is a number (${why})`, 'type');
        this.runtimeSources.set(source, value);
        return new RuntimeNumber({ kind: 'source', source }, value);
      }
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      // A number's guard names its source: when it fails, the next trace reads the source as a runtime number.
      this.guard(`Object.is(${source}, ${this.guards.constant(value)})`, `${source} === ${describeConstant(value)}`, 'constant', typeof value === 'number' ? source : undefined);
      return value;
    }
    if (value instanceof Tensor) return this.tensorInput(value, source);
    // A module namespace is pinned by identity, like a function: its exports never become getters (see
    // isFixedDataProperty), where another object with its null prototype could hold any.
    if (typeof value === 'function' || types.isProxy(value) || !isPlain(value) || value instanceof Map || types.isModuleNamespaceObject(value)) {
      this.guard(`${source} === ${this.guards.constant(value)}`, `${source} is ${describeConstant(value)}`, 'identity');
      return new ExternalRef(value, source, 'identity');
    }
    if (Array.isArray(value)) {
      // The length is guarded when the frame reads the elements (elements()) or `length`: a frame that only
      // pushes to an outside array must not recompile because the array grew.
      // Not a Proxy: the guards after this one read its length and elements, which would run its traps.
      this.guard(`Array.isArray(${source}) && !isProxy(${source})`, `${source} is an array`, 'type');
    } else {
      const proto = Object.getPrototypeOf(value) === null ? 'null' : 'Object.prototype';
      this.guard(`typeof ${source} === "object" && ${source} !== null && !isProxy(${source}) && Object.getPrototypeOf(${source}) === ${proto}`, `${source} is a plain object`, 'type');
    }
    return new ExternalRef(value, source, 'shape');
  }

  /**
   * A resume function's float argument: the frame before the break computed it (a loss, a decayed rate) and
   * it usually changes every call, so it is not specialized to its first value (one recompile per resume
   * function in a chain, each learning it again). Integers stay specialized: they are sizes and counters.
   */
  private carriedFloat(value: number, source: string): boolean {
    const arg = /^L\[(\d+)\]$/.exec(source)?.[1];
    return arg !== undefined && this.settings.carriedLocals?.has(Number(arg)) === true && Number.isFinite(value) && !Number.isInteger(value);
  }

  private tensorInput(t: Tensor, source: string): FakeTensor {
    if (!t.isContiguous()) throw this.break(`input ${source} is not contiguous`, 'call .contiguous() before the compiled function');
    const dtype = this.guards.constant(t.dtype);
    this.guard(`${source} instanceof Tensor && ${source}.dtype === ${dtype} && ${source}.shape.length === ${t.ndim} && ${source}.isContiguous()`, `${source}: Tensor ${t.dtype}, rank ${t.ndim}, contiguous`, 'tensor');
    const marked = this.settings.markedDynamic(t);
    const dims: readonly DimDynamism[] = this.settings.exportInputs?.dims(source, t) ?? t.shape.map((_, i) => {
      if (this.settings.dynamic === false) return 'static';
      if (marked?.has(i)) return 'dynamic';
      if (this.settings.dynamic === true || this.settings.autoDynamic.has(`${source}#${i}`)) return 'duck';
      return 'static';
    });
    this.inputSources.push(source);
    const name = placeholderName(this.userSource(source));
    let sizeSource = source;
    if (!isSafeAccessor(source)) {
      // Symbolic-size guards only name simple accessors: alias the tensor as a scratch slot `U[i]`.
      sizeSource = `U[${this.aliasSources.push(source) - 1}]`;
      this.guards.add({ code: `(${sizeSource} = ${source}, true)`, text: `${source} is read once for its sizes`, kind: 'tensor' });
    }
    const fake = this.recorder.addInput(t, name, sizeSource, dims);
    this.inputFakes.set(fake, { source, real: t });
    this.settings.exportInputs?.created(source, fake, this.shapeEnv);
    return fake;
  }

  /** The value of a runtime number, guarding each source it was computed from (see runtime-number.ts). */
  specialize(v: RuntimeNumber): number {
    for (const source of exprSources(v.expr)) {
      const value = this.runtimeSources.get(source)!;
      this.guard(`Object.is(${source}, ${this.guards.constant(value)})`, `${source} === ${describeConstant(value)}`, 'constant', source);
    }
    return v.hint;
  }

  /** An external array's length when the frame started, guarded. */
  guardArrayLength(ref: ExternalRef): number {
    refuseProxy(this, ref, 'the length of');
    const arr = ref.value as unknown[];
    if (!this.lengthGuarded.has(ref.source)) {
      this.lengthGuarded.add(ref.source);
      this.guard(`${ref.source}.length === ${arr.length}`, `${ref.source} has length ${arr.length}`, 'length');
    }
    return arr.length;
  }

  /** Element `i` of an external array as it was when the frame started (tracing never changes it). */
  originalElement(ref: ExternalRef, i: number): Value {
    return this.external((ref.value as unknown[])[i], childSource(ref.source, i));
  }

  /** The outside objects the frame read, by source (alias guards compare them, see side-effects/aliases.ts). */
  objectRefs(): [string, ExternalRef][] {
    return [...this.realized.entries()].filter((e): e is [string, ExternalRef] => e[1] instanceof ExternalRef && typeof e[1].value === 'object');
  }

  recordDecision(callee: string, decision: PolicyDecision): void {
    this.decisions.push({ ...decision, callee, location: this.location });
  }
}

function isPlain(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

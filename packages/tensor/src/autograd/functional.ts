// jax-style transforms over pytrees: grad, valueAndGrad, vjp, jvp. Built on the tape: the differentiated
// arguments' tensor leaves become leaves that require grad, and autograd.grad runs the backward pass.
// A leaf that already requires grad (inside another transform, or a tensor of an outer tape) is used as is
// and the backward pass is recorded, so transforms nest (grad(grad(f))).
import { treeFlatten, treeUnflatten } from '@kiln/pytree';
import type { TreeSpec } from '@kiln/pytree';
import { isFloating } from '../dtype.js';
import { KilnTypeError, ValueError, fmtShape } from '../errors.js';
import { zerosLike } from '../ops/creation.js';
import { Tensor } from '../tensor.js';
import { enableGrad } from './grad-mode.js';
import { autograd } from './methods.js';

export interface GradTransformOptions {
  /** Which positional arguments to differentiate (default 0); a list gives a list of gradient trees. */
  argnums?: number | readonly number[];
  /** `f` returns `[value, aux]`: only `value` is differentiated, `aux` is passed through. */
  hasAux?: boolean;
}

interface Prepared {
  callArgs: unknown[];
  leaves: Tensor[];
  /** Rebuilds the gradient trees (one per differentiated argument) from gradients in `leaves` order. */
  rebuild(grads: readonly (Tensor | null)[]): unknown[];
  nested: boolean;
}

/** Swaps every tensor leaf of the differentiated arguments for a leaf that requires grad. */
function prepare(transform: string, args: readonly unknown[], argnums: readonly number[]): Prepared {
  const callArgs = [...args];
  const leaves: Tensor[] = [];
  const specs: [TreeSpec, number][] = [];
  let nested = false;
  for (const i of argnums) {
    if (!Number.isInteger(i) || i < 0 || i >= args.length) {
      throw new ValueError(`${transform}: argnums ${i} is out of range for a call with ${args.length} arguments`, 'argnums index the positional arguments, from 0');
    }
    const [argLeaves, spec] = treeFlatten(args[i]);
    const start = leaves.length;
    const fresh = argLeaves.map((leaf, k) => {
      if (!(leaf instanceof Tensor) || !isFloating(leaf.dtype)) {
        throw new KilnTypeError(
          `${transform}: argument ${i} has a leaf (#${k}) that is ${leaf instanceof Tensor ? `a ${leaf.dtype} tensor` : typeof leaf}; only float tensors can be differentiated`,
          'leave it out of argnums, or close over it instead of passing it',
        );
      }
      if (leaf.requiresGrad) {
        nested = true;
        return leaf;
      }
      return leaf.detach().requiresGrad_();
    });
    leaves.push(...fresh);
    specs.push([spec, start]);
    callArgs[i] = treeUnflatten(spec, fresh);
  }
  const rebuild = (grads: readonly (Tensor | null)[]) =>
    specs.map(([spec, start]) => treeUnflatten(spec, leaves.slice(start, start + spec.numLeaves).map((leaf, k) => grads[start + k] ?? zerosLike(leaf))));
  return { callArgs, leaves, rebuild, nested };
}

const argnumList = (argnums: number | readonly number[] = 0): readonly number[] => (typeof argnums === 'number' ? [argnums] : argnums);

function scalarOutput(transform: string, value: unknown): Tensor {
  if (!(value instanceof Tensor) || value.numel !== 1 || !isFloating(value.dtype)) {
    const got = value instanceof Tensor ? `a ${value.dtype} tensor of shape ${fmtShape(value.shape)}` : typeof value;
    throw new KilnTypeError(`${transform}: the function must return a float scalar tensor (one element), got ${got}`, 'reduce it (e.g. .sum() or .mean()), or use vjp for non-scalar outputs');
  }
  return value;
}

/** `valueAndGrad(f)(...args)` → `[f(...args), gradient of f with respect to args[argnums]]` (`[[value, aux], grads]` with hasAux). */
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => unknown, options: GradTransformOptions = {}) {
  const argnums = argnumList(options.argnums);
  return (...args: A): [unknown, unknown] => {
    const p = prepare('valueAndGrad', args, argnums);
    const out = enableGrad(() => f(...(p.callArgs as A)));
    const value = scalarOutput('valueAndGrad', options.hasAux ? (out as unknown[])[0] : out);
    // An output that does not depend on the arguments has zero gradients (jax gives zeros, not an error).
    const grads = p.rebuild(value.requiresGrad ? autograd.grad(value, p.leaves, { allowUnused: true, createGraph: p.nested }) : []);
    const g = typeof options.argnums === 'object' ? grads : grads[0];
    return [options.hasAux ? [p.nested ? value : value.detach(), (out as unknown[])[1]] : p.nested ? value : value.detach(), g];
  };
}

/** `grad(f)(...args)`: the gradient of a scalar-valued `f` with respect to `args[argnums]`, a tree of their structure. */
export function grad<A extends unknown[]>(f: (...args: A) => unknown, options: GradTransformOptions = {}) {
  const both = valueAndGrad(f, options);
  return (...args: A): unknown => {
    const [value, g] = both(...args);
    return options.hasAux ? [g, (value as unknown[])[1]] : g;
  };
}

/** The output's float tensor leaves and a function to match a cotangent tree against them. */
function outputLeaves(transform: string, out: unknown) {
  const [leaves, spec] = treeFlatten(out);
  const tensors = leaves.filter((l): l is Tensor => l instanceof Tensor && isFloating(l.dtype) && l.requiresGrad);
  return { leaves, spec, tensors, transform };
}

/**
 * `vjp(f, ...primals)` → `[f(...primals), vjpFn]`; `vjpFn(cotangent)` (a tree of the output's structure)
 * gives the cotangent of every primal, as a list of trees. vjpFn may be called many times.
 */
export function vjp<A extends unknown[]>(f: (...args: A) => unknown, ...primals: A): [unknown, (cotangent: unknown) => unknown[]] {
  const p = prepare('vjp', primals, primals.map((_, i) => i));
  const out = enableGrad(() => f(...(p.callArgs as A)));
  const o = outputLeaves('vjp', out);
  const vjpFn = (cotangent: unknown): unknown[] => {
    const [cot, cotSpec] = treeFlatten(cotangent);
    if (cotSpec.numLeaves !== o.leaves.length) {
      throw new ValueError(`vjp: the cotangent has ${cotSpec.numLeaves} leaves but the output has ${o.leaves.length}`, `give a tree of the output's structure: ${o.spec.toString()}`);
    }
    const pairs = o.leaves.map((leaf, i) => [leaf, cot[i]] as const).filter(([leaf]) => o.tensors.includes(leaf as Tensor));
    if (pairs.length === 0) return p.rebuild([]);
    const grads = autograd.grad(pairs.map(([l]) => l as Tensor), p.leaves, {
      gradOutputs: pairs.map(([, c]) => c as Tensor),
      retainGraph: true,
      allowUnused: true,
      createGraph: p.nested,
    });
    return p.rebuild(grads);
  };
  return [out, vjpFn];
}

/**
 * `jvp(f, primals, tangents)` → `[f(...primals), J·tangents]` (forward mode), computed as the transpose of a
 * vjp (two backward passes: Jᵀu is linear in u, so J·v is its gradient with respect to u).
 */
export function jvp<A extends unknown[]>(f: (...args: A) => unknown, primals: A, tangents: readonly unknown[]): [unknown, unknown] {
  if (tangents.length !== primals.length) throw new ValueError(`jvp: ${primals.length} primals but ${tangents.length} tangents`, 'give one tangent tree per primal');
  const p = prepare('jvp', primals, primals.map((_, i) => i));
  const out = enableGrad(() => f(...(p.callArgs as A)));
  const o = outputLeaves('jvp', out);
  const tangentLeaves = tangents.flatMap((t) => treeFlatten(t)[0]) as Tensor[];
  if (tangentLeaves.length !== p.leaves.length) throw new ValueError(`jvp: the tangents have ${tangentLeaves.length} tensors but the primals ${p.leaves.length}`, 'give tangents of the primals\' structure');
  const dummies = o.tensors.map((t) => zerosLike(t).requiresGrad_());
  const pullback = o.tensors.length === 0 ? [] : autograd.grad(o.tensors, p.leaves, { gradOutputs: dummies, createGraph: true, allowUnused: true });
  const terms = pullback.flatMap((g, i) => (g && g.requiresGrad ? [g.mul(tangentLeaves[i]!).sum()] : []));
  const pushed = terms.length === 0 ? dummies.map(() => null) : autograd.grad(terms.reduce((a, b) => a.add(b)), dummies, { allowUnused: true });
  const tangentOut = o.leaves.map((leaf) => {
    const k = o.tensors.indexOf(leaf as Tensor);
    if (k >= 0) return pushed[k] ?? zerosLike(leaf as Tensor);
    return leaf instanceof Tensor ? zerosLike(leaf) : leaf;
  });
  return [out, treeUnflatten(o.spec, tangentOut)];
}

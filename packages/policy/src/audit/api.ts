import * as tensorModule from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { AnyFunction } from '../frame.js';

/** One public function of the tensor API, found by enumerating the live module and prototype. */
export interface ApiFunction {
  readonly name: string;
  readonly fn: AnyFunction;
  readonly where: 'export' | 'static' | 'method' | 'getter';
}

export interface ApiSources {
  /** The module namespace of `@kiln/tensor` (or a stand-in with planted exports, in tests). */
  readonly tensorExports: object;
  /** `Tensor.prototype` (or a stand-in). */
  readonly tensorPrototype: object;
  /** The `Tensor` class, for its static methods. */
  readonly tensorClass: AnyFunction;
}

export const liveApiSources = (): ApiSources => ({
  tensorExports: tensorModule,
  tensorPrototype: Tensor.prototype,
  tensorClass: Tensor,
});

const MODULE = '@kiln/tensor';

/**
 * Every function-valued export of `@kiln/tensor`, every static method of `Tensor`, and every method and
 * getter on `Tensor.prototype`, by qualified name, sorted. Symbol-keyed members (`util.inspect.custom`) are
 * Node hooks, not API.
 */
export function enumerateTensorApi(sources: ApiSources = liveApiSources()): ApiFunction[] {
  const out: ApiFunction[] = [];
  for (const key of Object.keys(sources.tensorExports)) {
    const value = (sources.tensorExports as Record<string, unknown>)[key];
    if (typeof value === 'function') out.push({ name: `${MODULE}#${key}`, fn: value, where: 'export' });
  }
  for (const key of Object.getOwnPropertyNames(sources.tensorClass)) {
    const d = Object.getOwnPropertyDescriptor(sources.tensorClass, key)!;
    if (key !== 'prototype' && typeof d.value === 'function') {
      out.push({ name: `${MODULE}#Tensor.${key}`, fn: d.value, where: 'static' });
    }
  }
  for (const key of Object.getOwnPropertyNames(sources.tensorPrototype)) {
    if (key === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(sources.tensorPrototype, key)!;
    const name = `${MODULE}#Tensor.prototype.${key}`;
    if (typeof d.value === 'function') out.push({ name, fn: d.value, where: 'method' });
    else if (d.get) out.push({ name, fn: d.get, where: 'getter' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

import * as tensorModule from '@kiln/tensor';
import type { AnyFunction } from './frame.js';

/**
 * Qualified names identify one function for every rule: `@kiln/tensor#add`,
 * `@kiln/tensor#Tensor.prototype.matmul` (module specifier, `#`, property path), or a path from
 * `globalThis` for builtins (`Math.floor`, `Array.prototype.map`). They are stable across builds and readable
 * in reports, unlike function identities.
 */
export type ModuleTable = Readonly<Record<string, object>>;

/** The modules the built-in rules name. User config adds its own through `resolveQualifiedName`'s argument. */
export const BUILTIN_MODULES: ModuleTable = { '@kiln/tensor': tensorModule };

export interface ParsedName {
  readonly module: string | null;
  readonly path: readonly string[];
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function parseQualifiedName(name: string): ParsedName | null {
  const hash = name.lastIndexOf('#');
  const module = hash < 0 ? null : name.slice(0, hash);
  const path = (hash < 0 ? name : name.slice(hash + 1)).split('.');
  if (module === '' || !path.every((p) => IDENT.test(p))) return null;
  return { module, path };
}

export type Resolution = { ok: true; fn: AnyFunction } | { ok: false; why: string };

/**
 * Finds the live function a qualified name denotes. Walks property descriptors rather than reading
 * properties, so a getter on a prototype (`Tensor.prototype.ndim`) resolves to the getter instead of being
 * called with the prototype as `this`.
 */
export function resolveQualifiedName(name: string, modules: ModuleTable = BUILTIN_MODULES): Resolution {
  const parsed = parseQualifiedName(name);
  if (!parsed) return { ok: false, why: `'${name}' is not a qualified name (module#path.to.fn or Global.path)` };
  let target: unknown;
  if (parsed.module === null || parsed.module === 'globalThis') target = globalThis;
  else if (parsed.module in modules) target = modules[parsed.module];
  else return { ok: false, why: `module '${parsed.module}' is not loaded` };
  for (let i = 0; i < parsed.path.length; i++) {
    const key = parsed.path[i]!;
    const descriptor = findDescriptor(target, key);
    if (!descriptor) return { ok: false, why: `'${parsed.path.slice(0, i + 1).join('.')}' does not exist` };
    const last = i === parsed.path.length - 1;
    target = last && descriptor.get ? descriptor.get : descriptor.value;
  }
  if (typeof target !== 'function') return { ok: false, why: `'${name}' is not a function` };
  return { ok: true, fn: target };
}

function findDescriptor(target: unknown, key: string): PropertyDescriptor | undefined {
  for (let o = target; o !== null && (typeof o === 'object' || typeof o === 'function'); o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d;
  }
  return undefined;
}

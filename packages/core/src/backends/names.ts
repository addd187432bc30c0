import { getDefaultCompiler } from '../compiler.js';
import type { Compiler } from '../compiler.js';

/** Names of the backends a compiler can use (`auto` aside), highest priority first. */
export function backendNames(compiler: Compiler = getDefaultCompiler()): string[] {
  return [...compiler.backends()].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0)).map((b) => b.name);
}

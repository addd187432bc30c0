// Printing generated code, for debugging and for golden tests of the code generator.
import { resolveOptions, type TreeOptions } from '../options.js';
import type { TreeSpec } from '../spec.js';
import { flattenSource } from './flatten-code.js';
import { unflattenSource } from './unflatten-code.js';

/** The source of the specialized flatten and unflatten for `spec` (what the caches would compile). */
export function generatedSource(spec: TreeSpec, options?: TreeOptions): { flatten: string; unflatten: string } {
  return { flatten: flattenSource(spec, resolveOptions(options)).source, unflatten: unflattenSource(spec).source };
}

// Printing generated code, for debugging and for golden tests of the code generator.
import { resolveOptions, type TreeOptions } from '../options.js';
import type { TreeSpec } from '../spec.js';
import { SourceTooLarge } from './emitter.js';
import { flattenSource } from './flatten-code.js';
import { unflattenSource } from './unflatten-code.js';

/**
 * The source of the specialized flatten and unflatten for `spec` (what the caches would compile); null for
 * a side whose code would be too large, so that the spec stays on the generic path.
 */
export function generatedSource(spec: TreeSpec, options?: TreeOptions): { flatten: string | null; unflatten: string | null } {
  const resolved = resolveOptions(options);
  return { flatten: orNull(() => flattenSource(spec, resolved).source), unflatten: orNull(() => unflattenSource(spec).source) };
}

function orNull(generate: () => string): string | null {
  try {
    return generate();
  } catch (error) {
    if (error instanceof SourceTooLarge) return null;
    throw error;
  }
}

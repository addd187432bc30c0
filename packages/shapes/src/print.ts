// Deterministic text for a ShapeEnv, one line per symbol, replacement and runtime assert; printed with
// graphs so a reader sees the ranges and asserts the compiled code relies on.
import { rangeToString } from './ranges.js';
import type { ShapeEnv } from './shape-env.js';

/**
 * ```
 * s0: [2, inf]  hint 8  L.x.shape[0], L.y.shape[0]
 * s1 := s0  # model.ts:5
 * u0: [0, inf]  size-like  nonzero  # model.ts:12
 * assert u0 >= 0  # model.ts:13
 * ```
 */
export function formatShapeEnv(env: ShapeEnv): string {
  const lines: string[] = [];
  const at = (loc: string | undefined): string => (loc ? `  # ${loc}` : '');
  for (const s of env.symbols()) {
    const replaced = env.replacements().get(s.name);
    if (replaced) {
      lines.push(`${s.name} := ${replaced.key}${at(env.replacementLocation(s.name))}`);
      continue;
    }
    const parts = [`${s.name}: ${rangeToString(s.range)}`];
    if (s.hint !== undefined) parts.push(`hint ${s.hint}`);
    if (s.kind === 'unbacked' && s.sizeLike) parts.push('size-like');
    if (s.origin) parts.push(s.origin);
    if (s.sources.length > 0) parts.push(s.sources.join(', '));
    lines.push(parts.join('  ') + at(s.kind === 'unbacked' ? s.location : s.rangeLocation));
  }
  for (const a of env.runtimeAsserts()) lines.push(`assert ${env.normalizeBool(a.expr).key}${at(a.location)}`);
  return lines.join('\n');
}

// Why an op is not in a backend's lowering table. Most of them never reach a backend as such: core
// functionalizes in-place ops before any backend sees the graph, random ops and creation from JS data run
// eagerly, data-dependent ops run as eager steps inside the program. Saying so keeps "missing" honest.
import { getOp } from '@kiln/tensor';

export function missingReason(name: string, means?: string): string {
  const op = getOp(name);
  if (op?.mutatesSelf) return 'in-place: functionalized by core';
  // A table that is not a backend (an exporter's op mapping) says what a missing op means for it.
  if (means !== undefined) return op?.random ? `random: ${means}` : means;
  if (op?.random) return 'random: runs eagerly';
  if (op?.dataDependent) return 'data-dependent: eager step in the program';
  return 'not lowered: eager step in the program';
}

/** The missing ops grouped by reason, as `reason: a, b; reason: c`. */
export function groupedMissing(missing: readonly string[], means?: string): string {
  const groups = new Map<string, string[]>();
  for (const name of missing) {
    const reason = missingReason(name, means);
    groups.set(reason, [...(groups.get(reason) ?? []), name]);
  }
  return [...groups].map(([reason, names]) => `${reason}: ${names.join(', ')}`).join('; ');
}

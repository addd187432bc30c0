// Seeded mutations of JSON values, for fuzzing readers of untrusted JSON (graph JSON, serialized
// TreeSpecs): delete a field or element, copy another field's value over it (plausible but misplaced),
// nudge a number, or put in one of the caller's replacement values. Deterministic for a seed.

/** A small linear congruential generator: the same seed gives the same mutations on every machine. */
export function seededRandom(seed: number): () => number {
  let s = seed | 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff);
}

type Slot = [Record<string | number, unknown>, string | number];

/** Every [container, key] in a JSON value, so a mutation can pick any field at any depth. */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [];
  const walk = (x: unknown) => {
    if (x === null || typeof x !== 'object') return;
    for (const key of Object.keys(x)) {
      out.push([x as Record<string, unknown>, Array.isArray(x) ? Number(key) : key]);
      walk((x as Record<string, unknown>)[key]);
    }
  };
  walk(root);
  return out;
}

/** A copy of `base` with one to `maxMutations` mutations; `base` is left as it was. */
export function mutateJson(base: unknown, next: () => number, replacements: readonly unknown[], maxMutations = 3): unknown {
  const copy = structuredClone(base);
  for (let m = 1 + Math.floor(next() * maxMutations); m > 0; m--) {
    const all = slots(copy);
    if (all.length === 0) break;
    const [container, key] = all[Math.floor(next() * all.length)]!;
    const choice = next();
    if (choice < 0.15) {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key];
    } else if (choice < 0.3) {
      const [other, otherKey] = all[Math.floor(next() * all.length)]!;
      container[key] = structuredClone(other[otherKey] ?? null);
    } else if (choice < 0.4 && typeof container[key] === 'number') {
      container[key] = (container[key] as number) + (next() < 0.5 ? 1 : -1);
    } else {
      container[key] = structuredClone(replacements[Math.floor(next() * replacements.length)]);
    }
  }
  return copy;
}

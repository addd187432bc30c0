// With side effects, which outside objects are the same object matters (a write through `a` is seen by a
// read through `b` only if a === b): every mutated source is guarded against every other object source as
// aliased or not, as it was while tracing.
import type { FrameTracer } from '../frame.js';

export function addAliasGuards(tracer: FrameTracer): void {
  const targets = tracer.effects.targetSources();
  if (targets.size === 0) return;
  const location = tracer.location ? `${tracer.location.file}:${tracer.location.line}` : undefined;
  const guard = (code: string, text: string): void => tracer.guards.add({ code, text, kind: 'identity', location });
  // A tensor written in place must not share storage with another input (it would see the write).
  const inputs = [...tracer.inputFakes.values()];
  for (const written of inputs.filter((i) => targets.has(i.source))) {
    for (const other of inputs) {
      // `functionalize` refuses a write to an input aliased by an input met *before* it; one met only after
      // the write (a captured tensor read later) was traced as separate memory: the graph would read its
      // old value where eager reads the written one. That graph is wrong for these inputs: run eagerly.
      if (other !== written && other.real.storage === written.real.storage) {
        guard(`${written.source}.storage === ${other.source}.storage`, `${written.source} shares storage with ${other.source}`);
        throw tracer.break(`a write to ${written.source}, which shares its storage with ${other.source} (read after the write)`, 'clone() one of them, or pass the tensor once');
      }
      if (other !== written) guard(`${written.source}.storage !== ${other.source}.storage`, `${written.source} does not share storage with ${other.source}`);
    }
  }
  const refs = tracer.objectRefs();
  for (const t of targets) {
    const target = refs.find(([s]) => s === t)?.[1];
    if (!target) continue;
    for (const [source, ref] of refs) {
      if (source === t) continue;
      const same = ref.value === target.value;
      guard(`(${t} === ${source}) === ${same}`, `${t} is ${same ? '' : 'not '}${source}`);
    }
  }
}

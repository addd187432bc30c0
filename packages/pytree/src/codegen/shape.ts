// Structure up to metadata. Generated flatten code is shared by subtrees of the same shape even when the
// metadata of their registered nodes differs (fifty Linear layers with different names or sizes): such
// functions take their spec as a parameter and read the expected metadata from it at run time.
import { mix, mixString } from '../meta.js';
import { sameNode, type TreeSpec } from '../spec.js';

const shapeHashes = new WeakMap<TreeSpec, number>();
const metaDependent = new WeakMap<TreeSpec, boolean>();

/** True if the subtree holds a registered node, whose metadata the generated code must read from the spec. */
export function readsMetadata(spec: TreeSpec): boolean {
  let known = metaDependent.get(spec);
  if (known === undefined) {
    known = spec.kind === 'custom' || spec.childSpecs.some(readsMetadata);
    metaDependent.set(spec, known);
  }
  return known;
}

/** Like TreeSpec.hash(), without registered nodes' metadata. */
export function shapeHash(spec: TreeSpec): number {
  let h = shapeHashes.get(spec);
  if (h !== undefined) return h;
  if (!readsMetadata(spec)) {
    h = spec.hash();
  } else {
    h = mixString(spec.kind, 0x9e3779b9);
    h = mixString(spec.node?.name ?? '', h);
    h = mix(h, spec.childSpecs.length);
    for (const child of spec.childSpecs) h = mix(h, shapeHash(child));
  }
  shapeHashes.set(spec, h);
  return h;
}

/** Same structure, allowing registered nodes' metadata to differ. */
export function sameShape(a: TreeSpec, b: TreeSpec): boolean {
  if (a === b) return true;
  if (a.kind === 'custom') {
    if (b.kind !== 'custom' || a.node !== b.node || a.childSpecs.length !== b.childSpecs.length) return false;
  } else if (!sameNode(a, b)) {
    return false;
  }
  for (let i = 0; i < a.childSpecs.length; i++) if (!sameShape(a.childSpecs[i]!, b.childSpecs[i]!)) return false;
  return true;
}

// The return value's spec: the tracer's output template (how compile() rebuilds a result) turned into a
// pytree spec whose leaves say where each value comes from — a graph output, a constant, or an input
// returned as itself. Only structures that serialize are allowed: arrays, plain objects, numbers, strings.
import type { ExportCapture, OutputTemplate } from '@kiln/core';
import type { Node } from '@kiln/graph';
import { treeFlatten } from '@kiln/pytree';
import { FakeTensor } from '@kiln/tensor';
import { ExportError } from './errors.js';
import type { OutputSpec, SizeSpec } from './program.js';

/** A leaf while the structure is rebuilt: an instance of an unregistered class is always a pytree leaf. */
class OutputLeaf {
  constructor(readonly spec: OutputSpec) {}
}

export function buildOutputs(capture: ExportCapture, names: ReadonlyMap<string, string>, shapeOf: (val: unknown) => SizeSpec[]) {
  const outputNode = capture.graph.outputNode()!;
  const items = outputNode.args[0] as readonly unknown[];
  const build = (t: OutputTemplate, where: string): unknown => {
    switch (t.kind) {
      case 'graph': {
        const item = items[t.index];
        const val = (item as Node | undefined)?.meta?.val;
        if (val instanceof FakeTensor) return new OutputLeaf({ kind: 'tensor', index: t.index, dtype: val.dtype, shape: shapeOf(val) });
        return new OutputLeaf({ kind: 'size', index: t.index });
      }
      case 'const': {
        const v = t.value;
        if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return new OutputLeaf({ kind: 'constant', value: v ?? null });
        throw new ExportError(`exportProgram: the return value holds a ${typeof v} at ${where || 'the top'}`, 'return tensors, sizes, numbers and strings in arrays and plain objects');
      }
      case 'source': {
        const source = capture.outputSources[t.index]!;
        const target = names.get(source);
        if (!target) throw new ExportError(`exportProgram: the return value holds ${source} at ${where || 'the top'}, a value from outside the function that is not a tensor input`, 'return tensors computed by the function');
        return new OutputLeaf({ kind: 'input', target });
      }
      case 'array':
        if (t.named?.length) throw new ExportError(`exportProgram: the return value has an array with named fields at ${where || 'the top'} (max(x, dim)'s result)`, 'return [values, indices] as a plain array: [...result]');
        return t.items.map((x, i) => build(x, `${where}[${i}]`));
      case 'object':
        if (t.proto) throw new ExportError(`exportProgram: the return value has an object with a custom prototype at ${where || 'the top'}`);
        return Object.fromEntries(t.entries.map(([k, x]) => [k, build(x, `${where}.${k}`)]));
      case 'arith':
      case 'tree':
      case 'view':
        throw new ExportError(`exportProgram: the return value holds a ${t.kind === 'tree' ? 'registered pytree class instance or Map' : t.kind === 'view' ? 'view of an input' : 'number computed from outside values'} at ${where || 'the top'}, which an exported program cannot rebuild`, 'return tensors, sizes, numbers and strings in arrays and plain objects');
      default:
        return t satisfies never;
    }
  };
  const [leaves, outputTree] = treeFlatten(build(capture.output, ''));
  return { outputTree, outputs: (leaves as OutputLeaf[]).map((l) => l.spec) };
}

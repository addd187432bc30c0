// The printed form of an exported program, as torch.export prints an ExportedProgram: its signature (inputs
// by user name, state by state-dict name, each with the placeholder it feeds), dims with ranges, asserts,
// outputs, then the core graph in @kiln/graph's one-line-per-node form. Deterministic: tests use it as an oracle.
import { formatValue, printGraph } from '@kiln/graph';
import type { DType } from '@kiln/tensor';
import type { ExportedProgram, OutputSpec, SizeSpec } from './program.js';
import { renameSymbols } from './size-facts.js';
import { EXPORTED_PROGRAM_INFO } from '@kiln/core';
import type { ExportedProgramInfo } from '@kiln/core';
import { programInfo } from './explain-info.js';

/** The printed type of a tensor spec of `p` (`f32[batch, 4]`): dims under the names the user gave them. */
export function tensorTypePrinter(p: ExportedProgram): (dtype: DType, shape: readonly SizeSpec[]) => string {
  const names = new Map(p.dims.map((d) => [d.symbol, d.name]));
  const size = (s: SizeSpec): string => (typeof s === 'number' ? String(s) : 'sym' in s ? names.get(s.sym) ?? s.sym : renameSymbols(s.text, names));
  return (dtype, shape) => formatValue({ dtype, shape: shape.map(size) });
}

export function printProgram(p: ExportedProgram): string {
  const tensor = tensorTypePrinter(p);
  const lines = [`ExportedProgram '${p.source.name}' (kiln ${p.kilnVersion})`, 'inputs:'];
  for (const i of p.inputs) {
    lines.push(i.kind === 'tensor' ? `  ${i.name}: ${tensor(i.dtype, i.shape)}${i.placeholder ? `  -> %${i.placeholder}` : '  (unused)'}` : `  ${i.name} = ${JSON.stringify(i.value)}  (baked in)`);
  }
  if (p.state.length) lines.push('state:', ...p.state.map((s) => `  ${s.kind} ${s.name}: ${tensor(s.dtype, s.shape)}  -> %${s.placeholder}`));
  if (p.dims.length) lines.push('dims:', ...p.dims.map((d) => `  ${d.name}${d.name === d.symbol ? '' : ` = ${d.symbol}`} in [${d.min}, ${d.max === Infinity ? 'inf' : d.max}]: ${d.places.join(', ')}`));
  if (p.asserts.length) lines.push('asserts:', ...p.asserts.map((a) => `  ${a.kind} ${a.text}${a.message ? `: ${a.message}` : ''}${a.location ? `  (${a.location})` : ''}`));
  lines.push(`outputs: ${p.outputTree.toString()}`, ...p.outputs.map((o, i) => `  [${i}] ${describeOutput(o, tensor)}`));
  if (p.mutations.length) lines.push('mutations (written back after each call):', ...p.mutations.map((m) => `  ${m.kind} ${m.target} <- graph output ${m.index}${m.location ? `  (${m.location})` : ''}`));
  lines.push('graph:', ...printGraph(p.graph).split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

export function describeOutput(o: OutputSpec, tensor: (dtype: DType, shape: readonly SizeSpec[]) => string): string {
  switch (o.kind) {
    case 'tensor':
      return `${tensor(o.dtype, o.shape)} = graph output ${o.index}`;
    case 'size':
      return `int = graph output ${o.index}`;
    case 'constant':
      return `${JSON.stringify(o.value)} (constant)`;
    case 'input':
      return `${o.target} (returned as itself)`;
    default:
      return o satisfies never;
  }
}

/**
 * `String(program)` prints it, and `explain(program)` (core) reads its account under EXPORTED_PROGRAM_INFO:
 * both non-enumerable, so the object's fields stay plain data.
 */
export function withPrinter(fields: Omit<ExportedProgram, typeof EXPORTED_PROGRAM_INFO>): ExportedProgram {
  const p = fields as ExportedProgram;
  Object.defineProperty(p, 'toString', { value: () => printProgram(p), enumerable: false });
  let info: ExportedProgramInfo | undefined;
  Object.defineProperty(p, EXPORTED_PROGRAM_INFO, { get: () => (info ??= programInfo(p)), enumerable: false });
  return p;
}

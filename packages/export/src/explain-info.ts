// An exported program as core's explain() and plugins (the compile report) see it: ExportedProgramInfo, plain
// data with the types printed the way printProgram prints them. exportProgram announces each new program on
// the compiler's `programExported` hook; every program carries its info (print.ts, withPrinter).
import type { Compiler, ExportedProgramInfo } from '@kiln/core';
import type { ExportedProgram } from './program.js';
import { describeOutput, printProgram, tensorTypePrinter } from './print.js';

export function programInfo(p: ExportedProgram, apiGraphText?: string): ExportedProgramInfo {
  const tensor = tensorTypePrinter(p);
  return {
    name: p.source.name,
    kilnVersion: p.kilnVersion,
    graph: p.graph,
    ...(apiGraphText ? { apiGraphText } : {}),
    inputs: p.inputs.map((i) => (i.kind === 'tensor'
      ? { name: i.name, kind: 'tensor', type: tensor(i.dtype, i.shape), placeholder: i.placeholder }
      : { name: i.name, kind: 'constant', type: JSON.stringify(i.value), placeholder: null })),
    state: p.state.map((s) => ({ kind: s.kind, name: s.name, type: tensor(s.dtype, s.shape), placeholder: s.placeholder })),
    outputTree: p.outputTree.toString(),
    outputs: p.outputs.map((o) => describeOutput(o, tensor)),
    dims: p.dims.map((d) => ({ name: d.name, symbol: d.symbol, min: d.min, max: d.max, places: d.places })),
    asserts: p.asserts.map((a) => ({ kind: a.kind, text: a.text, location: a.location, message: a.message })),
    text: printProgram(p),
  };
}

/** Tells the compiler's plugins about a program just exported (with the graph as captured, for the report). */
export function announceProgram(p: ExportedProgram, compiler: Compiler, apiGraphText: string): void {
  const { programExported } = compiler.hooks;
  if (programExported.isUsed()) programExported.call(programInfo(p, apiGraphText));
}

// saveProgram / readProgram / loadProgram: one file holds a whole program — the safetensors layout with the
// state tensors as its tensors and program.json as the string `__metadata__['kiln.program']` — so any
// safetensors reader sees the weights, and Kiln reads both. `serializeProgram` gives the two parts apart
// (program.json and a weights blob) for tools that store them side by side.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ExportedProgram } from '../program.js';
import { PROGRAM_FORMAT } from '../program.js';
import { ProgramFormatError } from '../errors.js';
import { programModule } from '../run/module.js';
import type { ProgramModule, ProgramModuleOptions } from '../run/module.js';
import { programFromJson, programToJson } from './program-json.js';
import type { ProgramJson } from './program-json.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** The metadata key of the one-file form that holds program.json. */
export const PROGRAM_METADATA_KEY = 'kiln.program';

/** program.json and the weights (safetensors bytes, tensors named by state name) as two parts. */
export function serializeProgram(program: ExportedProgram): { json: ProgramJson; weights: Uint8Array } {
  return { json: programToJson(program), weights: writeSafetensors(program.stateDict) };
}

/** The parts serializeProgram made (`json` as an object or its text), checked and rebuilt. */
export function deserializeProgram(json: unknown, weights: Uint8Array): ExportedProgram {
  let parsedJson = json;
  if (typeof json === 'string') {
    try {
      parsedJson = JSON.parse(json);
    } catch (err) {
      throw new ProgramFormatError(`exported program: program.json is not JSON (${(err as Error).message})`);
    }
  }
  return programFromJson(parsedJson, readSafetensors(weights).tensors);
}

/** The program as one file's bytes (written to `path` too when given). */
export function saveProgram(program: ExportedProgram, path?: string): Uint8Array {
  const bytes = writeSafetensors(program.stateDict, { format: PROGRAM_FORMAT, [PROGRAM_METADATA_KEY]: JSON.stringify(programToJson(program)) });
  if (path !== undefined) writeFileSync(path, bytes);
  return bytes;
}

/** Reads a program from saveProgram's bytes, or from a file path. */
export function readProgram(source: Uint8Array | string): ExportedProgram {
  const bytes = typeof source === 'string' ? readFile(source) : source;
  if (!(bytes instanceof Uint8Array)) throw new ProgramFormatError(`readProgram: expected bytes (a Uint8Array) or a file path, got ${source === null ? 'null' : typeof source}`);
  const { tensors, metadata } = readSafetensors(bytes);
  const text = metadata[PROGRAM_METADATA_KEY];
  if (text === undefined) throw new ProgramFormatError(`readProgram: the safetensors file has no '${PROGRAM_METADATA_KEY}' metadata: it holds weights, not an exported program`, 'write programs with saveProgram');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProgramFormatError(`readProgram: the program metadata is not JSON (${(err as Error).message})`);
  }
  return programFromJson(json, tensors);
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ProgramFormatError(`readProgram: cannot read '${path}': ${(err as Error).message}`, 'pass saveProgram\'s bytes, or the path of a file it wrote');
  }
}

/** readProgram, then programModule: a function that runs the program on a registered backend. */
export function loadProgram(source: Uint8Array | string, options: ProgramModuleOptions = {}): ProgramModule {
  return programModule(readProgram(source), options);
}

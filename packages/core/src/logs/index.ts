// Compile logs, selected by KILN_LOGS (or the config's `logs`; the variable wins), like TORCH_LOGS. Every
// line about a compile carries its `[frame/compile]` id. The spec is validated at compile(): a typo raises.
import { writeSync } from 'node:fs';
import { KilnConfigError } from '../config/errors.js';
import { checkLogSpec, logHelp, parseLogSpec } from './spec.js';
import type { LogArtifact, LogSettings } from './spec.js';

export { LOG_ARTIFACTS, LOG_ARTIFACT_DOCS, checkLogSpec, logHelp } from './spec.js';
export type { LogArtifact } from './spec.js';

let parsedFrom: string | undefined;
let settings: LogSettings = parseLogSpec('');
let configLogs = '';

/** KILN_LOGS when set (an empty value counts as unset), else the config's `logs`. */
const envLogs = (): string | undefined => process.env.KILN_LOGS || undefined;

function current(): LogSettings {
  const spec = envLogs() ?? configLogs;
  if (spec !== parsedFrom) {
    const problem = checkLogSpec(spec);
    parsedFrom = spec;
    settings = problem ? parseLogSpec('') : parseLogSpec(spec);
  }
  return settings;
}

/**
 * `help` in a spec, as TORCH_LOGS=help does: prints the artifacts to stdout and ends the process (status 0),
 * so the program it was set for does not run. Written synchronously: the exit must not cut the text off.
 */
function exitIfHelp(spec: string): void {
  if (!parseLogSpec(spec).help) return;
  try {
    writeSync(1, `${logHelp()}\n`);
  } catch {
    // stdout closed early (`| head`): the list was not wanted in full.
  }
  process.exit(0);
}

// KILN_LOGS=help ends the process when Kiln is imported, before any of the user's code runs (a program's
// imports run before its body), so `KILN_LOGS=help node app.mjs` and `kiln run` print the list and stop.
if (typeof process === 'object' && process.env.KILN_LOGS) exitIfHelp(process.env.KILN_LOGS);

/** The `logs` key of the config: used when KILN_LOGS is not set (`help` there prints the list and exits). */
export function setDefaultLogs(spec: string): void {
  configLogs = spec;
  if (envLogs() === undefined) exitIfHelp(spec);
}

/**
 * Raises on an invalid KILN_LOGS (compile() calls it, so a typo never silently logs nothing); `help`
 * (from the config's `logs`, or KILN_LOGS set after import) prints the list and ends the process.
 */
export function checkLogSettings(): void {
  const fromEnv = envLogs() !== undefined;
  const spec = envLogs() ?? configLogs;
  exitIfHelp(spec);
  const problem = checkLogSpec(spec);
  if (problem) throw new KilnConfigError(fromEnv ? 'KILN_LOGS' : 'config', fromEnv ? spec : 'logs', problem.message, problem.hint);
}

export function logEnabled(artifact: LogArtifact): boolean {
  return current().enabled.has(artifact);
}

/** Whether `+artifact` (its debug detail) is on. */
export function logDebug(artifact: LogArtifact): boolean {
  return current().debug.has(artifact);
}

/** Where log lines go (tests replace it). */
export const logSink = { write: (line: string): void => void process.stderr.write(`${line}\n`) };

export function compileTag(frameId: number, compileId: number, restart = 0): string {
  return `[${frameId}/${compileId}${restart ? `_${restart}` : ''}]`;
}

/** Logs `message` (lazily built: the text costs nothing when the artifact is off). */
export function log(artifact: LogArtifact, tag: string, message: string | (() => string)): void {
  if (!logEnabled(artifact)) return;
  const text = typeof message === 'function' ? message() : message;
  const prefix = tag ? `[kiln] ${tag} ${artifact}: ` : `[kiln] ${artifact}: `; // no tag: a line about no one compile
  for (const line of text.split('\n')) logSink.write(prefix + line);
}

/** A debug-level line (`+dynamo`). */
export function logDetail(artifact: LogArtifact, tag: string, message: string | (() => string)): void {
  if (logDebug(artifact)) log(artifact, tag, message);
}

// KILN_LOGS (or the config's `logs`): which artifacts compile logs print, like TORCH_LOGS. A comma-separated
// list of artifact names; `all` turns every artifact on; `+dynamo` adds the tracer's debug detail; `help`
// prints this list. An unknown name is an error that lists the valid ones.

/** Every artifact, with what it prints (the `help` text). */
export const LOG_ARTIFACT_DOCS = {
  dynamo: "the tracer's progress: each frame traced and compiled, with its time and size, or skipped for holding no tensor op (`+dynamo`: every call-site decision and each compile phase)",
  graph_breaks: 'each graph break: the reason, the user source line, and what runs eagerly',
  recompiles: 'each recompile: the guard that failed, with the expected and the actual value',
  guards: "each entry's guards (split frames too), with the user's names (L['x'].shape[0])",
  verbose_guards: 'the generated guard function of each entry',
  graph: 'each captured graph, one line per node',
  graph_code: 'each captured graph as JavaScript code',
  output_code: 'the generated kernels (the backend program: wasm kernels, or WGSL)',
  cache: 'the persistent compile cache (@kiln/plugin-cache): hits, misses and writes',
} as const;

export type LogArtifact = keyof typeof LOG_ARTIFACT_DOCS;
export const LOG_ARTIFACTS = Object.keys(LOG_ARTIFACT_DOCS) as LogArtifact[];
/** Artifacts that take `+` (a debug level), as TORCH_LOGS's components do. */
const LEVELED: readonly LogArtifact[] = ['dynamo'];

export interface LogSettings {
  readonly enabled: ReadonlySet<LogArtifact>;
  readonly debug: ReadonlySet<LogArtifact>;
  readonly help: boolean;
}

export interface LogSpecProblem {
  readonly message: string;
  readonly hint: string;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

const NAMES = [...LOG_ARTIFACTS, 'all', 'help'];

const closest = (name: string): string | undefined => closestName(name, NAMES);

/** The candidate nearest a misspelt `name` (fewer than 4 edits away), for "did you mean" in config and log errors. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    // A cut-off name (`guard`) is near what it starts; one that runs past a name (`graph_brek` past `graph`)
    // is measured by edits, so the longer name it misspells wins.
    const d = candidate.startsWith(name) ? 1 : editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

const parts = (spec: string) => spec.split(',').map((s) => s.trim()).filter(Boolean);

/** The first problem with a spec, or undefined when it is valid. */
export function checkLogSpec(spec: string): LogSpecProblem | undefined {
  for (const part of parts(spec)) {
    const name = part.replace(/^\+/, '');
    if (!NAMES.includes(name)) {
      const near = closest(name);
      return { message: `unknown log artifact '${part}'${near ? ` (did you mean '${near}'?)` : ''}`, hint: `valid names: ${NAMES.join(', ')}; '+dynamo' for debug detail; KILN_LOGS=help describes each` };
    }
    if (part.startsWith('+') && !(LEVELED as readonly string[]).includes(name) && name !== 'all') {
      return { message: `'${part}': only ${LEVELED.join(', ')} ${LEVELED.length === 1 ? 'takes' : 'take'} '+' (a debug level)`, hint: `write '${name}'` };
    }
  }
  return undefined;
}

/** A valid spec's settings (check it first with checkLogSpec). */
export function parseLogSpec(spec: string): LogSettings {
  const enabled = new Set<LogArtifact>();
  const debug = new Set<LogArtifact>();
  let help = false;
  for (const part of parts(spec)) {
    const name = part.replace(/^\+/, '');
    if (name === 'help') help = true;
    const names = name === 'all' ? LOG_ARTIFACTS : NAMES.includes(name) && name !== 'help' ? [name as LogArtifact] : [];
    for (const n of names) {
      enabled.add(n);
      if (part.startsWith('+') && (LEVELED as readonly string[]).includes(n)) debug.add(n);
    }
  }
  return { enabled, debug, help };
}

/** The `help` text: every artifact with what it prints. */
export function logHelp(): string {
  const width = Math.max(...LOG_ARTIFACTS.map((a) => a.length));
  return [
    'KILN_LOGS: a comma-separated list of artifacts (e.g. KILN_LOGS=graph_breaks,recompiles)',
    ...LOG_ARTIFACTS.map((a) => `  ${a.padEnd(width)}  ${LOG_ARTIFACT_DOCS[a]}`),
    `  ${'all'.padEnd(width)}  every artifact above`,
    `  ${'+dynamo'.padEnd(width)}  dynamo with debug detail`,
    `  ${'help'.padEnd(width)}  this list`,
  ].join('\n');
}

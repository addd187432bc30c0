// KILN_LOGS=graph_breaks,recompiles,guards,graph,graph_code,+dynamo,cache selects what compile logs print, like
// TORCH_LOGS. Every line about a compile carries its `[frame/compile]` id.
export const LOG_ARTIFACTS = ['graph_breaks', 'recompiles', 'guards', 'graph', 'graph_code', 'dynamo', 'cache'] as const;
export type LogArtifact = (typeof LOG_ARTIFACTS)[number];

let parsedFrom: string | undefined;
let enabled = new Set<string>();
let debug = false;

let configLogs = '';

/** The `logs` key of the config: used when KILN_LOGS is not set. */
export function setDefaultLogs(spec: string): void {
  configLogs = spec;
}

function current(): Set<string> {
  const spec = process.env.KILN_LOGS ?? configLogs;
  if (spec !== parsedFrom) {
    parsedFrom = spec;
    const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
    debug = parts.includes('+dynamo');
    enabled = new Set(parts.map((p) => p.replace(/^\+/, '')));
  }
  return enabled;
}

export function logEnabled(artifact: LogArtifact): boolean {
  return current().has(artifact) || (artifact === 'dynamo' && debug);
}

/** Where log lines go (tests replace it). */
export const logSink = { write: (line: string): void => void process.stderr.write(`${line}\n`) };

export function compileTag(frameId: number, compileId: number, restart = 0): string {
  return `[${frameId}/${compileId}${restart ? `_${restart}` : ''}]`;
}

export function log(artifact: LogArtifact, tag: string, message: string): void {
  if (!logEnabled(artifact)) return;
  for (const line of message.split('\n')) logSink.write(`[kiln] ${tag} ${artifact}: ${line}`);
}

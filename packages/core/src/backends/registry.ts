import { KilnError, KilnTypeError } from '@kiln/tensor';
import type { Graph } from '@kiln/graph';
import { Interpreter } from '@kiln/graph';

/** A compiled graph: takes the graph's inputs in placeholder order, returns its output list. */
export interface CompiledGraph {
  run(inputs: readonly unknown[]): unknown[];
  /** What the backend did, for `explain` (kernel count, fallbacks, generated code). */
  readonly report: BackendReport;
}

export interface BackendReport {
  readonly backend: string;
  readonly kernels: number;
  /** Nodes the backend could not lower and ran with their eager kernels, with the reason. */
  readonly fallbacks: readonly { readonly op: string; readonly reason: string }[];
  /** Set when the whole graph went to the interpreter instead. */
  readonly wholeGraphFallback?: string;
  readonly code?: string;
  readonly compileMs: number;
  /** The backend's own compile phases in ms (the CPU backend: `lower`, `wasm`), for explain and the bench. */
  readonly phasesMs?: Readonly<Record<string, number>>;
}

/** A backend turns a core graph into something that runs. Backends are plugins: see `registerBackend`. */
export interface Backend {
  readonly name: string;
  compile(graph: Graph): CompiledGraph;
  /** Registry ops this backend generates code for (the policy audit's backend-coverage column). */
  loweredOps?(): string[];
}

/** The reference backend: the interpreter over eager kernels. */
export const eagerBackend: Backend = {
  name: 'eager',
  compile(graph) {
    const interpreter = new Interpreter(graph);
    return {
      run: (inputs) => interpreter.run(inputs) as unknown[],
      report: { backend: 'eager', kernels: 0, fallbacks: [], compileMs: 0 },
    };
  },
};

const backends = new Map<string, Backend>([['eager', eagerBackend]]);

export class UnknownBackendError extends KilnError {}

export function registerBackend(backend: Backend): void {
  const b = backend as unknown as Record<string, unknown> | null;
  if (b === null || typeof b !== 'object') {
    throw new KilnTypeError(`registerBackend: expects a backend object, got ${b === null ? 'null' : typeof b}`, 'pass { name, compile(graph) { return { run, report }; } }');
  }
  if (typeof b.name !== 'string' || b.name === '' || b.name === 'auto') {
    throw new KilnTypeError(`registerBackend: the backend's name must be a non-empty string other than 'auto', got ${JSON.stringify(b.name) ?? typeof b.name}`, 'give the backend the name compile(fn, { backend }) will use');
  }
  if (typeof b.compile !== 'function') {
    throw new KilnTypeError(`registerBackend: backend '${b.name}' has no compile(graph) method`, 'compile(graph) must return { run(inputs), report }');
  }
  backends.set(backend.name, backend);
}

export function getBackend(name: string): Backend {
  const backend = backends.get(name);
  if (!backend) {
    throw new UnknownBackendError(
      `unknown backend '${name}' (registered: ${[...backends.keys()].join(', ')})`,
      name === 'cpu' ? "import '@kiln/backend-cpu' (or list it in the config's plugins) to register it" : 'register it with registerBackend()',
    );
  }
  return backend;
}

export function registeredBackends(): Backend[] {
  return [...backends.values()];
}

export function backendNames(): string[] {
  return [...backends.keys()];
}

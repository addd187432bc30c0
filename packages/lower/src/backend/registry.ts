// Process-wide registration, for backends that announce themselves on import (`import '@kiln/backend-cpu'`).
// A thin adapter over the hooks: every compiler's built-in `kiln:registered-backends` plugin adds these to
// its `hooks.backends`, where config plugins add theirs. Compilers never read this list any other way.
import { KilnTypeError } from '@kiln/tensor';
import type { Backend } from './contract.js';
import { EAGER_CAPABILITIES } from './contract.js';

const registered = new Map<string, Backend>();

/** Checks the shape of a backend object; errors name the backend and what is missing. */
export function validateBackend(backend: unknown, api: string): asserts backend is Backend {
  const b = backend as Record<string, unknown> | null;
  if (b === null || typeof b !== 'object') {
    throw new KilnTypeError(`${api}: expects a backend object, got ${b === null ? 'null' : typeof b}`, 'pass { name, priority, capabilities, compile(graph, ctx) { return { run, report }; } }');
  }
  if (typeof b.name !== 'string' || b.name === '' || b.name === 'auto') {
    throw new KilnTypeError(`${api}: the backend's name must be a non-empty string other than 'auto', got ${JSON.stringify(b.name) ?? typeof b.name}`, 'give the backend the name compile(fn, { backend }) will use');
  }
  if (typeof b.compile !== 'function') {
    throw new KilnTypeError(`${api}: backend '${b.name}' has no compile(graph) method`, 'compile(graph, ctx) must return { run(inputs), report }');
  }
  if (b.capabilities !== undefined && (typeof b.capabilities !== 'object' || b.capabilities === null || !Array.isArray((b.capabilities as { dtypes?: unknown }).dtypes))) {
    throw new KilnTypeError(`${api}: backend '${b.name}': capabilities must be an object with a dtypes list`, 'see BackendCapabilities in @kiln/lower');
  }
  if (b.priority !== undefined && typeof b.priority !== 'number') {
    throw new KilnTypeError(`${api}: backend '${b.name}': priority must be a number, got ${typeof b.priority}`, '`auto` picks the available backend with the highest priority');
  }
}

/**
 * Registers a backend for every compiler of the process (replacing one of the same name). A backend of the
 * older `{ name, compile }` shape gets priority 0 and the capabilities of one that lowers nothing itself.
 */
export function registerBackend(backend: Backend | Pick<Backend, 'name' | 'compile'>): void {
  validateBackend(backend, 'registerBackend');
  const defaults = { priority: 0, capabilities: EAGER_CAPABILITIES };
  registered.set(backend.name, { ...defaults, ...backend });
}

export function registeredBackends(): Backend[] {
  return [...registered.values()];
}

/** The hooks a backend plugin needs: structurally the compiler's, so a backend never imports the compiler. */
export interface BackendHost {
  readonly hooks: {
    readonly backends: { tap(options: { name: string; stage?: number }, fn: (backends: Backend[]) => Backend[]): void };
  };
}

/** A config plugin (`plugins: ['@kiln/backend-x']`) that adds `backend` to one compiler's `hooks.backends`. */
export function backendPlugin(backend: Backend): { readonly name: string; apply(compiler: BackendHost): void } {
  validateBackend(backend, 'backendPlugin');
  const name = `kiln:backend-${backend.name}`;
  return {
    name,
    apply(compiler) {
      compiler.hooks.backends.tap({ name }, (list) => [...list.filter((b) => b.name !== backend.name), backend]);
    },
  };
}

// Backend selection. Backends reach a compiler only through `hooks.backends` (config plugins, and the
// process-wide `registerBackend` list through a built-in plugin); this file picks one by name or, for
// `auto`, the available backend with the highest priority, and runs each backend's init once.
import type { Backend, BackendAvailability } from '@kiln/lower';
import { EAGER_CAPABILITIES } from '@kiln/lower';
import { Interpreter, userFacingError } from '@kiln/graph';
import { KilnError } from '@kiln/tensor';

export class UnknownBackendError extends KilnError {}
export class BackendUnavailableError extends KilnError {}

/** The reference backend: the interpreter over eager kernels. Always available, lowest priority. */
export const eagerBackend: Backend = {
  name: 'eager',
  priority: 0,
  capabilities: EAGER_CAPABILITIES,
  compile(graph) {
    return {
      run(inputs) {
        try {
          return new Interpreter(graph).run([...inputs]) as unknown[];
        } catch (err) {
          throw userFacingError(err);
        }
      },
      report: { backend: 'eager', kernels: 0, eagerSteps: [], compileMs: 0 },
    };
  },
};

type InitState = { status: BackendAvailability | 'pending'; promise?: Promise<unknown> };
/** Per backend object, once per process: devices are set up once, whichever compiler asks first. */
const inits = new WeakMap<Backend, InitState>();

const failed = (err: unknown): BackendAvailability => ({ available: false, reason: `init() threw: ${err instanceof Error ? err.message : String(err)}` });

function checkedAnswer(backend: Backend, answer: unknown): BackendAvailability {
  const a = answer as BackendAvailability | undefined;
  if (a && a.available === true) return a;
  if (a && a.available === false && typeof a.reason === 'string') return a;
  return { available: false, reason: `init() must answer { available: true } or { available: false, reason }, got ${JSON.stringify(answer) ?? typeof answer}` };
}

/** The backend's availability; 'pending' while an asynchronous init runs. Starts the init on first ask. */
export function backendAvailability(backend: Backend): BackendAvailability | 'pending' {
  let state = inits.get(backend);
  if (!state) {
    state = { status: { available: true } };
    inits.set(backend, state);
    if (backend.init) {
      try {
        const answer = backend.init();
        if (answer && typeof (answer as Promise<unknown>).then === 'function') {
          const s = state;
          s.status = 'pending';
          s.promise = (answer as Promise<BackendAvailability>).then((a) => (s.status = checkedAnswer(backend, a)), (err) => (s.status = failed(err)));
        } else state.status = checkedAnswer(backend, answer);
      } catch (err) {
        state.status = failed(err);
      }
    }
  }
  return state.status;
}

/** Resolves once every listed backend's init has answered. */
export async function backendsReady(backends: readonly Backend[]): Promise<void> {
  for (const b of backends) backendAvailability(b);
  await Promise.all(backends.map((b) => inits.get(b)?.promise));
}

/** One line per backend: name, priority, availability (explain and `kiln audit` print it). */
export function describeBackends(backends: readonly Backend[]): string[] {
  return [...backends]
    .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))
    .map((b) => {
      const a = backendAvailability(b);
      return `${b.name} (priority ${b.priority ?? 0}, ${b.capabilities.device}): ${a === 'pending' ? 'initializing' : a.available ? 'available' : `unavailable: ${a.reason}`}`;
    });
}

/** `auto`: the available backend with the highest priority; a name: that backend, which must be available. */
export function selectBackend(backends: readonly Backend[], name: string, source: string): Backend {
  if (name === 'auto') {
    const ranked = [...backends].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    return ranked.find((b) => (backendAvailability(b) as BackendAvailability).available === true) ?? eagerBackend;
  }
  const backend = backends.find((b) => b.name === name);
  if (!backend) {
    throw new UnknownBackendError(
      `${source}: unknown backend '${name}' (registered: auto, ${backends.map((b) => b.name).join(', ')})`,
      "list the backend's package in the config's plugins (or import it, which registers it), or fix the name",
    );
  }
  const a = backendAvailability(backend);
  if (a === 'pending') throw new BackendUnavailableError(`${source}: backend '${name}' is still initializing`, 'await compiler.ready() before the first compiled call');
  if (!a.available) throw new BackendUnavailableError(`${source}: backend '${name}' is unavailable: ${a.reason}`, "use backend: 'auto' to run on the best available backend");
  return backend;
}

// A compiler: resolved config plus one frozen hooks object. Built-in behaviour is applied as plugins from
// one place (the policy answers call-site decisions, the eager backend runs graphs), then user plugins.
import { KilnError, KilnTypeError } from '@kiln/tensor';
import { createHooks, HOOK_STAGES } from './hooks.js';
import type { CompilerHooks } from './hooks.js';
import type { Backend } from '@kiln/lower';
import { registeredBackends } from '@kiln/lower';
import { backendsReady, eagerBackend } from './backends/registry.js';
import { decompose } from '@kiln/graph';
import { runPasses } from '@kiln/graph';
import { defaultDecision, activeCompiler } from './trace/policy-adapter.js';

export interface KilnConfig {
  /** A backend name; `auto` (the default) is the available backend with the highest priority. */
  readonly backend: string;
  readonly plugins: readonly string[];
  readonly policy: Readonly<Record<string, unknown>> | undefined;
  readonly logs: string | undefined;
  readonly dynamic: boolean | undefined;
  readonly recompileLimit: number;
}

export const DEFAULT_CONFIG: KilnConfig = Object.freeze({
  backend: 'auto',
  plugins: [],
  policy: undefined,
  logs: undefined,
  dynamic: undefined,
  recompileLimit: 8,
});

export interface KilnPlugin {
  readonly name: string;
  apply(compiler: Compiler): void;
}

export class Compiler {
  readonly hooks: CompilerHooks = createHooks();

  constructor(readonly config: KilnConfig = DEFAULT_CONFIG) {
    for (const plugin of BUILTIN_PLUGINS) plugin.apply(this);
  }

  /** The backends plugins added through `hooks.backends` (first of each name wins), `eager` last. */
  backends(): Backend[] {
    const seen = new Set<string>();
    return this.hooks.backends.call([]).filter((b) => !seen.has(b.name) && seen.add(b.name));
  }

  /** Resolves once every backend's (possibly asynchronous) init has answered: await it before the first call. */
  ready(): Promise<void> {
    return backendsReady(this.backends());
  }

  /** Applies a plugin object; errors name the plugin. */
  use(plugin: KilnPlugin, origin?: string): this {
    if (plugin === null || typeof plugin !== 'object' || typeof (plugin as { apply?: unknown }).apply !== 'function') {
      throw new KilnTypeError(
        `Compiler.use: expects a plugin object with an apply(compiler) method, got ${plugin === null ? 'null' : typeof plugin === 'object' ? 'an object without apply()' : `${typeof plugin}`}`,
        'pass { name, apply(compiler) { … } }; for a factory, call it first: compiler.use(myPlugin())',
      );
    }
    origin ??= plugin.name ?? '(unnamed)';
    try {
      plugin.apply(this);
    } catch (err) {
      throw new KilnError(`plugin ${origin} threw in apply(): ${err instanceof Error ? err.message : String(err)}`);
    }
    return this;
  }
}

const PolicyPlugin: KilnPlugin = {
  name: 'kiln:policy',
  apply(compiler) {
    compiler.hooks.policyDecision.tap({ name: 'kiln:policy', stage: HOOK_STAGES.builtin }, (fn, name) => defaultDecision(fn, name));
  },
};

/**
 * After any backend a config plugin added: the backends registered process-wide (`registerBackend`, which
 * a backend package may call when imported), then the interpreter (`eager`).
 */
const BuiltinBackendsPlugin: KilnPlugin = {
  name: 'kiln:backends',
  apply(compiler) {
    compiler.hooks.backends.tap({ name: 'kiln:backends', stage: HOOK_STAGES.builtin }, (list) => [...list, ...registeredBackends(), eagerBackend]);
  },
};

/** The built-in graph passes (constant folding, CSE, DCE) at the `builtin` stage; plugins' passes run first. */
const GraphPassesPlugin: KilnPlugin = {
  name: 'kiln:graph-passes',
  apply(compiler) {
    compiler.hooks.graphPasses.tap({ name: 'kiln:graph-passes', stage: HOOK_STAGES.builtin }, (graph) => runPasses(graph));
  },
};

/** API graph → core graph through the registry's decompositions, so backends see only core ops. */
const DecomposePlugin: KilnPlugin = {
  name: 'kiln:decompose',
  apply(compiler) {
    compiler.hooks.decomposition.tap({ name: 'kiln:decompose', stage: HOOK_STAGES.builtin }, (graph) => (graph.level === 'core' ? graph : decompose(graph)));
  },
};

const BUILTIN_PLUGINS: readonly KilnPlugin[] = [PolicyPlugin, GraphPassesPlugin, DecomposePlugin, BuiltinBackendsPlugin];

let defaultCompiler: Compiler | undefined;

/** The compiler compile() uses when none is passed (defaults, or what configure() loaded). */
export function getDefaultCompiler(): Compiler {
  return (defaultCompiler ??= new Compiler());
}

export function setDefaultCompiler(compiler: Compiler): void {
  if (!(compiler instanceof Compiler)) {
    throw new KilnTypeError(`setDefaultCompiler: expects a Compiler, got ${compiler === null ? 'null' : typeof compiler}`, 'build one with createCompiler(config) or new Compiler()');
  }
  defaultCompiler = compiler;
}

/** Runs `fn` with `compiler`'s hooks answering the tracer's policy questions. */
export function withCompiler<T>(compiler: Compiler, fn: () => T): T {
  const saved = activeCompiler.hooks;
  activeCompiler.hooks = compiler.hooks;
  try {
    return fn();
  } finally {
    activeCompiler.hooks = saved;
  }
}

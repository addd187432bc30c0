// A compiler: resolved config plus one frozen hooks object. Built-in behaviour is applied as plugins from
// one place (the policy answers call-site decisions, the eager backend runs graphs), then user plugins.
import { KilnError, KilnTypeError } from '@kiln/tensor';
import { createHooks, HOOK_STAGES, PASS_STAGES } from './hooks.js';
import type { CompilerHooks } from './hooks.js';
import { decompose, builtinPasses } from '@kiln/graph';
import type { Graph } from '@kiln/graph';
import type { Backend } from '@kiln/lower';
import { registeredBackends } from '@kiln/lower';
import { backendsReady, eagerBackend } from './backends/registry.js';
import { Policy, defaultPolicy } from '@kiln/policy';
import { defaultDecision } from './trace/policy-adapter.js';
import type { CallPolicy } from './trace/policy-adapter.js';

export interface KilnConfig {
  /** A backend name; `auto` (the default) is the available backend with the highest priority. */
  readonly backend: string;
  /** Package names, paths relative to the config file, `[name, options]` for a factory, or plugin objects. */
  readonly plugins: readonly PluginSpec[];
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
  /** Taps the compiler's hooks. May be async: configure() awaits it before the next plugin. */
  apply(compiler: Compiler): void | Promise<void>;
}

export type PluginSpec = string | readonly [string, unknown] | KilnPlugin;

export class Compiler {
  readonly hooks: CompilerHooks = createHooks();
  /**
   * This compiler's policy: the config's overrides are its own; the process-wide ones (`allowInGraph()`,
   * `skip()` called from code) are inherited. Another compiler's config never changes what this one decides.
   */
  readonly policy: Policy = new Policy({ inherit: defaultPolicy.overrides });
  /** What the tracer asks at every call site: the hooks first (plugins, then the `kiln:policy` tap). */
  readonly calls: CallPolicy = {
    policy: this.policy,
    decide: (fn, name) => this.hooks.policyDecision.call(fn, name) ?? defaultDecision(this.policy, fn, name),
  };

  /**
   * @param configFile the config file this compiler was built from (relative module paths of its rules
   *   resolve against its folder; `kiln audit` names it), if any.
   */
  constructor(
    readonly config: KilnConfig = DEFAULT_CONFIG,
    readonly configFile?: string,
  ) {
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
    let result: unknown;
    try {
      result = plugin.apply(this);
    } catch (err) {
      throw new KilnError(`plugin ${origin} threw in apply(): ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, () => undefined); // reported here, not as an unhandled rejection
      throw new KilnError(`plugin ${origin} has an async apply(): use \`await compiler.useAsync(plugin)\``);
    }
    return this;
  }

  /** use() for a plugin whose apply() may be async; a rejection names the plugin. */
  async useAsync(plugin: KilnPlugin, origin?: string): Promise<this> {
    origin ??= plugin?.name ?? '(unnamed)';
    try {
      await plugin.apply(this);
    } catch (err) {
      throw new KilnError(`plugin ${origin} failed in apply(): ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
    }
    return this;
  }
}

const PolicyPlugin: KilnPlugin = {
  name: 'kiln:policy',
  apply(compiler) {
    compiler.hooks.policyDecision.tap({ name: 'kiln:policy', stage: HOOK_STAGES.builtin }, (fn, name) => defaultDecision(compiler.policy, fn, name));
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

/** A built-in pass as its own tap on graphPasses, at its stage (PASS_STAGES), named `kiln:<name>` (`kiln:cse`). */
function passPlugin(name: string, stage: number, run: (graph: Graph) => Graph): KilnPlugin {
  return {
    name: `kiln:${name}`,
    apply(compiler) {
      compiler.hooks.graphPasses.tap({ name: `kiln:${name}`, stage }, run);
    },
  };
}

const inPlace = (pass: (graph: Graph) => boolean) => (graph: Graph) => (pass(graph), graph);

/** Constant folding, CSE, DCE on the API graph, then decomposition to core ops, so backends see only core ops. */
const PASS_PLUGINS: readonly KilnPlugin[] = [
  ...builtinPasses.map((pass) => passPlugin(pass.name, PASS_STAGES[pass.name], inPlace(pass.run))),
  passPlugin('decompose', PASS_STAGES.decompose, (graph) => (graph.level === 'core' ? graph : decompose(graph))),
];

const BUILTIN_PLUGINS: readonly KilnPlugin[] = [PolicyPlugin, ...PASS_PLUGINS, BuiltinBackendsPlugin];

let defaultCompiler: Compiler | undefined;
let loadDefault: (() => Compiler) | undefined;

/** How the default compiler is made when nobody set one: the config module loads the config file (config/). */
export function setDefaultCompilerLoader(load: () => Compiler): void {
  loadDefault = load;
}

/**
 * The compiler compile() uses when none is passed: what configure() loaded, or else the config file loaded
 * now, synchronously (the first compile() of a process), or defaults.
 */
export function getDefaultCompiler(): Compiler {
  if (defaultCompiler) return defaultCompiler;
  if (loadDefault) return (defaultCompiler = loadDefault());
  return (defaultCompiler = new Compiler());
}

export function setDefaultCompiler(compiler: Compiler): void {
  if (!(compiler instanceof Compiler)) {
    throw new KilnTypeError(`setDefaultCompiler: expects a Compiler, got ${compiler === null ? 'null' : typeof compiler}`, 'build one with createCompiler(config) or new Compiler()');
  }
  defaultCompiler = compiler;
}

import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, reset } from '../src/compile.js';
import { Compiler, getDefaultCompiler, setDefaultCompiler } from '../src/compiler.js';
import { configure, createCompiler, KilnConfigError } from '../src/config/index.js';
import { Interpreter } from '@kiln/graph';
import { EAGER_CAPABILITIES, type Backend } from '@kiln/lower';
import { assertSameValue } from './support/tracer.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tracer-config');
const x = k.ones([2, 3]);
function secret(t: Tensor) {
  return t.mul(3);
}

const Hooks = suite('hooks and config');

Hooks('the hooks object is frozen and typed per compiler', () => {
  const c = new Compiler();
  assert.ok(Object.isFrozen(c.hooks));
  assert.is.not(c.hooks, new Compiler().hooks);
});

Hooks('config from a file with a plugin from a file', async () => {
  const saved = getDefaultCompiler();
  try {
    const compiler = await configure(join(fixtures, 'good'));
    assert.is(compiler.config.recompileLimit, 3);
    const plugin = (await import(pathToFileURL(join(fixtures, 'good', 'plugin.mjs')).href)) as { seen: { graphs: number; passes: number } };
    const before = plugin.seen.graphs;
    const f = compile((t: Tensor) => t.add(1).exp());
    assertSameValue(f(x), x.add(1).exp());
    assert.is(plugin.seen.graphs, before + 1);
    assert.ok(plugin.seen.passes > 0);
    // The plugin's policy decision wins over the policy (a bail hook, plugins before built-ins).
    let broke = '';
    compiler.hooks.graphBreak.tap('test', (r) => void (broke = r.reason));
    const g = compile((t: Tensor) => secret(t).add(1));
    assertSameValue(g(x), x.mul(3).add(1));
    assert.match(broke, /secret functions stay eager/);
  } finally {
    setDefaultCompiler(saved);
  }
});

Hooks('a bad key names the file and the key', async () => {
  try {
    await configure(join(fixtures, 'bad-key'));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, KilnConfigError);
    assert.match((err as Error).message, /bad-key\/kiln\.config\.json: recompileLimt: unknown key/);
  }
});

Hooks('a plugin that cannot be loaded is named', async () => {
  try {
    await configure(join(fixtures, 'missing-plugin'));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, KilnConfigError);
    assert.match((err as Error).message, /missing-plugin\/kiln\.config\.json: plugins\[0\]: cannot find plugin '\.\/nope\.mjs'/);
  }
});

Hooks('a plugin that throws in apply is named', async () => {
  try {
    await configure(join(fixtures, 'throwing-plugin'));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, KilnConfigError);
    assert.match((err as Error).message, /plugins\[0\]: plugin 'broken-plugin' threw in apply\(\): boom/);
  }
});

Hooks('invalid values are rejected with the key', async () => {
  for (const [raw, key] of [[{ recompileLimit: 0 }, 'recompileLimit'], [{ dynamic: 'yes' }, 'dynamic'], [{ plugins: 'x' }, 'plugins']] as const) {
    try {
      await createCompiler(raw, 'kiln.config.json');
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, new RegExp(`kiln\\.config\\.json: ${key}: must be`));
    }
  }
});

Hooks('a backend registers through hooks.backends', async () => {
  const compiler = await createCompiler({ backend: 'counting' });
  let runs = 0;
  const counting: Backend = {
    name: 'counting',
    priority: 1,
    capabilities: EAGER_CAPABILITIES,
    compile: (graph) => ({
      run(inputs) {
        runs++;
        return new Interpreter(graph).run([...inputs]) as unknown[];
      },
      report: { backend: 'counting', kernels: 0, eagerSteps: [], compileMs: 0 },
    }),
  };
  compiler.hooks.backends.tap('counting', (list) => [...list, counting]);
  const f = compile((t: Tensor) => t.neg(), { compiler });
  assertSameValue(f(x), x.neg());
  f(x);
  assert.is(runs, 2);
});

Hooks('reset() forgets compiled entries: every compiled function traces again', () => {
  const compiler = new Compiler();
  const events: string[] = [];
  compiler.hooks.cacheHit.tap('t', () => void events.push('hit'));
  compiler.hooks.cacheMiss.tap('t', () => void events.push('miss'));
  const make = () => compile((t: Tensor) => t.exp().mul(2), { compiler });
  const [f, g] = [make(), make()]; // one code location: one cache, as for Dynamo's code objects
  assertSameValue(f(x), x.exp().mul(2));
  g(x);
  reset();
  assertSameValue(f(x), x.exp().mul(2));
  f(x);
  assert.equal(events, ['miss', 'hit', 'miss', 'hit']);
});

Hooks('cache hit, miss and recompile events', () => {
  const compiler = new Compiler();
  const events: string[] = [];
  compiler.hooks.cacheHit.tap('t', (e) => void events.push(`hit ${e.tag}`));
  compiler.hooks.cacheMiss.tap('t', () => void events.push('miss'));
  compiler.hooks.recompile.tap('t', (_, reason) => void events.push(`recompile ${reason.split(' ')[0]}`));
  const f = compile((t: Tensor, n: number) => t.mul(n), { compiler });
  f(x, 1);
  f(x, 1);
  f(x, 2);
  assert.equal(events.map((e) => e.replace(/\[\d+\//, '[F/')), ['miss', 'hit [F/0]', 'miss', "recompile L['n']"]);
});

Hooks.run();

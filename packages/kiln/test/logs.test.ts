// KILN_LOGS as a user meets it through the one import: validated names, help, all, the tracer's own lines,
// generated kernels, graph code, guards of split frames, recompile values and the user's names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import type { Tensor } from 'kiln';
import { join } from 'node:path';
import { captureLogs } from '../../core/test/support/logs.js';
import { coreUrl, project, repoRoot, runNode, tensorUrl } from '../../core/test/support/project.js';

const Logs = suite('KILN_LOGS');

/** The log lines `run` printed with KILN_LOGS set to `spec`, as one text. */
const withLogs = (spec: string, run: () => unknown): string => captureLogs(spec, () => void run()).join('\n');

Logs('an unknown artifact raises at compile(), with a did-you-mean and the valid names', () => {
  let err: unknown;
  withLogs('recompiles,graph_break', () => {
    try {
      k.compile((x: Tensor) => x.add(1));
    } catch (e) {
      err = e;
    }
  });
  assert.instance(err, k.KilnConfigError);
  assert.match((err as Error).message, /KILN_LOGS: .*unknown log artifact 'graph_break' \(did you mean 'graph_breaks'\?\)/);
  assert.match((err as Error).message, /valid names: .*graph_breaks.*output_code/);
  const suggestions = ['graph_brek', 'guard', 'graphs', 'output'].map((name) => {
    try {
      withLogs(name, () => k.compile((x: Tensor) => x.add(1)));
    } catch (e) {
      return /did you mean '([^']+)'/.exec((e as Error).message)?.[1];
    }
    return undefined;
  });
  assert.equal(suggestions, ['graph_breaks', 'guards', 'graph', 'output_code']);
  let plus: unknown;
  withLogs('+graph', () => {
    try {
      k.compile((x: Tensor) => x.add(1));
    } catch (e) {
      plus = e;
    }
  });
  assert.match((plus as Error).message, /'\+graph': only dynamo takes '\+' \(a debug level\)/);
});

const listsEveryArtifact = (out: string): void => {
  for (const name of ['graph_breaks', 'recompiles', 'guards', 'graph_code', 'output_code', 'dynamo', 'all']) assert.match(out, new RegExp(`\\n  \\+?${name}\\s`));
};

Logs("help prints every artifact with what it shows, then exits 0 without running the user's program (as TORCH_LOGS=help)", () => {
  // The demo prints its models and timings when it runs; with help it must print the list only.
  const demo = runNode(repoRoot, ['examples/demo.mjs'], { KILN_LOGS: 'help' });
  assert.is(demo.status, 0, demo.stderr);
  listsEveryArtifact(demo.stdout);
  assert.not.match(demo.stdout + demo.stderr, /===|Graph count/);
  const dir = project({ 'main.mjs': `console.log('program ran');\nimport { compile } from '${coreUrl}';\nimport { ones } from '${tensorUrl}';\ncompile((x) => x.add(1))(ones([2]));\n` });
  const viaCli = runNode(dir, [join(repoRoot, 'packages/kiln/src/cli/bin.ts'), 'run', 'main.mjs'], { KILN_LOGS: 'graph,help' });
  assert.is(viaCli.status, 0, viaCli.stderr);
  listsEveryArtifact(viaCli.stdout);
  assert.not.match(viaCli.stdout + viaCli.stderr, /program ran|graph:/);
  // Set only in the config (read at the first compile()): the list, then the exit, before the compile.
  const configured = project({ 'kiln.config.mjs': "export default { logs: 'help' };\n", 'main.mjs': `import { compile } from '${coreUrl}';\nimport { ones } from '${tensorUrl}';\ncompile((x) => x.add(1))(ones([2]));\nconsole.log('program ended');\n` });
  const fromConfig = runNode(configured, ['main.mjs']);
  assert.is(fromConfig.status, 0, fromConfig.stderr);
  listsEveryArtifact(fromConfig.stdout);
  assert.not.match(fromConfig.stdout, /program ended/);
});

Logs('dynamo prints each frame traced and compiled; +dynamo adds call-site decisions and phases', () => {
  const f = (x: Tensor) => x.mul(2).relu();
  const info = withLogs('dynamo', () => k.compile(f)(k.ones([3])));
  assert.match(info, /dynamo: tracing 'f'/);
  assert.match(info, /dynamo: compiled 'f': 2 ops, \d+ guards, backend cpu \(1 kernel\)/);
  const one = withLogs('dynamo', () => k.compile((x: Tensor) => x.neg())(k.ones([3])));
  assert.match(one, /dynamo: compiled '\w*': 1 op, \d+ guards, backend cpu \(1 kernel\)/, 'counts in the singular where they are 1');
  assert.not.match(info, /call x\.mul/);
  const g = (x: Tensor) => x.mul(2).relu();
  const debug = withLogs('+dynamo', () => k.compile(g)(k.ones([3])));
  assert.match(debug, /dynamo: call x\.mul \(.*\): allowInGraph by /);
  assert.match(debug, /dynamo: phases: .*ms/);
});

Logs('output_code prints the generated kernels; graph_code prints the graph as code, not the guard function', () => {
  const f = (x: Tensor) => x.mul(2).add(1).exp();
  const out = withLogs('output_code,graph_code', () => k.compile(f)(k.ones([4])));
  assert.match(out, /output_code: \/\/ backend cpu: 1 kernel\n/);
  // The wasm module as WAT, each kernel's function noted with its name and the graph ops it computes.
  assert.match(out, /output_code: \(module\n/);
  assert.match(out, /output_code:   \(func \$k0 \(export "k0"\) \(param i32(?: i32)+\)  ;; kernel pointwise\d+ \(pointwise\): (?=.*mul)(?=.*add)(?=.*exp)/);
  assert.match(out, /output_code: +f32x4\.mul\n/);
  assert.not.match(out, /output_code: pointwise /, 'the generated code, not the loop program');
  assert.match(out, /graph_code: function f\(x\) \{/);
  assert.match(out, /graph_code:   const \w+ = mul\(x, 2\);/);
  assert.not.match(out, /function guard/);
});

Logs('all turns every artifact on', () => {
  const f = (x: Tensor) => x.sum();
  const out = withLogs('all', () => k.compile(f)(k.ones([4])));
  for (const a of ['dynamo', 'graph', 'graph_code', 'guards', 'verbose_guards', 'output_code']) assert.match(out, new RegExp(`\\] ${a}: `));
});

function noisy(t: Tensor): Tensor {
  return t.neg();
}
k.skip(noisy);

Logs('guards covers frames that end in a graph break (the graph before the break and the resume)', () => {
  function split(x: Tensor) {
    const h = x.mul(2);
    const n = noisy(h);
    return n.add(1);
  }
  const out = withLogs('guards', () => k.compile(split)(k.ones([5])));
  assert.match(out, /\[\d+\/0_1\] guards: guards for 'split':/);
  assert.match(out, /guards:   L\['x'\]\.shape\[0\] == 5/);
  assert.match(out, /guards for 'split_resume_\d+'/);
});

Logs("recompiles show the expected and the actual value, with the user's names", () => {
  const f = (x: Tensor, n: number) => x.mul(n);
  const fast = k.compile(f);
  const out = withLogs('recompiles', () => {
    fast(k.ones([4]), 2);
    fast(k.ones([8]), 2);
    fast(k.ones([8]), 3);
  });
  assert.match(out, /recompiling 'f' .*: L\['x'\]\.shape\[0\] == 4: expected 4, got 8/);
  assert.match(out, /recompiling 'f' .*: L\['n'\] === 2: expected 2, got 3/);
  // Booleans, strings and objects pinned by identity show the value that failed too.
  class Relu {
    apply(t: Tensor) {
      return t.relu();
    }
  }
  class Exp {
    apply(t: Tensor) {
      return t.exp();
    }
  }
  const g = k.compile((opts: { flag: boolean; mode: string }, act: Relu | Exp, x: Tensor) => act.apply(opts.flag ? x.mul(2) : x.add(opts.mode.length)));
  const more = withLogs('recompiles', () => {
    const x = k.ones([2]);
    const relu = new Relu();
    g({ flag: true, mode: 'a' }, relu, x);
    g({ flag: false, mode: 'a' }, relu, x);
    g({ flag: false, mode: 'bb' }, relu, x);
    g({ flag: false, mode: 'bb' }, new Exp(), x);
  });
  assert.match(more, /L\['opts'\]\.flag === true: expected true, got false/);
  assert.match(more, /L\['opts'\]\.mode === "a": expected "a", got "bb"/);
  assert.match(more, /L\['act'\] is <Relu>: expected <Relu>, got <Exp>/);
});

Logs("guards and graph placeholders name captured values by the user's names, not positions", () => {
  const weight = k.ones([3]);
  class Layer {
    bias = k.ones([3]);
  }
  const model = { layers: [new Layer(), new Layer(), new Layer()] };
  const f = (x: Tensor) => x.mul(weight).add(model.layers[2]!.bias);
  const out = withLogs('guards,graph', () => k.compile(f)(k.ones([2, 3])));
  assert.match(out, /guards:   model\.layers\[2\]\.bias: Tensor float32/);
  assert.match(out, /guards:   weight: Tensor float32/);
  assert.match(out, /%model_layers_2_bias: f32\[3\] = placeholder\[model\.layers\[2\]\.bias\]/);
  assert.match(out, /%x: f32\[2, 3\] = placeholder\[L\['x'\]\]/);
  assert.not.match(out, /\bC\[\d+\]|\bK\[\d+\]|\bL\[\d+\]/);
  const e = k.explain(f)(k.ones([2, 3]));
  assert.ok(e.guards[0]!.some((g) => g.includes("L['x'].shape[0] == 2")), e.guards[0]!.join('\n'));
});

// Bindings a compiled function reaches only through an inlined helper (`scaled` reads them), and a global.
const helperConfig = { eps: 0.5 };
const helperTable = k.ones([3]);
function scaled(t: Tensor): Tensor {
  return t.add(helperTable).mul(Math.max(helperConfig.eps, 0.25));
}

Logs("helpers' captured bindings, globals, method lookups, symbolic sizes and scalar inputs print the user's names", () => {
  const f = (x: Tensor) => scaled(x).mul(2);
  const out = withLogs('guards,graph', () => k.compile(f)(k.ones([2, 3])));
  assert.match(out, /guards:   helperConfig\.eps === 0\.5\n/);
  assert.match(out, /guards:   helperTable: Tensor float32, rank 1, contiguous\n/);
  assert.match(out, /guards:   Math\.max is <function max>\n/);
  assert.match(out, /%helperTable: f32\[3\] = placeholder\[helperTable\]/);
  // A method looked up on an input and on an intermediate tensor: one form, both naming where it is defined.
  assert.match(out, /guards:   L\['x'\]\.add is Tensor\.prototype\.add, unchanged since tracing\n/);
  assert.match(out, /guards:   Tensor\.prototype\.mul is unchanged since tracing\n/);
  assert.not.match(out, /\bK\[\d+\]|\bC\[\d+\]|\bL\[\d+\]|\bU\[\d+\]|<function value>/);
  const e = k.explain(f)(k.ones([2, 3]));
  assert.ok(e.guards[0]!.includes('helperConfig.eps === 0.5'), e.guards[0]!.join('\n'));

  // A symbolic guard's recompile reason names the sizes it compared; a float scalar input its parameter.
  const add = k.compile((x: Tensor, y: Tensor) => x.add(y));
  const sizes = withLogs('recompiles', () => {
    add(k.ones([4]), k.ones([4]));
    add(k.ones([5]), k.ones([5]));
    try {
      add(k.ones([6]), k.ones([7]));
    } catch {
      // the sizes do not broadcast: eager raises too
    }
  });
  assert.match(sizes, /L\['x'\]\.shape\[0\] == L\['y'\]\.shape\[0\]: got L\['x'\]\.shape\[0\] = 6, L\['y'\]\.shape\[0\] = 7/);
  const step = k.compile((x: Tensor, lr: number) => x.mul(lr));
  const graphs = withLogs('graph', () => [0.5, 0.25, 0.125].forEach((lr) => step(k.ones([3]), lr)));
  assert.match(graphs, /%lr: float u0 = placeholder\[L\['lr'\]\]/);
});

Logs.run();

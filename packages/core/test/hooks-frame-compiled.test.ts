// hooks.frameCompiled: after every compile a plugin learns what it produced (for the compile report and
// profilers): the kind of entry, the recompile reason, guards with their lines, both graphs, the backend's
// account with its generated code on request, and the time per phase — trace included for split frames.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import '@kiln/backend-cpu';
import { compile } from '../src/compile.js';
import { Compiler } from '../src/compiler.js';
import type { FrameCompileInfo } from '../src/hooks.js';
import { logSink } from '../src/logs/index.js';

const Hook = suite('hooks.frameCompiled');

function listen(): { compiler: Compiler; infos: FrameCompileInfo[] } {
  const compiler = new Compiler();
  const infos: FrameCompileInfo[] = [];
  compiler.hooks.frameCompiled.tap('test', (info) => infos.push(info));
  return { compiler, infos };
}

Hook('a whole-frame compile and a recompile: graphs, guards with lines, phases, backend code', () => {
  const { compiler, infos } = listen();
  const f = compile((t: Tensor) => t.softmax(-1).mul(2), { compiler, dynamic: false });
  f(k.randn([2, 4]));
  f(k.randn([3, 4]));
  assert.is(infos.length, 2);
  const [first, second] = infos as [FrameCompileInfo, FrameCompileInfo];
  assert.is(first.kind, 'graph');
  assert.is(first.frame.tag.endsWith('/0]'), true);
  assert.is(first.recompileReason, undefined);
  // The guard names the argument by position or by its parameter name (`L[0]`, `L['t']`).
  assert.match(second.recompileReason ?? '', /^L\[[^\]]+\]\.shape\[0\] == 2/);
  assert.match(first.apiGraphText ?? '', 'softmax(');
  assert.ok(first.graph!.nodes.some((n) => n.target === 'exp'), 'the core graph is decomposed');
  assert.ok(first.guards.some((g) => /^L\[[^\]]+\]\.shape\[0\] == 2$/.test(g.text) && /\.test\.ts:\d+$/.test(g.location ?? '')), 'a guard names its line');
  assert.equal(Object.keys(first.phasesMs ?? {}), ['trace', 'passes', 'lower', 'wasm']);
  assert.is(first.backend, 'cpu');
  assert.match(first.backendReport?.generatedCode?.() ?? '', /^;; wasm module: \d+ bytes, \d kernels?\n/);
});

Hook('a frame split at a graph break: the break, and trace time counted', () => {
  const { compiler, infos } = listen();
  const f = compile((t: Tensor) => {
    const h = t.relu();
    console.debug();
    return h.add(1);
  }, { compiler });
  f(k.randn([2]));
  const split = infos.find((i) => i.kind === 'split');
  assert.ok(split, infos.map((i) => i.kind).join(', '));
  assert.match(split!.graphBreak?.reason ?? '', 'console.debug');
  assert.ok((split!.phasesMs?.trace ?? 0) > 0, 'trace time is reported for the graph before the break');
  assert.ok(infos.some((i) => i.kind === 'graph' && i.frame.name.includes('resume')), 'the resume function compiles as a frame of its own');
});

Hook('a tap that throws never changes what runs: the compiled result, one warning per location', () => {
  const compiler = new Compiler();
  compiler.hooks.frameCompiled.tap('broken-reporter', () => {
    throw new Error('disk full');
  });
  const lines: string[] = [];
  const write = logSink.write;
  logSink.write = (l) => void lines.push(l);
  try {
    const g = (t: Tensor) => t.mul(3).add(1);
    const f = compile(g, { compiler, dynamic: false });
    for (const n of [2, 3, 2]) {
      const x = k.randn([n]);
      assert.equal(Array.from((f(x) as Tensor).toTypedArray()), Array.from(g(x).toTypedArray()));
    }
  } finally {
    logSink.write = write;
  }
  const warnings = lines.filter((l) => l.includes("failed in hook 'frameCompiled'"));
  assert.is(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /disk full \(thrown at hooks-frame-compiled\.test\.ts:\d+\); the compiled code runs as usual/);
});

Hook.run();

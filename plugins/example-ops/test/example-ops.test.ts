// The plugin contract end to end: a config file loads @kiln/plugin-example-ops; its custom op compiles as one
// node lowered by the CPU backend (not an eager step), its rewrite pass turns hand-written swish into that op,
// and every result matches eager.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import '@kiln/backend-cpu';
import { Compiler, compile, configure, explain, getDefaultCompiler, inline, runAuditCommand, setDefaultCompiler } from '@kiln/core';
import type { ExplainOutput } from '@kiln/core';
import { SWISH_OP, swish } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// This test file lives in a Kiln package folder, which the policy skips as Kiln internals: mark it user code.
inline(`${here}/**`);

const x = k.tensor([[-3, -0.5, 0, 0.25], [1, 2.5, -1.25, 4]]);

function assertClose(got: unknown, want: Tensor): void {
  assert.instance(got, k.Tensor);
  const g = got as Tensor;
  assert.equal(g.shape, want.shape);
  const a = g.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `[${i}]: ${a[i]} vs ${b[i]}`);
}

/** Runs `body` with the compiler configure() builds from the fixture's kiln.config.mjs as the default. */
async function withConfigured<T>(body: (c: Compiler) => T): Promise<T> {
  const saved = getDefaultCompiler();
  try {
    return body(await configure(join(here, 'fixtures', 'configured')));
  } finally {
    setDefaultCompiler(saved);
  }
}

const eagerSteps = (r: ExplainOutput) => r.backends.flatMap((b) => b.eagerSteps.map((f) => f.op));

const Plugin = suite('@kiln/plugin-example-ops loaded from kiln.config.mjs');

Plugin('the custom op compiles as one node on the CPU backend and matches eager', async () => {
  await withConfigured(() => {
    const f = (t: Tensor) => swish(t.add(1), 1.5).sum(-1);
    const r = explain(f)(x);
    assert.is(r.breakCount, 0);
    assert.is(r.opCounts.exampleSwish, 1);
    assert.is(r.backends[0]!.backend, 'cpu');
    assert.equal(eagerSteps(r), [], 'lowered by the CPU backend, not an eager step');
    assertClose(r.result, f(x));
    assertClose(compile(f)(x), f(x));
  });
});

Plugin('the rewrite pass turns hand-written swish into the op', async () => {
  await withConfigured(() => {
    const f = (t: Tensor) => t.mul(t.mul(0.5).sigmoid()).add(t.mul(t.sigmoid()));
    const r = explain(f)(x);
    assert.equal((r.coreGraphs[0]!.match(/exampleSwish/g) ?? []).length, 2, r.coreGraphs[0]);
    assert.not.match(r.coreGraphs[0]!, /sigmoid/, 'DCE removed what the rewrite left dead');
    assert.equal(eagerSteps(r), []);
    assertClose(r.result, f(x));
  });
});

Plugin('a compiler without the plugin breaks the graph at the op, saying how to allow it', () => {
  const f = (t: Tensor) => swish(t).neg();
  const r = explain(f, { compiler: new Compiler() })(x);
  assert.ok(r.breakCount >= 1);
  assert.match(r.breaks[0]!.hint ?? '', /allowInGraph/);
  assertClose(r.result, f(x));
});

Plugin('bad input to the op is a typed error naming the op and the argument', () => {
  assert.throws(() => swish(k.tensor([1, 2], { dtype: 'int32' })), /exampleSwish: argument 'self' must be a floating-point tensor, got int32/);
});

Plugin('kiln audit lists the op the plugin lowers through the lowerOp hook, per backend, like a built-in lowering', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kiln-audit-')), 'audit.json');
  const cwd = process.cwd();
  const saved = getDefaultCompiler();
  const stderr = captureStderr();
  try {
    process.chdir(join(here, 'fixtures', 'configured'));
    await runAuditCommand(['--format', 'json', '--out', out]);
  } finally {
    process.chdir(cwd);
    setDefaultCompiler(saved);
    stderr.restore();
  }
  const report = JSON.parse(readFileSync(out, 'utf8')) as { backends: { backend: string; overrides: unknown[] }[]; functions: { op?: string; backends?: Record<string, string> }[] };
  const cpu = report.backends.find((b) => b.backend === 'cpu')!;
  assert.equal(cpu.overrides, [{ op: SWISH_OP, plugin: 'example-ops', lowering: 'rule' }]);
  assert.is(report.functions.find((f) => f.op === SWISH_OP)?.backends?.cpu, 'plugin');
  assert.match(stderr.text(), /cpu lowers exampleSwish with the rule of plugin example-ops/);
});

/** Collects what is written to stderr until `restore()`. */
function captureStderr() {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((text += String(chunk)), true)) as typeof process.stderr.write;
  return { text: () => text, restore: () => void (process.stderr.write = write) };
}

Plugin.run();

// `kiln aot`: a saved exported program → a standalone ES module, through the command table of the kiln CLI.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k from 'kiln';
// @ts-expect-error: the demo's models are plain JS
import { MLP } from '../../../examples/models.mjs';
import { main } from '../src/cli/main.js';

const test = suite('kiln aot (CLI)');

/** Runs the CLI with console output captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (s: string) => lines.push(s);
  console.error = (s: string) => lines.push(s);
  try {
    return { code: await main(argv), out: lines.join('\n') };
  } finally {
    Object.assign(console, { log, error });
  }
}

test('writes a module (and its weights file) that equals eager', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-aot-cli-'));
  const mlp = new MLP([4, 16, 4]);
  const forward = (x: k.Tensor) => mlp.forward(x);
  k.saveProgram(k.exportProgram(forward, [k.randn([8, 4])], { dims: [{ 0: k.Dim('batch') }] }), join(dir, 'mlp.kiln'));
  const { code, out } = await cli(['aot', join(dir, 'mlp.kiln'), '--out', join(dir, 'mlp.mjs'), '--weights', 'file']);
  assert.is(code, 0, out);
  assert.match(out, /kiln aot: wrote .*mlp\.mjs, .*mlp\.safetensors \(module [\d.]+ KB: runtime [\d.]+ KB/);
  assert.ok(existsSync(join(dir, 'mlp.safetensors')), 'the weights file is named after the module');
  const model = await (await import(pathToFileURL(join(dir, 'mlp.mjs')).href)).load();
  const x = k.randn([3, 4]);
  const got = model(x) as k.Tensor;
  const want = mlp.forward(x).toTypedArray();
  got.toTypedArray().forEach((v: number, i: number) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * Math.abs(want[i]!) + 1e-6, `element ${i}`));
});

test('usage errors exit 2, a bad program file exits 1 naming the problem', async () => {
  const missing = await cli(['aot', 'program.kiln']);
  assert.is(missing.code, 2);
  assert.match(missing.out, /kiln aot: missing --out FILE/);
  const bad = await cli(['aot', join(tmpdir(), 'no-such-program.kiln'), '--out', join(tmpdir(), 'x.mjs')]);
  assert.is(bad.code, 1);
  assert.match(bad.out, /^kiln aot: .*no-such-program\.kiln/);
});

test.run();

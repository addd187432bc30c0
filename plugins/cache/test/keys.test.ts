// What the persistent cache's keys stand for, each checked in fresh processes against eager: a backend
// program is found by its graph's digest (each graph its own program), an op's formula is part of the key
// (an edited formula never reuses the old kernel), and a function made by a factory is told apart by the
// values it closes over (the inspector reads its scope list: it has more than its module's).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertFresh, assertHit, close, kilnUrl, project, runProgram } from './support.js';

const keys = suite('plugin-cache: what the keys stand for');

const MAGIC_AND_LENGTHS = 10 + 8;
const keyTextOf = (file: string): string => {
  const bytes = readFileSync(file);
  return bytes.subarray(MAGIC_AND_LENGTHS, MAGIC_AND_LENGTHS + bytes.readUInt32LE(10)).toString('utf8');
};

keys('each graph finds its own backend program, keyed by a digest of the graph (not its whole text)', () => {
  const p = project();
  try {
    assertFresh(runProgram(p.program, p.cache), 'first run');
    // Another layer shape: another graph, traced and kept beside the first.
    assertFresh(runProgram(p.program, p.cache, { OUT: '5' }), 'another shape');
    // Both kept graphs come back from the one frame file, each with its own program (close() compares with eager).
    assertHit(runProgram(p.program, p.cache));
    assertHit(runProgram(p.program, p.cache, { OUT: '5' }));
    const files = readdirSync(p.cache).filter((f) => f.endsWith('.bin'));
    assert.is(files.filter((f) => f.startsWith('frame-')).length, 1, 'one frame file: the function, with a record per input set');
    const backends = files.filter((f) => f.startsWith('backend-'));
    assert.is(backends.length, 2, 'one program per graph');
    for (const f of backends) {
      const key = JSON.parse(keyTextOf(join(p.cache, f))) as { graph: unknown };
      assert.match(String(key.graph), /^[0-9a-f]{64}$/, 'the key holds the graph as a SHA-256 of its JSON');
    }
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

keys('an edited formula op compiles the new formula: its expression is in the backend key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-plugin-cache-'));
  const ops = join(dir, 'ops.mjs');
  const program = join(dir, 'model.mjs');
  const cache = join(dir, '.kiln-cache');
  const opsSource = (formula: string) =>
    `import { defineOp, scalar } from ${JSON.stringify(kilnUrl)};\n` +
    `export const twice = defineOp({ name: 'userTwice', category: 'pointwise', method: false, positional: [{ name: 'self', type: 'Tensor', hasDefault: false }], formula: ([x]) => ${formula} });\n`;
  writeFileSync(ops, opsSource('scalar.mul(x, x)'));
  writeFileSync(
    program,
    `import { Generator, randn } from ${JSON.stringify(kilnUrl)};\nimport { twice } from './ops.mjs';\n` +
      'export function run(x) {\n  return twice(x.add(1)).softmax(-1);\n}\nexport const input = () => randn([3, 8], { generator: new Generator(1) });\n',
  );
  // The op goes into the graph by a config rule (a plugin would allow it the same way).
  const config = { policy: { allowInGraph: [`${ops}#twice`] } };
  try {
    const first = runProgram(program, cache, {}, config);
    close(first);
    assert.ok(first.stats.stores >= 1, 'the backend program is kept');
    const again = runProgram(program, cache, {}, config);
    close(again);
    assert.is(again.stats.hits, 1, 'the same formula reuses the kept program');
    // The op's kernel and meta are the registry's generic wrappers of the formula: the same text for any formula.
    writeFileSync(ops, opsSource('scalar.add(x, x)'));
    const edited = runProgram(program, cache, {}, config);
    close(edited);
    assert.is(edited.stats.hits, 0, 'an edited formula compiles afresh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

keys("a class made by a factory is told apart by the value it closes over, not only by its text and place", () => {
  // Every Scaled class has the same text at the same place; only `k` differs (a closure scope, besides the module's).
  const p = project(
    (s) =>
      `${s.replace('return h.softmax(-1);', 'return scaler.forward(h.softmax(-1));')}\n` +
      'function scaledBy(k) {\n  return class Scaled {\n    forward(x) {\n      return x.mul(k);\n    }\n  };\n}\n' +
      'const Scaled = scaledBy(Number(process.env.K ?? 2));\nconst scaler = new Scaled();\n',
  );
  try {
    assertFresh(runProgram(p.program, p.cache), 'first run');
    assertHit(runProgram(p.program, p.cache));
    // Another k: traced again, with eager's result (close() compares).
    assertFresh(runProgram(p.program, p.cache, { K: '3' }), 'another captured k');
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

keys.run();

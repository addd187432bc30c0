// @kiln/plugin-cache end to end: each check runs the user's program in fresh processes (fixtures/driver.mjs),
// as a user's second run would, and compares with eager in that process. A kept entry is reused only when the
// function, its captured values, the config and Kiln are the same; otherwise, and for damaged files, the
// frame compiles afresh with a correct result and no error.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeEntry, encodeEntry, entryPath, readEntry, writeEntry } from '../src/store.js';
import { assertFresh, assertHit, close, nodeArgs, parseRun, project, root, runProgram } from './support.js';
import type { Run } from './support.js';

const persisted = suite('plugin-cache: fresh processes');

persisted('a second process loads the frame and its kernels, and matches eager', () => {
  const p = project();
  try {
    const first = runProgram(p.program, p.cache);
    assertFresh(first, 'first run');
    assert.is(first.stats.hits, 0);
    assert.is(first.stats.stores, 2, 'frame and backend program stored');
    assert.is(readdirSync(p.cache).filter((f) => f.endsWith('.bin')).length, 2);
    assertHit(runProgram(p.program, p.cache));
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

persisted('a cached compile asks the inspector less than tracing does: the functions it re-checks are read in one batch', () => {
  const p = project();
  try {
    const fresh = runProgram(p.program, p.cache);
    assertFresh(fresh, 'first run');
    const cached = runProgram(p.program, p.cache);
    assertHit(cached);
    // Re-checked: `run` (read when compile() was called), Layer's forward and its constructor (two layers,
    // one class), all in one module. One by one that took 26 round trips against the trace's 19.
    assert.ok(cached.inspectorCalls < fresh.inspectorCalls, `cached ${cached.inspectorCalls} calls, fresh trace ${fresh.inspectorCalls}`);
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

persisted('a module with reassignable bindings: its functions are kept; a binding the frame reads is checked by its value', () => {
  // V8 lists every binding of a module's scope as captured: a `let` the function never reads refused it.
  const unread = project((s) => `${s}\nlet calls = 0;\nexport function bump() {\n  calls++;\n}\n`);
  try {
    assertFresh(runProgram(unread.program, unread.cache), 'first run');
    assertHit(runProgram(unread.program, unread.cache));
  } finally {
    rmSync(unread.dir, { recursive: true, force: true });
  }
  const read = project((s) => `${s.replace('return h.softmax(-1);', 'return h.softmax(-1).mul(gain);')}\nlet gain = 1;\nexport function setGain(g) {\n  gain = g;\n}\nif (process.env.GAIN) setGain(Number(process.env.GAIN));\n`);
  try {
    assertFresh(runProgram(read.program, read.cache), 'first run');
    // Another value of the binding: traced again, with eager's result (close() compares).
    assertFresh(runProgram(read.program, read.cache, { GAIN: '3' }), 'another gain');
    assertHit(runProgram(read.program, read.cache));
  } finally {
    rmSync(read.dir, { recursive: true, force: true });
  }
});

persisted('a changed function source, captured value, closure shape or config misses', () => {
  const p = project();
  try {
    assertFresh(runProgram(p.program, p.cache), 'first run');
    // The captured constant SCALE is baked into the graph: another value must not reuse it.
    assertFresh(runProgram(p.program, p.cache, { SCALE: '0.25' }), 'another captured SCALE');
    // The second layer's weight has another shape: the guards fail.
    assertFresh(runProgram(p.program, p.cache, { OUT: '5' }), 'another layer shape');
    // Another config (a compiler option a trace depends on).
    assertFresh(runProgram(p.program, p.cache, {}, { recompileLimit: 3 }), 'another config');
    // The same inputs again: still served.
    assertHit(runProgram(p.program, p.cache));
    // The function's own text changes.
    writeFileSync(p.program, readFileSync(p.program, 'utf8').replace('return h.softmax(-1);', 'return h.softmax(-1).mul(2);'));
    assertFresh(runProgram(p.program, p.cache), 'edited function');
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

persisted('damaged, truncated and foreign entries are misses, never errors', () => {
  const p = project();
  try {
    assertFresh(runProgram(p.program, p.cache), 'first run');
    const files = readdirSync(p.cache).filter((f) => f.endsWith('.bin')).map((f) => join(p.cache, f));
    const originals = files.map((f) => readFileSync(f));
    // One byte flipped in the middle of each.
    files.forEach((f, i) => {
      const b = Buffer.from(originals[i]!);
      b[b.length >> 1] ^= 0xff;
      writeFileSync(f, b);
    });
    let r = runProgram(p.program, p.cache);
    close(r);
    assert.is(r.stats.rejected, 2, 'both damaged files found and refused');
    // Truncated.
    files.forEach((f, i) => writeFileSync(f, originals[i]!.subarray(0, originals[i]!.length - 7)));
    r = runProgram(p.program, p.cache);
    close(r);
    assert.is(r.stats.rejected, 2, 'both truncated files refused');
    // Written by another Kiln version: the key inside differs (the file name alone never decides).
    files.forEach((f, i) => {
      const text = keyTextOf(originals[i]!);
      const payload = payloadOf(originals[i]!);
      writeFileSync(f, encodeEntry(text.replace(/"kiln":"[^"]*"/, '"kiln":"0.0.0-other"'), payload));
    });
    r = runProgram(p.program, p.cache);
    close(r);
    assert.is(r.stats.rejected, 2, 'entries of another Kiln version refused');
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

persisted('concurrent first runs leave whole entries that a later run uses', async () => {
  const p = project();
  try {
    const runs = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<Run>((done) => {
            const child = spawn(process.execPath, nodeArgs(p.program, p.cache, {}), { cwd: root, env: process.env });
            let out = '';
            let err = '';
            child.stdout.on('data', (c) => (out += c));
            child.stderr.on('data', (c) => (err += c));
            child.on('close', (code) => done(parseRun(out, err, code)));
          }),
      ),
    );
    runs.forEach(close);
    assert.equal(readdirSync(p.cache).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    assertHit(runProgram(p.program, p.cache));
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

persisted.run();

// ---- the file format alone ----------------------------------------------------------------------------

const MAGIC_AND_LENGTHS = 10 + 8;
function keyTextOf(file: Buffer): string {
  return file.subarray(MAGIC_AND_LENGTHS, MAGIC_AND_LENGTHS + file.readUInt32LE(10)).toString('utf8');
}
function payloadOf(file: Buffer): Uint8Array {
  const start = MAGIC_AND_LENGTHS + file.readUInt32LE(10);
  return file.subarray(start, start + file.readUInt32LE(14));
}

const format = suite('plugin-cache: entry files');

format('round trip, and every kind of damage is a named miss', () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const bytes = encodeEntry('key', payload);
  const ok = decodeEntry(bytes, 'key');
  assert.ok('payload' in ok && Buffer.from(ok.payload).equals(Buffer.from(payload)));
  assert.equal(decodeEntry(bytes, 'other'), { miss: 'other key', detail: 'written for another key (another Kiln, config or source)' });
  assert.is((decodeEntry(bytes.subarray(0, bytes.length - 1), 'key') as { miss: string }).miss, 'damaged');
  assert.is((decodeEntry(Buffer.from('not a cache file at all, long enough to have a header'), 'key') as { miss: string }).miss, 'damaged');
  const flipped = Buffer.from(bytes);
  flipped[MAGIC_AND_LENGTHS + 4] ^= 1;
  assert.equal(decodeEntry(flipped, 'key'), { miss: 'damaged', detail: 'checksum mismatch' });
});

format('writes are whole files under the key\'s name; a missing folder is made', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-plugin-cache-')), 'nested', 'cache');
  try {
    const path = entryPath(dir, 'frame', 'k');
    writeEntry(dir, path, 'k', new Uint8Array([7]));
    writeEntry(dir, path, 'k', new Uint8Array([8]));
    const r = readEntry(path, 'k');
    assert.ok('payload' in r && r.payload[0] === 8);
    assert.equal(readdirSync(dir), [path.split('/').pop()]);
    assert.equal(readEntry(join(dir, 'absent.bin'), 'k'), { miss: 'absent' });
  } finally {
    rmSync(join(dir, '..', '..'), { recursive: true, force: true });
  }
});

format.run();

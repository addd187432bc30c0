// Compile cost must not grow with the scripts a process has loaded. The closure reader needs the Debugger
// domain for a script's URL and source; enabling it replays every script in the isolate, so doing that once
// per new module made each compile slower than the last. These tests count that work (never time it).
// The debugger is released once no compile needed it for a hold window of wall time, so on a loaded machine
// a slow compile legitimately lets it go; the counting tests therefore run on a stopped clock
// (`performance.now`, which the hold window reads), and a test of the release moves that clock on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile } from '../src/compile.js';
import { parseFunction } from '../src/trace/functions.js';
import { inspectorActivity, releaseDebugger } from '../src/trace/inspector.js';

const Scale = suite('compile cost vs scripts loaded');
const require = createRequire(import.meta.url);
const x = k.arange(0, 6).div(3);

/** Runs `body` with `performance.now()` fixed at `at` (the inspector's hold window reads it), then restores it. */
function withClockAt<T>(at: number, body: () => T): T {
  const own = Object.getOwnPropertyDescriptor(performance, 'now');
  performance.now = () => at;
  try {
    return body();
  } finally {
    if (own) Object.defineProperty(performance, 'now', own);
    else delete (performance as { now?: unknown }).now;
  }
}

/** Writes and loads `count` fresh CommonJS modules (synchronously: no timer can run in between). */
function freshModules(count: number, body: (i: number) => string): { fns: ((t: Tensor) => Tensor)[]; files: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-scale-test-'));
  const files: string[] = [];
  const fns = Array.from({ length: count }, (_, i) => {
    const file = join(dir, `m${i}.cjs`);
    writeFileSync(file, body(i));
    files.push(file);
    return require(file).f as (t: Tensor) => Tensor;
  });
  return { fns, files, dir };
}

Scale('compiling a function from each of 40 fresh modules does not replay the script list per compile', () => {
  const { fns, dir } = freshModules(40, (i) => `const scale = ${i + 1};\nexports.f = (t) => t.mul(scale).add(${i});\n`);
  try {
    const before = inspectorActivity();
    // However long the compiles take on this machine, no hold window runs out in between: what is counted is
    // the tracer's own need for the debugger.
    withClockAt(performance.now(), () => {
      for (const [i, f] of fns.entries()) assert.equal(compile(f)(x).toArray(), x.mul(i + 1).add(i).toArray());
    });
    const after = inspectorActivity();
    const scriptsNow = after.highestScriptId;
    const made = after.highestScriptId - before.highestScriptId;
    // One replay of every script (the debugger was off) plus one report per script made since. Enabling the
    // debugger per new module, as before, reported ≈ 40 × all scripts.
    assert.ok(after.reports - before.reports <= scriptsNow + made + 10, `${after.reports - before.reports} scriptParsed reports for ${made} new scripts (${scriptsNow} in all)`);
    assert.ok(after.enables - before.enables <= 1, `${after.enables - before.enables} Debugger.enable calls for 40 compiles`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Scale('after the debugger is released, functions from new and old modules still get their file and captures right', () => {
  const { fns, files, dir } = freshModules(2, (i) => `let calls = 0;\nconst w = ${i + 2};\nexports.f = (t) => t.mul(w);\nexports.bump = () => calls++;\n`);
  try {
    releaseDebugger();
    const enables = inspectorActivity().enables;
    const info = parseFunction(fns[1]!)!.info;
    assert.is(info.url, pathToFileURL(files[1]!).href);
    assert.is(info.captures.get('w')?.mutable, false);
    assert.is(info.captures.get('w')?.value, 3);
    // A function of a script it already saw (module 0 was loaded before the release) needs no new enable.
    releaseDebugger();
    const again = inspectorActivity().enables;
    assert.ok(again - enables <= 1);
    assert.is(parseFunction(fns[0]!)!.info.url, pathToFileURL(files[0]!).href);
    assert.equal(compile(fns[0]!)(x).toArray(), x.mul(2).toArray());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Scale('a `new Function` function (no captures) is read without fetching any source', () => {
  releaseDebugger();
  const fn = new Function('t', 'return t.neg();') as (t: Tensor) => Tensor;
  const info = parseFunction(fn)!.info;
  assert.is(info.url, '');
  assert.is(info.captures.size, 0);
  assert.equal(compile(fn)(x).toArray(), x.neg().toArray());
});

Scale('once its hold window has passed, the next compiled call releases the debugger (WebAssembly at full speed again)', () => {
  const start = performance.now();
  const { fns, dir } = freshModules(1, () => `exports.f = (t) => t.mul(7);\n`);
  try {
    const f = compile(fns[0]!);
    withClockAt(start, () => f(x)); // the compile reads a new module's URL: the debugger is held
    assert.is(inspectorActivity().held, true, 'held right after a compile that needed it');
    withClockAt(start + 1, () => f(x));
    assert.is(inspectorActivity().held, true, 'kept within the hold window');
    withClockAt(start + 60_000, () => f(x)); // a minute later (the window is at most 2 s)
    assert.is(inspectorActivity().held, false, 'released by a compiled call after the hold window');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Scale('with no further calls, a timer releases the debugger once compiles stop', async () => {
  compile(new Function('t', 'return t.mul(7);') as (t: Tensor) => Tensor)(x);
  // The window is at most 2 s; the generous deadline only bounds how long a failure takes on a loaded machine.
  const deadline = Date.now() + 30_000;
  while (inspectorActivity().held && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.is(inspectorActivity().held, false, 'still held 30 s after the last compile');
});

Scale.run();

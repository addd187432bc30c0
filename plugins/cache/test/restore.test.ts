// What a cached compile skips while restoring a frame, each checked in fresh processes (fixtures/driver.mjs):
// the skipped work is not done, and whatever reads its result later (explain, an eager recompute) still gets
// what a fresh compile makes.
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertFresh, close, kilnUrl, project, runProgram } from './support.js';
import type { Run } from './support.js';

const restore = suite('plugin-cache: restoring a frame');

interface FirstCallRun extends Run {
  /** The compile() call before explain: graph nodes made while it compiled and ran, and the cache hits then. */
  readonly firstCall: { readonly graphNodesMade: number; readonly hits: number };
  readonly shown: { readonly coreGraphs: readonly string[] };
}

const firstCallThenExplain = (program: string, cache: string) => runProgram(program, cache, { KILN_TEST_FIRST_CALL: 'compile' }) as FirstCallRun;

restore('the kept graph is decoded only when read: a cached first call builds none, and explain then shows the graph a fresh compile made', () => {
  const p = project();
  try {
    const fresh = runProgram(p.program, p.cache) as FirstCallRun;
    assertFresh(fresh, 'first run');
    const cached = firstCallThenExplain(p.program, p.cache);
    // Frame and program from the cache, for compile() and again for explain (a compile of its own).
    assert.is(cached.firstCall.hits, 2);
    assert.is(cached.stats.hits, 4);
    // The backend program was found by the graph's digest and ran without it.
    assert.is(cached.firstCall.graphNodesMade, 0, `graph nodes made by a cached first call: ${cached.firstCall.graphNodesMade}`);
    assert.equal(cached.shown.coreGraphs, fresh.shown.coreGraphs);
    // What is counted: a first call that traces (another, empty cache folder) makes the graph's nodes.
    const traced = firstCallThenExplain(p.program, `${p.cache}-empty`);
    assert.is(traced.firstCall.hits, 0);
    assert.ok(traced.firstCall.graphNodesMade > 0, 'the trace builds the graph');
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

restore('a cached program that hands a call back to the eager kernels decodes its graph then, with eager\'s result', () => {
  // sin of |x| > 1e5: the kernel flags the call and the graph runs on the interpreter (the eager kernels).
  const program = `import { Generator, randn } from ${JSON.stringify(kilnUrl)};
export function run(x) {
  return x.mul(1e6).sin().add(x);
}
export const input = () => randn([3, 8], { generator: new Generator(1) });
`;
  const p = project(() => program);
  try {
    assertFresh(runProgram(p.program, p.cache), 'first run');
    const cached = firstCallThenExplain(p.program, p.cache);
    close(cached);
    assert.is(cached.firstCall.hits, 2, 'frame and program from the cache');
    assert.is(cached.stats.stores, 0);
    // Made by the eager recompute's interpreter, from the kept graph (maxDiff compared both calls with eager).
    assert.ok(cached.firstCall.graphNodesMade > 0, 'the recompute reads the graph');
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

restore.run();

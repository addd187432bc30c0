// The tracer's differential corpus (the CPU backend's programs: data-dependent sizes, sizes as numbers, view
// chains, indexing, matmul, numeric edges, size arithmetic…) through export: each program that captures as
// one graph is exported with every dim dynamic, saved, loaded, and run at each of the corpus's shapes.
// Every call must equal eager and compile() on the same inputs, or be refused up front with a typed
// ProgramInputError (a size outside what the trace allows); a wrong result or any other error fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FullGraphError, compile } from '@kiln/core';
import { treeLeaves } from '@kiln/pytree';
import { ExportError, ProgramInputError, exportProgram, loadProgram, saveProgram } from '@kiln/export';
import '../../backend-cpu/test/differential-corpus.test.js';
import '../../backend-cpu/test/differential-corpus-ops.test.js';
import '../../backend-cpu/test/differential-corpus-edges.test.js';
import '../../backend-cpu/test/differential-corpus-effects.test.js';
import { Gen, attempt, checkedPrograms, compareOutcome } from '../../backend-cpu/test/differential-support.js';
import type { Program } from '../../backend-cpu/test/differential-support.js';

const Corpus = suite('export: the differential corpus, exported, saved, loaded and run');

interface Tally {
  exported: string[];
  notCapturable: string[];
  runs: number;
  refused: number;
  /** Calls of programs that write an argument or state in place. */
  mutating: number;
}

/** Exports the program at its first shape where eager succeeds; undefined when it is not one whole graph. */
function exportAt(program: Program<any>, tally: Tally, name: string) {
  for (const [i, shape] of program.shapes.entries()) {
    const world = program.world();
    const args = program.args(new Gen(1000 + i), shape, i);
    if (!attempt(() => world.fn.apply(world.thisArg, program.args(new Gen(1000 + i), shape, i))).ok) continue;
    const fn = world.thisArg === undefined ? world.fn : world.fn.bind(world.thisArg);
    try {
      return exportProgram(fn, args, { dynamic: true });
    } catch (err) {
      if (!(err instanceof FullGraphError || err instanceof ExportError)) throw err;
      tally.notCapturable.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }
  return undefined;
}

Corpus('every fullgraph-able corpus program round-trips and equals eager and compile() at every shape it admits', () => {
  assert.ok(checkedPrograms.length >= 60, `the corpus recorded ${checkedPrograms.length} programs`);
  const tally: Tally = { exported: [], notCapturable: [], runs: 0, refused: 0, mutating: 0 };
  const problems: string[] = [];
  for (const { name, program } of checkedPrograms) {
    // Outside state that changes between calls is baked into an export (as torch.export bakes it): not comparable.
    const probe = program.world();
    if (probe.beforeCall || probe.observe) continue;
    const exported = exportAt(program, tally, name);
    if (!exported) continue;
    tally.exported.push(name);
    const loaded = loadProgram(saveProgram(exported), { backend: 'cpu' });
    const world = program.world();
    const compiled = compile(world.fn, { backend: 'cpu' });
    program.shapes.forEach((shape, i) => {
      const args = () => program.args(new Gen(2000 + i), shape, i);
      // Each side gets its own arguments: a program that writes an argument in place must leave it as eager does.
      const [argsWant, argsGot] = [args(), args()];
      const want = attempt(() => world.fn.apply(world.thisArg, argsWant));
      const got = attempt(() => loaded(...argsGot));
      if (!got.ok && got.error instanceof ProgramInputError) return void tally.refused++;
      tally.runs++;
      const tol = program.tol ?? 1e-5;
      for (const d of compareOutcome(got, want, tol, program.errorsDiffer !== undefined)) problems.push(`${name} ${JSON.stringify(shape)} vs eager: ${d}`);
      if (exported.mutations.length > 0) tally.mutating++;
      if (got.ok && want.ok) for (const d of compareOutcome({ ok: true, value: treeLeaves(argsGot) }, { ok: true, value: treeLeaves(argsWant) }, tol, false)) problems.push(`${name} ${JSON.stringify(shape)} arguments after the call vs eager: ${d}`);
      const viaCompile = attempt(() => compiled.apply(world.thisArg, args()));
      for (const d of compareOutcome(got, viaCompile, tol, true)) problems.push(`${name} ${JSON.stringify(shape)} vs compile(): ${d}`);
    });
  }
  if (process.env.KILN_EXPORT_VERBOSE) console.log(tally.notCapturable.join("\n"));
  console.log(`  export corpus: ${tally.exported.length} programs exported and loaded, ${tally.runs} calls equal eager and compile(), ${tally.refused} refused by the input checks (${tally.mutating} calls write an argument or state in place); ${tally.notCapturable.length} not one graph`);
  assert.equal(problems, []);
  assert.ok(tally.exported.length >= 30, `only ${tally.exported.length} programs exported:\n${tally.notCapturable.join('\n')}`);
  assert.ok(tally.runs > tally.exported.length, 'exported programs ran at more than one size each on average');
});

Corpus.run();

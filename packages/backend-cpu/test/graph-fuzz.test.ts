// Property-based differential hunt: random DAGs of ops over several inputs (ranks 0–4, sizes 0 to 70,
// broadcasting, strided and offset views, float32/int32/bool, special values) run eagerly and through
// traceOps + compileGraphForCpu, compile(cpu) and compile(cpu, dynamic: true) on two shapes. Any
// difference fails with the shrunk program printed. `pnpm fuzz graph --runs N --seed S` is the long mode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { programSpec } from './graph-fuzz-program.js';
import { checkProgram } from './graph-fuzz-check.js';
import { fuzzProperty } from '../../../test-support/fuzz-settings.js';

const fuzz = suite('graph fuzz: random op DAGs compiled on cpu vs eager');

const property = (paths: Parameters<typeof checkProgram>[1]) =>
  fc.property(programSpec, (spec) => {
    const { program, differences } = checkProgram(spec, paths);
    if (differences.length) assert.unreachable(`${differences.slice(0, 4).join('\n  ')}\n  program:\n    ${program.text}`);
  });

fuzz('traceOps + compileGraphForCpu and compile(cpu) agree with eager', () => {
  fuzzProperty('graph', property({ dynamic: false }), { runs: 100, seed: 20240611 }, 0, 2);
});

fuzz('compile(cpu, dynamic: true) reused across two shapes agrees with eager', () => {
  fuzzProperty('graph', property({ traceOps: false, compile: false }), { runs: 50, seed: 971 }, 1, 2);
});

fuzz.run();

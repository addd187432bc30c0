// Golden files for printed IR and generated code, shared by every package's tests. `KILN_UPDATE_GOLDEN=1`
// rewrites them, so a deliberate change to a printer or code generator is one command and a reviewed diff.
// A missing golden file fails under CI instead of being written, so CI never passes on an empty fixture.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as assert from 'uvu/assert';

export function goldenChecker(fixturesDir: string): (name: string, actual: string) => void {
  return (name, actual) => {
    const file = join(fixturesDir, name);
    if (process.env.KILN_UPDATE_GOLDEN === '1' || !existsSync(file)) {
      if (process.env.KILN_UPDATE_GOLDEN !== '1' && process.env.CI) assert.unreachable(`golden file ${name} is missing`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, actual + '\n');
      return;
    }
    assert.fixture(actual + '\n', readFileSync(file, 'utf8'));
  };
}

// Golden files for printed IR and generated code. `KILN_UPDATE_GOLDEN=1` rewrites them, so a deliberate
// change to the code generator is one command and a reviewed diff (same convention as the other packages).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as assert from 'uvu/assert';

const FIXTURES = join(import.meta.dirname, 'fixtures');

export function assertGolden(name: string, actual: string): void {
  const file = join(FIXTURES, name);
  if (process.env.KILN_UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.KILN_UPDATE_GOLDEN !== '1' && process.env.CI) assert.unreachable(`golden file ${name} is missing`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual + '\n');
    return;
  }
  assert.fixture(actual + '\n', readFileSync(file, 'utf8'));
}

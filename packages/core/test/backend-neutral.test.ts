// Core knows no backend: the CPU backend is a plugin like any third party's. Its sources never name the CPU
// (no `cpu` default, no CPU-only branch) nor import a backend package, and its package does not depend on one.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const Neutral = suite('core is backend-neutral');
const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

Neutral('no line of packages/core/src mentions the cpu or imports a backend package', () => {
  const files = sources(join(root, 'src'));
  assert.ok(files.length > 20, `found ${files.length} source files`);
  const hits = files.flatMap((file) =>
    readFileSync(file, 'utf8').split('\n').flatMap((line, i) => (/cpu|@kiln\/backend-/i.test(line) ? [`${file.slice(root.length)}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.equal(hits, [], 'backend-specific code in core');
});

Neutral('@kiln/core depends on no backend package', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  assert.equal(deps.filter((d) => d.startsWith('@kiln/backend-')), []);
});

Neutral.run();

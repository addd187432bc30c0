// What `import 'kiln'` costs a fresh process, counted in modules: Node 20 spends about a millisecond of CPU on
// each ES module it loads, and `import 'kiln'` used to load ≈ 340 of them plus onnx-proto (330 KB of generated
// CommonJS) — half a second before the user's first line. The built packages are what users import, so
// this runs the build (`pnpm build`, which `pnpm test` runs first), in a child process.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..', '..', '..');
const packagesDir = join(root, 'packages');

interface Loads {
  readonly urls: string[];
  readonly output: string;
}

/** Runs `program` (an ES module, run from packages/kiln so that `kiln` resolves to the build) and lists the modules it loaded. */
function modulesLoadedBy(program: string): Loads {
  const r = spawnSync(process.execPath, ['--import', join(import.meta.dirname, 'support', 'module-loads.mjs'), '--input-type=module', '-e', program], {
    cwd: join(packagesDir, 'kiln'),
    encoding: 'utf8',
  });
  assert.is(r.status, 0, `the child failed:\n${r.stderr}`);
  const urls = r.stderr.split('\n').flatMap((l) => (l.startsWith('kiln-module-load ') ? [l.slice('kiln-module-load '.length)] : []));
  return { urls, output: r.stdout.trim() };
}

/** Packages whose build is one module (package.json exports dist/bundle.js; scripts/bundle-packages.mjs). */
function bundledPackages(): string[] {
  return readdirSync(packagesDir).filter((p) => {
    const manifest = join(packagesDir, p, 'package.json');
    return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: { '.': { default?: string } } }).exports?.['.']?.default === './dist/bundle.js';
  });
}

const ownModules = (urls: readonly string[], pkg: string) => urls.filter((u) => u.includes(`/packages/${pkg}/`) && !u.includes('/node_modules/'));

const cost = suite("import 'kiln' in a fresh process");

cost.before(() => {
  const unbuilt = ['kiln', ...bundledPackages()].filter((p) => !existsSync(join(packagesDir, p, 'dist', p === 'kiln' ? 'index.js' : 'bundle.js')));
  assert.equal(unbuilt, [], `build first (npx -y pnpm@12.4.2 build): no build in ${unbuilt.join(', ')}`);
});

cost('each bundled package loads as one module (and the few files kept beside it for the tracer); Kiln loads under 30 modules in all', () => {
  const bundled = bundledPackages();
  assert.ok(bundled.length >= 9 && bundled.includes('tensor'), `the large packages ship one module each (now: ${bundled.join(', ')})`);
  const { urls } = modulesLoadedBy("await import('kiln');");
  for (const pkg of bundled) {
    const own = ownModules(urls, pkg).map((u) => u.slice(u.indexOf(`/packages/${pkg}/`) + `/packages/${pkg}/`.length));
    assert.is(own[0], 'dist/bundle.js', `@kiln/${pkg} is loaded through its bundle`);
    assert.not.ok(own.includes('dist/index.js'), `@kiln/${pkg}'s per-file build is not loaded too`);
    assert.ok(own.length <= 5, `@kiln/${pkg}: ${own.join(', ')}`);
  }
  const kilnModules = urls.filter((u) => u.includes('/packages/') && !u.includes('/node_modules/'));
  // @kiln/tensor loaded one by one was ≈ 50 modules and ≈ 60 ms of CPU (63 Kiln modules in all before it was bundled).
  assert.ok(kilnModules.length < 30, `${kilnModules.length} Kiln modules loaded`);
});

cost('onnx-proto (and protobufjs) load on the first toOnnx(), not on import', () => {
  const { urls, output } = modulesLoadedBy(`
    import { createRequire } from 'node:module';
    const onnxLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => /onnx-proto|protobufjs/.test(f));
    const k = await import('kiln');
    const onImport = onnxLoaded();
    const program = k.exportProgram((x) => x.mul(2).relu(), [k.ones([2, 3])]);
    const bytes = k.toOnnx(program).length;
    console.log(JSON.stringify({ onImport, afterToOnnx: onnxLoaded(), bytes, version: k.KILN_VERSION }));
  `);
  assert.not.ok(urls.some((u) => /onnx-proto|protobufjs/.test(u)), 'no ES import of onnx-proto');
  const got = JSON.parse(output) as { onImport: boolean; afterToOnnx: boolean; bytes: number; version: string };
  assert.is(got.onImport, false, 'onnx-proto is not loaded by import');
  assert.is(got.afterToOnnx, true, 'toOnnx loaded it');
  assert.ok(got.bytes > 100, `toOnnx gave ${got.bytes} bytes`);
  // @kiln/export reads its version from the package.json beside the module that asks, bundled or not
  assert.is(got.version, (JSON.parse(readFileSync(join(packagesDir, 'export', 'package.json'), 'utf8')) as { version: string }).version);
});

cost("import 'kiln' and a first compile load no CommonJS file: tapable comes as one ES module beside core's bundle", () => {
  // CommonJS files are read, wrapped and compiled one by one, and the first one wakes Node's CommonJS loader:
  // tapable's 15 files cost a fresh process ≈ 11 ms where one bundled ES module of them costs ≈ 2.5.
  const { urls, output } = modulesLoadedBy(`
    import { createRequire } from 'node:module';
    const k = await import('kiln');
    const seen = [];
    k.getDefaultCompiler().hooks.frameStart.tap('probe', (e) => void seen.push(e.name));
    const got = k.compile((x) => x.mul(2))(k.ones([2])).toArray();
    console.log(JSON.stringify({ commonjs: Object.keys(createRequire(import.meta.url).cache), got, seen }));
  `);
  const r = JSON.parse(output) as { commonjs: string[]; got: number[]; seen: string[] };
  assert.equal(r.commonjs, [], 'CommonJS files loaded');
  assert.equal(r.got, [2, 2]);
  assert.equal(r.seen, ['anonymous'], 'the hooks work (a tap on frameStart saw the frame)');
  assert.equal(ownModules(urls, 'core').map((u) => u.slice(u.indexOf('/packages/core/') + '/packages/core/'.length)), ['dist/bundle.js', 'dist/vendor/tapable.js']);
});

cost("bundled @kiln/tensor keeps its names and its traced shape helpers' files", () => {
  // esbuild renames a class that names itself (`var Tensor = class _Tensor`) unless told to keep names; the
  // policy traces tensor's size and dtype helpers by their file, so those stay modules beside the bundle.
  const { urls, output } = modulesLoadedBy(`
    const k = await import('kiln');
    const f = (a, b) => a.add(b).mul(k.numelOf(k.broadcastShapes('add', a.shape, b.shape)));
    const report = k.explain(f)(k.ones([2, 3]), k.ones([3]));
    const got = k.compile(f)(k.ones([2, 3]), k.ones([3])).toArray();
    console.log(JSON.stringify({ names: [k.Tensor.name, k.ones([1]).constructor.name], graphs: report.graphCount, breaks: report.breakCount, got }));
  `);
  const tensorFiles = ownModules(urls, 'tensor').map((u) => u.slice(u.indexOf('/packages/tensor/') + '/packages/tensor/'.length)).sort();
  assert.equal(tensorFiles, ['dist/bundle.js', 'dist/dtype.js', 'dist/errors.js', 'dist/size.js']);
  const r = JSON.parse(output) as { names: string[]; graphs: number; breaks: number; got: number[][] };
  assert.equal(r.names, ['Tensor', 'Tensor']);
  assert.equal([r.graphs, r.breaks], [1, 0], 'the shape helpers are traced into the graph');
  assert.equal(r.got, [[12, 12, 12], [12, 12, 12]]);
});

cost.run();

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { matchesModule, moduleInfo, parseModulePattern, parseQualifiedName, resolveQualifiedName } from '../src/index.js';
import { Tensor } from '@kiln/tensor';

const modules = suite('module URLs, packages and patterns');

modules('a frame URL tells builtin, node_modules package, workspace package, native', () => {
  assert.equal(moduleInfo('node:fs', undefined).nodeBuiltin, true);
  const lodash = moduleInfo('file:///app/node_modules/.pnpm/lodash@4/node_modules/lodash/map.js', undefined);
  assert.is(lodash.packageName, 'lodash');
  assert.is(lodash.inNodeModules, true);
  assert.is(moduleInfo('file:///app/node_modules/@scope/pkg/dist/x.js', undefined).packageName, '@scope/pkg');
  // Workspace packages resolve to their real path, outside node_modules: the nearest package.json names them.
  const tensor = moduleInfo(new URL('../../tensor/src/ops/views.ts', import.meta.url).href, undefined);
  assert.is(tensor.packageName, '@kiln/tensor');
  assert.is(tensor.inNodeModules, false);
  assert.is(tensor.packagePath, 'src/ops/views.ts');
  assert.is(moduleInfo('file:///app/node_modules/@kiln/core/dist/trace/x.js', undefined).packagePath, 'dist/trace/x.js');
  assert.is(moduleInfo(undefined, Math.max).native, true);
  assert.is(moduleInfo(undefined, function userFn() {}).native, false);
});

modules('patterns: package globs stay within a segment, paths cross segments', () => {
  const kiln = parseModulePattern('@kiln/*')!;
  const info = (url: string) => moduleInfo(url, undefined);
  assert.ok(matchesModule(kiln, info('file:///app/node_modules/@kiln/core/dist/a.js')));
  assert.not.ok(matchesModule(kiln, info('file:///app/node_modules/@kilnx/core/a.js')));
  assert.ok(matchesModule(parseModulePattern('node:*')!, info('node:fs')));
  assert.ok(matchesModule(parseModulePattern('node:*')!, info('node:internal/fs/utils')));
  assert.not.ok(matchesModule(parseModulePattern('node:fs')!, info('node:path')));
  assert.ok(matchesModule(parseModulePattern('/app/src/**')!, info('file:///app/src/a/b/c.js')));
  assert.not.ok(matchesModule(parseModulePattern('/app/src/*')!, info('file:///app/src/a/b.js')));
  assert.ok(matchesModule(parseModulePattern('file:///app/src/**')!, info('/app/src/x.js')));
  assert.is(parseModulePattern('no spaces allowed'), null);
});

modules('qualified names resolve through descriptors (getters are not called)', () => {
  assert.equal(parseQualifiedName('@kiln/tensor#Tensor.prototype.add'), { module: '@kiln/tensor', path: ['Tensor', 'prototype', 'add'] });
  assert.equal(parseQualifiedName('Math.max'), { module: null, path: ['Math', 'max'] });
  assert.is(parseQualifiedName('#x'), null);
  const ndim = resolveQualifiedName('@kiln/tensor#Tensor.prototype.ndim');
  assert.ok(ndim.ok && ndim.fn === Object.getOwnPropertyDescriptor(Tensor.prototype, 'ndim')!.get);
  const r = resolveQualifiedName('@kiln/tensor#Tensor.prototype.nope');
  assert.equal(r, { ok: false, why: "'Tensor.prototype.nope' does not exist" });
  assert.equal(resolveQualifiedName('Math.PI'), { ok: false, why: "'Math.PI' is not a function" });
});

modules.run();

// Loaded with `node --import` by import-cost.test.ts: prints `kiln-module-load <url>` on stderr for every module
// this process loads (ES modules, and CommonJS ones imported from them), through a module hook.
import { register } from 'node:module';

const hook = `export async function load(url, context, next) {
  process.stderr.write('kiln-module-load ' + url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

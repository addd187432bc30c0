// Loaded under tsx with the `kiln-source` condition: imports each test file into uvu's queue and runs them.
import { run } from 'uvu/run';
import { relative } from 'node:path';

const files = process.argv.slice(2);
await run(files.map((file) => ({ name: relative(process.cwd(), file), file })), { bail: false });

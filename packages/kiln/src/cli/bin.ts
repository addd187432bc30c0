// The `kiln` command run from source (tests, and `pnpm kiln` in this repository without a build).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));

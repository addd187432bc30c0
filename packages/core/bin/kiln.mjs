#!/usr/bin/env node
// The `kiln` command, from the built package.
import { runKilnCli } from '../dist/bundle.js'; // the package's one module (scripts/bundle-packages.mjs)

process.exitCode = await runKilnCli(process.argv.slice(2));

#!/usr/bin/env node
// The `kiln` command (from the built package; from source: node --conditions=kiln-source --import tsx/esm packages/kiln/src/cli/bin.ts).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

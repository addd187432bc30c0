#!/usr/bin/env node
// The `kiln` command, from the built package.
import { runKilnCli } from '../dist/cli/kiln.js';

process.exitCode = await runKilnCli(process.argv.slice(2));

#!/usr/bin/env node
// The `kiln` command, from the built package.
import { runCli } from '../dist/cli.js';

process.exitCode = await runCli(process.argv.slice(2));

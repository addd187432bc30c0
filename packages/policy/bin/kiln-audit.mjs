#!/usr/bin/env node
// Runs the policy audit from the built package (core's `kiln audit` calls the same runAuditCli).
import { runAuditCli } from '../dist/bundle.js'; // the package's one module (scripts/bundle-packages.mjs)

process.exitCode = await runAuditCli(process.argv.slice(2));

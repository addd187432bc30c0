#!/usr/bin/env node
// Runs the policy audit from the built package (core's `kiln audit` calls the same runAuditCli).
import { runAuditCli } from '../dist/index.js';

process.exitCode = await runAuditCli(process.argv.slice(2));

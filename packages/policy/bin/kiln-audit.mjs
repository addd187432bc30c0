#!/usr/bin/env node
// Runs the policy audit alone, from the built package: the built-in tables, no config and no backends.
// The `kiln audit` command (in the `kiln` package) calls the same runAuditCli through core's runAuditCommand,
// adding the config's rules and the installed backends' lowering tables.
import { runAuditCli } from '../dist/bundle.js'; // the package's one module (scripts/bundle-packages.mjs)

process.exitCode = await runAuditCli(process.argv.slice(2));

// Prints the policy-table lines that the live @kiln/tensor API lacks, for a human to review and paste.
// Run: node --conditions=kiln-source --import tsx packages/policy/scripts/sync-allowlist.ts
// Nothing is generated at run time: the allowlist stays an explicit table in source.
import { missingEntries } from '../src/audit/sync.js';

const { allowlist, tensorApi, stale } = missingEntries();
const section = (title: string, lines: readonly string[]) => {
  if (!lines.length) return;
  console.log(`\n// ${title}`);
  for (const line of lines) console.log(`  ${line}`);
};
section('paste into TENSOR_ALLOWLIST in packages/policy/src/rules/allowlist.ts', allowlist);
section('paste into TENSOR_API_RULES in packages/policy/src/rules/tensor-api.ts (decide inline or skip)', tensorApi);
section('stale: remove these rules', stale);
if (!allowlist.length && !tensorApi.length && !stale.length) console.log('policy tables cover the whole @kiln/tensor API');
process.exitCode = allowlist.length + tensorApi.length + stale.length ? 1 : 0;

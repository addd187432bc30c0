// Prints the op table of packages/tensor/README.md from the registry, so the README cannot drift from code.
// Run from the repository root:
//   node --conditions=kiln-source --import tsx packages/tensor/scripts/op-table.ts
import { OP_CATEGORIES, listOps } from '@kiln/tensor';

const rows = listOps();
const flags = (r: (typeof rows)[number]) =>
  [
    r.method && 'method',
    !r.publicFunction && 'method only',
    r.view && 'view',
    r.mutatesSelf && 'in-place',
    r.random && 'random',
    r.dataDependent && 'data-dependent',
  ]
    .filter(Boolean)
    .join(', ');
const mark = (b: boolean) => (b ? '✓' : '');
const GRAD = { formula: '✓', decomposition: 'decomp', nonDifferentiable: '–', missing: '**missing**' } as const;

console.log(`${rows.length} ops. ✓ meta: has a meta function (shapes and dtypes without data); ✓ decomp: composite op,`);
console.log('decomposed into core ops by the compiler (ops without one form the core op set). grad: ✓ its own derivative');
console.log('formula, decomp: differentiated through its decomposition, –: not differentiable (integer, boolean or');
console.log('constant results: no history).\n');
for (const category of OP_CATEGORIES) {
  const inCategory = rows.filter((r) => r.category === category);
  if (!inCategory.length) continue;
  console.log(`**${category}**\n`);
  console.log('| op | schema | meta | decomp | grad | notes |');
  console.log('|---|---|:-:|:-:|:-:|---|');
  for (const r of inCategory) {
    console.log(`| \`${r.name}\` | \`${r.schema.replaceAll('|', '\\|')}\` | ${mark(r.hasMeta)} | ${mark(r.hasDecomposition)} | ${GRAD[r.derivative]} | ${flags(r)} |`);
  }
  console.log('');
}

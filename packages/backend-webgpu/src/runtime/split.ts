// When a reduction runs split (codegen/reduction.ts): few rows, each long, would leave most of the GPU idle
// with one workgroup per row (a full sum of 1M elements on one workgroup). The choice is made per call from
// the sizes, so one program serves both a 1M-element sum and a batch of short rows.

/**
 * The rule, in elements: split rows of at least `minRowLength` when there are fewer than `maxRows` of them,
 * into chunks of at least `minChunk` elements and at most `maxChunks` chunks per row (each later pass folds
 * every chunk's partial in each workgroup, so the chunk count stays near the square root of the row or less).
 * Exported so tests can reach many chunks with small inputs; the defaults suit lavapipe and GPUs alike.
 */
export const reductionSplit = { minRowLength: 4096, maxRows: 256, minChunk: 1024, maxChunks: 1024, softwareMaxChunks: 16, perRowMaxLength: 1024 };

/**
 * On a software adapter, rows of at most `perRowMaxLength` elements (and not split) are reduced one per
 * invocation, serially: short enough that a serial float sum stays accurate, and no barriers.
 */
export function usePerRow(rowLength: number): boolean {
  return rowLength <= reductionSplit.perRowMaxLength;
}

/**
 * Chunks per row and elements per chunk for a call, or undefined to run one workgroup per row. A software
 * adapter (lavapipe) runs a few workgroups at a time on CPU threads and pays dearly per workgroup (its
 * barriers switch every invocation's context): there a row gets at most `softwareMaxChunks` chunks (a 1M
 * sum split 1,024 ways took 30× longer on lavapipe than one workgroup; 16 ways, less than one).
 */
export function splitPlan(rows: number, rowLength: number, software = false): { chunks: number; chunk: number } | undefined {
  const r = reductionSplit;
  if (rows === 0 || rows >= r.maxRows || rowLength < r.minRowLength) return undefined;
  const chunk = Math.max(r.minChunk, Math.ceil(rowLength / (software ? r.softwareMaxChunks : r.maxChunks)));
  const chunks = Math.ceil(rowLength / chunk);
  return chunks < 2 ? undefined : { chunks, chunk };
}

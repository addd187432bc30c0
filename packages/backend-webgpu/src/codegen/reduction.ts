// A reduction kernel, in two forms chosen per call from its sizes (runtime/split.ts):
// - whole rows: one workgroup per outer point. Each stage strides its 256 invocations over the reduction
//   space (each keeps a running value, argmax/argmin also the first index), then folds the 256 partial
//   values in workgroup memory in log2(256) barrier-separated steps; every invocation then reads the
//   result, so later stages' prologues and `full` stores (softmax's exp(x - max) / sum) can use it.
// - split rows, for few long rows: G workgroups per row, each over one chunk of it. Pass p < S (S stages)
//   writes stage p's per-chunk partial (value and index) to a partials buffer; every later pass first folds
//   the partials of the stages before it — the same G values in the same order in every workgroup, so all
//   agree — and the last pass makes the stores, each workgroup its own chunk of the row. A float sum is
//   therefore blocked three ways (a stride within a chunk, a tree over the workgroup, a stride and a tree
//   over the chunks): no long serial accumulation at any length.
import type { LoopDType, ReductionKernel, ReductionType, SizeExpr } from '@kiln/lower';
import { sizeProduct } from '@kiln/lower';
import { ShaderFrame, WORKGROUP, storeLine, type ShaderOptions, type WgslKernel } from './shader.js';
import { ValueWriter, f32Literal, wgslType } from './values.js';
import { addressText } from './address.js';

/** The split form of a reduction kernel: one shader per pass, all bound alike plus the partials buffer. */
export interface SplitReduction {
  /** Pass p's shader; passes 0..S-1 reduce stage p's chunks, pass S folds them and stores. */
  readonly passes: readonly string[];
  /** Outer points (rows) and elements per row, from the parameters. */
  readonly rows: SizeExpr;
  readonly rowLength: SizeExpr;
  /** Reduction stages: the partials buffer holds stages × rows × chunks × 2 int32 words. */
  readonly stages: number;
}

/** Rows one workgroup of the per-row form reduces (one per invocation). */
export const ROWS_PER_GROUP = 64;

export function reductionShader(kernel: ReductionKernel, options: ShaderOptions = {}): WgslKernel {
  const whole = reductionPass(kernel, options, 'whole')!;
  const perRow = options.software && kernel.reduce.length > 0 ? { perRow: { code: reductionPass(kernel, options, 'rows', whole.flags)!.code, rows: sizeProduct(kernel.outer), rowLength: sizeProduct(kernel.reduce) } } : {};
  const passes = kernel.reduce.length === 0 ? [] : [...kernel.stages.keys(), kernel.stages.length].map((p) => reductionPass(kernel, options, p, whole.flags));
  if (passes.length === 0 || passes.some((p) => !p)) return { ...whole, ...perRow };
  const split = { passes: passes.map((k) => k!.code), rows: sizeProduct(kernel.outer), rowLength: sizeProduct(kernel.reduce), stages: kernel.stages.length };
  return { ...whole, ...perRow, split };
}

/**
 * The whole-row shader, the per-row one (`rows`: each invocation reduces a row alone, serially, with no
 * workgroup memory or barriers), or pass `pass` of the split form; undefined for a split pass over a bool
 * accumulator (no 32-bit pattern to keep as a partial: such kernels stay whole).
 */
function reductionPass(kernel: ReductionKernel, options: ShaderOptions, pass: number | 'whole' | 'rows', flags = false): WgslKernel | undefined {
  const frame = new ShaderFrame(kernel, options);
  const split = typeof pass === 'number';
  const perRow = pass === 'rows';
  // Every pass of a split kernel that may flag binds the flag, so the runtime binds all passes alike.
  if (split) frame.extraBindings = 1;
  if (flags) frame.bindFlag();
  const outer = kernel.outer.map((_, k) => `o${k}`);
  const full = [...outer, ...kernel.reduce.map((_, k) => `r${k}`)];
  const accs: LoopDType[] = [];
  const accNames: string[] = [];
  const rows = frame.size(sizeProduct(kernel.outer));
  // Split passes read the chunk count G and chunk length from the two parameter slots after the kernel's.
  const slot = kernel.params.length;
  const body: string[] = split
    ? [
        `let G = P[${slot}];`,
        `let chunk = P[${slot + 1}];`,
        `let RG = ${rows} * G;`,
        `if (group >= RG) { return; }`,
        `let row = group / G;`,
        `let g = group - row * G;`,
        ...frame.decompose('row', kernel.outer, outer, 'o'),
        `let rn = ${frame.size(sizeProduct(kernel.reduce))};`,
        `let lo = g * chunk;`,
        `let hi = min(rn, lo + chunk);`,
      ]
    : perRow
      ? [`let row = group * ${ROWS_PER_GROUP} + i32(li);`, `if (row >= ${rows}) { return; }`, ...frame.decompose('row', kernel.outer, outer, 'o'), `let rn = ${frame.size(sizeProduct(kernel.reduce))};`]
      : [`if (group >= ${rows}) { return; }`, ...frame.decompose('group', kernel.outer, outer, 'o'), `let rn = ${frame.size(sizeProduct(kernel.reduce))};`];
  const shared: string[] = [];
  if (split) {
    frame.declarations.push(`@group(0) @binding(${frame.order.length + 1}) var<storage, read_write> part: array<i32>;`);
    body.unshift(`_ = &part;`);
  }
  const writer = (indices: readonly string[], prefix: string) =>
    new ValueWriter({ kernel: kernel.name, buffers: frame.decls, accs: [...accs] }, frame, frame.prelude, {
      address: (a) => addressText(frame, a, indices),
      index: (k) => indices[k]!,
      acc: (s) => accNames[s]!,
    }, prefix);
  // Each loop over the reduction space (a chunk of it when split) declares its own indices (`r0`…) from `j`.
  const overReduce = (lines: string[]) => [
    split ? `for (var j = lo + i32(li); j < hi; j = j + ${WORKGROUP}) {` : perRow ? `for (var j = 0; j < rn; j = j + 1) {` : `for (var j = i32(li); j < rn; j = j + ${WORKGROUP}) {`,
    ...[...frame.decompose('j', kernel.reduce, full.slice(outer.length), 'r'), ...lines].map((l) => `  ${l}`),
    `}`,
  ];

  for (const [s, stage] of kernel.stages.entries()) {
    if (split && s > (pass as number)) break;
    const w = writer(full, `s${s}v`);
    const value = w.value(stage.prologue);
    const t = w.dtype(stage.prologue);
    const arg = stage.type === 'argmax' || stage.type === 'argmin';
    const type = wgslType(t, kernel.name);
    if (split && type === 'bool') return undefined;
    const combine = combiner(stage.type, t, frame);
    const fold = (a: string, ai: string, b: string, bi: string, running: boolean) => (arg ? combine(a, ai, b, bi, running) : combine(a, '', b, '', running));
    body.push(`var a${s}: ${type} = ${identity(stage.type, t, frame)};`);
    if (arg) body.push(`var ai${s}: i32 = rn;`);
    // The word of stage s's partial for chunk q of this row (value, then index).
    const partWord = (q: string) => `(${s} * RG + row * G + ${q}) * 2`;
    if (split && s < pass) {
      const bits = type === 'f32' ? `bitcast<f32>(part[${partWord('q')}])` : `part[${partWord('q')}]`;
      body.push(`for (var q = i32(li); q < G; q = q + ${WORKGROUP}) {`, `  ${fold(`a${s}`, `ai${s}`, bits, `part[${partWord('q')} + 1]`, false)}`, `}`);
    } else if (perRow && type === 'f32' && stage.type === 'sum') {
      // A row summed in one invocation is blocked: 32 elements into `blk`, then `blk` into the total, so
      // rounding grows with 32 + n/32 additions rather than n.
      body.push(`var blk${s}: f32 = 0.0;`);
      body.push(...overReduce([...w.lines, `blk${s} = blk${s} + ${value};`, `if ((j & 31) == 31) { a${s} = a${s} + blk${s}; blk${s} = 0.0; }`]));
      body.push(`a${s} = a${s} + blk${s};`);
    } else {
      body.push(...overReduce([...w.lines, fold(`a${s}`, `ai${s}`, value, 'j', true)]));
    }
    const flag = type === 'f32' && (stage.type === 'sum' || stage.type === 'prod');
    if (perRow) {
      body.push(`let acc${s} = ${arg ? `ai${s}` : `a${s}`};`);
      // Eager sums and products in float64: where the float32 total overflowed, the call is recomputed eagerly.
      if (flag) body.push(frame.flagIf(`${frame.prelude.use('kiln_isinf')}(acc${s})`));
      accs.push(arg ? 'int32' : t);
      accNames.push(`acc${s}`);
      continue;
    }
    shared.push(`var<workgroup> sh${s}: array<${type}, ${WORKGROUP}>;`);
    if (arg) shared.push(`var<workgroup> shi${s}: array<i32, ${WORKGROUP}>;`);
    body.push(`sh${s}[li] = a${s};`);
    if (arg) body.push(`shi${s}[li] = ai${s};`);
    body.push(
      `workgroupBarrier();`,
      `for (var w = ${WORKGROUP / 2}u; w > 0u; w = w >> 1u) {`,
      `  if (li < w) {`,
      `    ${fold(`sh${s}[li]`, `shi${s}[li]`, `sh${s}[li + w]`, `shi${s}[li + w]`, false)}`,
      `  }`,
      `  workgroupBarrier();`,
      `}`,
      `let acc${s} = ${arg ? `shi${s}[0]` : `sh${s}[0]`};`,
    );
    const total = !split || s < pass;
    if (total && flag) body.push(frame.flagIf(`li == 0u && ${frame.prelude.use('kiln_isinf')}(acc${s})`));
    if (split && s === pass) {
      const bits = type === 'f32' ? `bitcast<i32>(sh${s}[0])` : `sh${s}[0]`;
      body.push(`if (li == 0u) {`, `  part[${partWord('g')}] = ${bits};`, `  part[${partWord('g')} + 1] = ${arg ? `shi${s}[0]` : '0'};`, `}`);
    }
    accs.push(arg ? 'int32' : t);
    accNames.push(`acc${s}`);
  }

  if (!split || pass === kernel.stages.length) {
    const leader = split ? `li == 0u && g == 0` : perRow ? 'true' : `li == 0u`;
    const outerStores = kernel.stores.filter((s) => s.scope === 'outer');
    const fullStores = kernel.stores.filter((s) => s.scope === 'full');
    if (outerStores.length > 0) {
      const w = writer(outer, 'ov');
      const lines = outerStores.map((st) => storeLine(frame, st.buffer, addressText(frame, st.access, outer), w.value(st.value)));
      body.push(`if (${leader}) {`, ...[...w.lines, ...lines].map((l) => `  ${l}`), `}`);
    }
    if (fullStores.length > 0) {
      const w = writer(full, 'fv');
      const lines = fullStores.map((st) => storeLine(frame, st.buffer, addressText(frame, st.access, full), w.value(st.value)));
      body.push(...overReduce([...w.lines, ...lines]));
    }
  }
  return frame.result(frame.finish(body, String(perRow ? ROWS_PER_GROUP : WORKGROUP), shared), sizeProduct(kernel.outer));
}

function identity(type: ReductionType, t: LoopDType, frame: ShaderFrame): string {
  const float = t === 'float32';
  switch (type) {
    case 'sum': return float ? '0.0' : '0';
    case 'prod': return float ? '1.0' : '1';
    case 'max': case 'argmax': return float ? f32Literal(-Infinity, frame.prelude) : 'i32(-2147483648)';
    case 'min': case 'argmin': return float ? f32Literal(Infinity, frame.prelude) : '2147483647';
  }
}

/**
 * The statement folding `(b, bi)` into `(a, ai)`. NaN wins max/min (as in eager), and argmax/argmin take
 * NaN as the extreme; ties keep the smaller index, which is the first occurrence. `running` is the serial
 * loop, where indices only grow, so a tie never replaces.
 */
function combiner(type: ReductionType, t: LoopDType, frame: ShaderFrame) {
  const float = t === 'float32';
  const nan = (x: string) => (float ? `${frame.prelude.use('kiln_isnan')}(${x})` : 'false');
  return (a: string, ai: string, b: string, bi: string, running: boolean): string => {
    switch (type) {
      case 'sum': return `${a} = ${a} + ${b};`;
      case 'prod': return `${a} = ${a} * ${b};`;
      case 'max': return float ? `${a} = ${frame.prelude.use('kiln_fmax')}(${a}, ${b});` : `${a} = max(${a}, ${b});`;
      case 'min': return float ? `${a} = ${frame.prelude.use('kiln_fmin')}(${a}, ${b});` : `${a} = min(${a}, ${b});`;
      case 'argmax': case 'argmin': {
        const cmp = type === 'argmax' ? '>' : '<';
        const tie = running ? 'false' : `(${b} == ${a} && ${bi} < ${ai})`;
        const nanTie = running ? 'false' : `(${nan(b)} && ${nan(a)} && ${bi} < ${ai})`;
        const better = `(${b} ${cmp} ${a}) || ${tie} || (${nan(b)} && !${nan(a)}) || ${nanTie} || (${bi} < ${ai} && ${ai} == rn)`;
        return `if (${better}) { ${a} = ${b}; ${ai} = ${bi}; }`;
      }
    }
  };
}

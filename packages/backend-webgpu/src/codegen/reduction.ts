// A reduction kernel: one workgroup per outer point. Each stage strides its 256 invocations over the
// reduction space (each keeps a running value, argmax/argmin also the first index), then folds the 256
// partial values in workgroup memory in log2(256) barrier-separated steps; every invocation then reads
// the result, so later stages' prologues and `full` stores (softmax's exp(x - max) / sum) can use it.
import type { LoopDType, ReductionKernel, ReductionType } from '@kiln/lower';
import { sizeProduct } from '@kiln/lower';
import { ShaderFrame, WORKGROUP, storeLine, type WgslKernel } from './shader.js';
import { ValueWriter, f32Literal, wgslType } from './values.js';
import { addressText } from './address.js';

export function reductionShader(kernel: ReductionKernel): WgslKernel {
  const frame = new ShaderFrame(kernel);
  const outer = kernel.outer.map((_, k) => `o${k}`);
  const full = [...outer, ...kernel.reduce.map((_, k) => `r${k}`)];
  const accs: LoopDType[] = [];
  const accNames: string[] = [];
  const body: string[] = [
    `if (group >= ${frame.size(sizeProduct(kernel.outer))}) { return; }`,
    ...frame.decompose('group', kernel.outer, outer, 'o'),
    `let rn = ${frame.size(sizeProduct(kernel.reduce))};`,
  ];
  const shared: string[] = [];
  const writer = (indices: readonly string[], prefix: string) =>
    new ValueWriter({ kernel: kernel.name, buffers: frame.decls, accs: [...accs] }, frame, frame.prelude, {
      address: (a) => addressText(frame, a, indices),
      index: (k) => indices[k]!,
      acc: (s) => accNames[s]!,
    }, prefix);
  // Each loop over the reduction space declares its own indices (`r0`…) from the flat `j`.
  const overReduce = (lines: string[]) => [
    `for (var j = i32(li); j < rn; j = j + ${WORKGROUP}) {`,
    ...[...frame.decompose('j', kernel.reduce, full.slice(outer.length), 'r'), ...lines].map((l) => `  ${l}`),
    `}`,
  ];

  kernel.stages.forEach((stage, s) => {
    const w = writer(full, `s${s}v`);
    const value = w.value(stage.prologue);
    const t = w.dtype(stage.prologue);
    const arg = stage.type === 'argmax' || stage.type === 'argmin';
    const type = wgslType(t, kernel.name);
    const combine = combiner(stage.type, t, frame);
    shared.push(`var<workgroup> sh${s}: array<${type}, ${WORKGROUP}>;`);
    if (arg) shared.push(`var<workgroup> shi${s}: array<i32, ${WORKGROUP}>;`);
    body.push(`var a${s}: ${type} = ${identity(stage.type, t, frame)};`);
    if (arg) body.push(`var ai${s}: i32 = rn;`);
    body.push(...overReduce([...w.lines, arg ? combine(`a${s}`, `ai${s}`, value, 'j', true) : combine(`a${s}`, '', value, '', true)]));
    body.push(`sh${s}[li] = a${s};`);
    if (arg) body.push(`shi${s}[li] = ai${s};`);
    body.push(
      `workgroupBarrier();`,
      `for (var w = ${WORKGROUP / 2}u; w > 0u; w = w >> 1u) {`,
      `  if (li < w) {`,
      arg
        ? `    ${combine(`sh${s}[li]`, `shi${s}[li]`, `sh${s}[li + w]`, `shi${s}[li + w]`, false)}`
        : `    ${combine(`sh${s}[li]`, '', `sh${s}[li + w]`, '', false)}`,
      `  }`,
      `  workgroupBarrier();`,
      `}`,
      `let acc${s} = ${arg ? `shi${s}[0]` : `sh${s}[0]`};`,
    );
    accs.push(arg ? 'int32' : t);
    accNames.push(`acc${s}`);
  });

  const outerStores = kernel.stores.filter((s) => s.scope === 'outer');
  const fullStores = kernel.stores.filter((s) => s.scope === 'full');
  if (outerStores.length > 0) {
    const w = writer(outer, 'ov');
    const lines = outerStores.map((st) => storeLine(frame, st.buffer, addressText(frame, st.access, outer), w.value(st.value)));
    body.push(`if (li == 0u) {`, ...[...w.lines, ...lines].map((l) => `  ${l}`), `}`);
  }
  if (fullStores.length > 0) {
    const w = writer(full, 'fv');
    const lines = fullStores.map((st) => storeLine(frame, st.buffer, addressText(frame, st.access, full), w.value(st.value)));
    body.push(...overReduce([...w.lines, ...lines]));
  }
  return frame.result(frame.finish(body, String(WORKGROUP), shared), sizeProduct(kernel.outer));
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

// The loop IR's printer: deterministic, one line per buffer, stage and store, so printed kernels can be
// compared in tests and read in logs. Axes print as i0, i1… (pointwise and outer axes) and r0, r1…
// (reduction axes); matmul epilogues use b0…, m, n.
import type { Access, BufferDecl, Kernel, MatrixOperand, SizeExpr, ValueExpr } from './loop-ir.js';
import { printSize } from './sizes.js';

export function printKernel(k: Kernel): string {
  const lines: string[] = [];
  const params = k.params.length ? ` (${k.params.join(', ')})` : '';
  const decls = (tag: string, bs: readonly BufferDecl[]) => bs.map((b) => `  ${tag} ${b.name}: ${b.dtype}`);
  switch (k.kind) {
    case 'pointwise': {
      const axes = k.sizes.map((_, i) => `i${i}`);
      lines.push(`pointwise ${k.name}${params} over [${k.sizes.map(printSize).join(', ')}]`);
      lines.push(...decls('in ', k.inputs), ...decls('out', k.outputs));
      for (const s of k.stores) lines.push(`  ${s.buffer}${printAccess(s.access, axes)} = ${printValue(s.value, axes)}`);
      break;
    }
    case 'reduction': {
      const outer = k.outer.map((_, i) => `i${i}`);
      const full = [...outer, ...k.reduce.map((_, i) => `r${i}`)];
      lines.push(
        `reduction ${k.name}${params} outer [${k.outer.map(printSize).join(', ')}] ` +
          `reduce [${k.reduce.map(printSize).join(', ')}]`,
      );
      lines.push(...decls('in ', k.inputs), ...decls('out', k.outputs));
      k.stages.forEach((s, i) => lines.push(`  acc${i} = ${s.type} ${printValue(s.prologue, full)}`));
      for (const s of k.stores) {
        const axes = s.scope === 'full' ? full : outer;
        lines.push(`  ${s.buffer}${printAccess(s.access, axes)} = ${printValue(s.value, axes)}    # ${s.scope}`);
      }
      break;
    }
    case 'extern': {
      const axes = [...k.batch.map((_, i) => `b${i}`), 'm', 'n'];
      const batch = k.batch.map(printSize);
      lines.push(
        `matmul ${k.name}${params} [${[...batch, printSize(k.m), printSize(k.n)].join(', ')}] k=${printSize(k.k)}`,
      );
      lines.push(...decls('in ', k.inputs), ...decls('out', k.outputs));
      lines.push(`  ${k.out} = ${printOperand(k.a)} @ ${printOperand(k.b)}`);
      if (k.epilogue) lines.push(`  epilogue ${printValue(k.epilogue, axes)}`);
      break;
    }
    default:
      return k satisfies never;
  }
  return lines.join('\n');
}

export function printAccess(a: Access, axes: readonly string[]): string {
  const terms: string[] = [];
  if (a.offset !== 0) terms.push(printSize(a.offset));
  a.strides.forEach((s, i) => {
    if (s === 0) return;
    terms.push(s === 1 ? axes[i]! : `${printSize(s)}*${axes[i]}`);
  });
  return `[${terms.join(' + ') || '0'}]`;
}

function printOperand(o: MatrixOperand): string {
  const strides: SizeExpr[] = [...o.batchStrides, o.rowStride, o.colStride];
  return `${o.buffer}{offset ${printSize(o.offset)}, strides ${strides.map(printSize).join(', ')}}`;
}

export function printValue(e: ValueExpr, axes: readonly string[]): string {
  switch (e.kind) {
    case 'load':
      return `${e.buffer}${printAccess(e.access, axes)}`;
    case 'const':
      return e.dtype === 'float32' || e.dtype === 'float64' ? floatLiteral(e.value) : String(e.value);
    case 'index':
      return axes[e.axis] ?? `axis${e.axis}`;
    case 'size':
      return `size(${printSize(e.value)})`;
    case 'floatParam':
      return `f32param(${e.param})`;
    case 'gather':
      return `${e.buffer}${printAccess(e.access, axes)}{+ ${printSize(e.stride)}*${printValue(e.position, axes)}}`;
    case 'acc':
      return `acc${e.stage}`;
    case 'unary':
      return `${e.op}(${printValue(e.x, axes)})`;
    case 'binary':
      return `${e.op}(${printValue(e.a, axes)}, ${printValue(e.b, axes)})`;
    case 'where':
      return `where(${printValue(e.cond, axes)}, ${printValue(e.a, axes)}, ${printValue(e.b, axes)})`;
    case 'cast':
      return `${e.dtype}(${printValue(e.x, axes)})`;
    default:
      return e satisfies never;
  }
}

function floatLiteral(v: number): string {
  if (Number.isInteger(v)) return `${v}.0`;
  return String(v);
}

// verify(): the loop IR's invariants, checked once before codegen so backends can trust their input.
import { LoopIRError } from './errors.js';
import { bufferMap, dtypeOf, type DTypeEnv } from './dtypes.js';
import type { Access, Kernel, LoopDType, SizeExpr, ValueExpr } from './loop-ir.js';
import { PARAM_NAME, sizeParams } from './sizes.js';
import { walk } from './traverse.js';

export function verifyKernel(k: Kernel): void {
  const fail = (msg: string, hint?: string): never => {
    throw new LoopIRError(k.name, msg, hint);
  };
  if (!PARAM_NAME.test(k.name)) fail(`kernel name must be an identifier`);
  const names = new Set<string>();
  for (const b of [...k.inputs, ...k.outputs]) {
    if (!PARAM_NAME.test(b.name)) fail(`buffer name '${b.name}' is not an identifier`);
    if (names.has(b.name)) fail(`buffer '${b.name}' declared twice`);
    names.add(b.name);
  }
  const declared = new Set(k.params);
  for (const p of k.params) if (!PARAM_NAME.test(p)) fail(`parameter '${p}' is not an identifier`);
  const checkSize = (s: SizeExpr) => {
    for (const p of sizeParams(s)) if (!declared.has(p)) fail(`size uses undeclared parameter '${p}'`, `add it to params`);
  };
  const checkAccess = (a: Access, rank: number, what: string) => {
    if (a.strides.length !== rank) fail(`${what}: access has ${a.strides.length} strides for ${rank} axes`);
    checkSize(a.offset);
    a.strides.forEach(checkSize);
  };
  const buffers = bufferMap(k.inputs, k.outputs);
  const outputs = new Set(k.outputs.map((b) => b.name));
  const checkValue = (e: ValueExpr, rank: number, accs: readonly LoopDType[]): LoopDType => {
    walk(e, (n) => {
      if (n.kind === 'load') {
        // A recurrence (cumsum's step kernel) loads what earlier iterations of its outermost axis stored.
        if (!k.inputs.some((b) => b.name === n.buffer) && !outputs.has(n.buffer)) fail(`load from '${n.buffer}', which is not an input or output`);
        checkAccess(n.access, rank, `load ${n.buffer}`);
      }
      if (n.kind === 'gather') {
        if (!k.inputs.some((b) => b.name === n.buffer)) fail(`gather from '${n.buffer}', which is not an input`);
        checkAccess(n.access, rank, `gather ${n.buffer}`);
        checkSize(n.stride);
      }
      if (n.kind === 'size') checkSize(n.value);
      if (n.kind === 'floatParam') checkSize({ param: n.param });
      if (n.kind === 'index' && (n.axis < 0 || n.axis >= rank)) fail(`index axis ${n.axis} out of range`);
    });
    const env: DTypeEnv = { kernel: k.name, buffers, accs };
    return dtypeOf(e, env);
  };
  const checkStore = (buffer: string, access: Access, value: ValueExpr, rank: number, accs: readonly LoopDType[]) => {
    if (!outputs.has(buffer)) fail(`store to '${buffer}', which is not an output`);
    checkAccess(access, rank, `store ${buffer}`);
    const got = checkValue(value, rank, accs);
    const want = buffers.get(buffer)!.dtype;
    if (got !== want) fail(`store to ${buffer} (${want}) of a ${got} value`, 'insert a cast');
  };

  switch (k.kind) {
    case 'pointwise':
      k.sizes.forEach(checkSize);
      for (const s of k.stores) checkStore(s.buffer, s.access, s.value, k.sizes.length, []);
      break;
    case 'reduction': {
      [...k.outer, ...k.reduce].forEach(checkSize);
      if (k.reduce.length === 0) fail('a reduction needs at least one reduction axis', 'emit a pointwise kernel');
      const rank = k.outer.length + k.reduce.length;
      const accs: LoopDType[] = [];
      for (const s of k.stages) {
        const d = checkValue(s.prologue, rank, accs);
        accs.push(s.type === 'argmax' || s.type === 'argmin' ? 'int32' : d);
      }
      for (const s of k.stores) {
        checkStore(s.buffer, s.access, s.value, s.scope === 'full' ? rank : k.outer.length, accs);
      }
      break;
    }
    case 'extern': {
      [...k.batch, k.m, k.n, k.k].forEach(checkSize);
      for (const o of [k.a, k.b]) {
        const b = buffers.get(o.buffer);
        if (!b || !k.inputs.includes(b)) fail(`matmul operand '${o.buffer}' is not an input`);
        if (b!.dtype !== 'float32') fail(`matmul supports float32 operands, got ${b!.dtype}`);
        if (o.batchStrides.length !== k.batch.length) fail(`operand ${o.buffer}: batch strides do not match batch rank`);
        [o.offset, o.rowStride, o.colStride, ...o.batchStrides].forEach(checkSize);
      }
      if (!outputs.has(k.out) || buffers.get(k.out)!.dtype !== 'float32') fail(`matmul output must be a float32 output`);
      if (k.epilogue) {
        const d = checkValue(k.epilogue, k.batch.length + 2, ['float32']);
        if (d !== 'float32') fail(`matmul epilogue must produce float32, got ${d}`);
      }
      break;
    }
    default:
      k satisfies never;
  }
}

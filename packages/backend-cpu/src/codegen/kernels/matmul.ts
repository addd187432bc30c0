// Extern matmul: a GotoBLAS/BLIS-style blocked kernel. B is packed into KC×NR micro-panels and A into
// MR×KC micro-panels (zero padded at the edges), so the microkernel streams both contiguously, whatever
// the operands' strides: transposed and batched views cost nothing beyond the packing. The MR×NR tile of
// C lives in MR*NR/4 v128 locals that V8 keeps in registers; each k step is NR/4 loads of B, MR
// load-and-splats of A and MR*NR/4 multiply-adds. Node 20 has no relaxed-SIMD fma, so it is mul + add.
import type { MatmulKernel, PointwiseKernel, ReductionKernel, SizeExpr } from '@kiln/lower';
import { contiguousStrides, mapValue, loop, sizeProduct } from '@kiln/lower';
import type { MathLibrary } from '../math/library.js';
import { FunctionBuilder, type Local } from '../wasm/function.js';
import type { ModuleBuilder } from '../wasm/module.js';
import { kernelFrame, type KernelSignature } from './frame.js';
import { emitNest } from './loops.js';
import { emitPointwise } from './pointwise.js';
import { emitReduction } from './reduction.js';
import { emitSize } from './sizes.js';
import { packPanels } from './matmul-pack.js';

const { acc, contiguous, load, mul } = loop;

/**
 * The register tile (MR rows × NR columns of C, NR a multiple of 4) and the cache blocks: KC steps of k per
 * packed panel, MC rows of A and NC columns of B per packed block. runtime/matmul-autotune.ts picks them
 * per machine by measurement.
 */
export interface MatmulBlocking {
  readonly MR: number;
  readonly NR: number;
  readonly KC: number;
  readonly MC: number;
  readonly NC: number;
}

/** Measured best on an AMD EPYC (Zen 4) and kept when no tuning is wanted (see README). */
export const DEFAULT_MATMUL_BLOCKING: MatmulBlocking = { MR: 4, NR: 8, KC: 256, MC: 128, NC: 512 };

export function emitMatmul(
  k: MatmulKernel, exportName: string, math: MathLibrary, module: ModuleBuilder, blocking: MatmulBlocking = DEFAULT_MATMUL_BLOCKING,
): { f: FunctionBuilder; signature: KernelSignature } {
  const { MR, NR, KC, MC, NC } = blocking;
  // Matrix-vector shapes (fewer rows than a register tile, or one column) are bandwidth-bound: packing
  // would copy all of B to use each element once. They run as a reduction over k instead.
  if ((typeof k.m === 'number' && k.m < MR) || k.n === 1) return emitReduction(matvecAsReduction(k), exportName, math);
  const { frame, signature, scratchPtr, extra } = kernelFrame(k, exportName, true, 2);
  const [colBegin, colEnd] = extra as [Local<'i32'>, Local<'i32'>];
  const { f, params, pointers } = frame;
  // packed blocks hold whole panels: a block of MC rows that is not a multiple of MR is padded to one
  const packedRows = Math.ceil(MC / MR) * MR, packedCols = Math.ceil(NC / NR) * NR;
  const scratchBytes = 4 * (packedRows * KC + KC * packedCols + MR * NR);
  const microTile = module.helper(`matmul_tile_${MR}x${NR}`, () => emitMicroTile(blocking));
  const core = module.helper(`matmul_core_${MR}x${NR}_${KC}_${MC}_${NC}`, () => emitMatmulCore(blocking, microTile));
  const I = () => f.local('i32');
  const size = (s: SizeExpr) => {
    const l = I();
    emitSize(f, s, params);
    f.set(l);
    return l;
  };
  const M = size(k.m), N = size(k.n), K = size(k.k);
  const strides = (o: MatmulKernel['a']) => {
    const row = I(), col = I();
    emitSize(f, o.rowStride, params); f.i32(4).op('i32_mul').set(row);
    emitSize(f, o.colStride, params); f.i32(4).op('i32_mul').set(col);
    return { row, col };
  };
  const sa = strides(k.a), sb = strides(k.b);

  emitNest(f, k.batch, params, (bIdx) => {
    // operand bases for this batch point; the output is contiguous over (batch..., m, n)
    const base = (o: MatmulKernel['a']) => {
      f.get(pointers.get(o.buffer)!);
      emitSize(f, o.offset, params);
      bIdx.forEach((b, i) => { f.get(b); emitSize(f, o.batchStrides[i]!, params); f.op('i32_mul', 'i32_add'); });
      f.i32(4).op('i32_mul', 'i32_add');
    };
    base(k.a);
    base(k.b);
    f.get(pointers.get(k.out)!).i32(0);
    const batchStrides = contiguousStrides(k.batch);
    bIdx.forEach((b, i) => { f.get(b); emitSize(f, batchStrides[i]!, params); f.op('i32_mul', 'i32_add'); });
    f.get(M).op('i32_mul').get(N).op('i32_mul').i32(4).op('i32_mul', 'i32_add');
    for (const l of [M, N, K, sa.row, sa.col, sb.row, sb.col, colBegin, colEnd, scratchPtr!]) f.get(l);
    f.call(core);
  });

  const epilogue = k.epilogue ? exportEpilogue(k, `${exportName}_epilogue`, math, module) : undefined;
  return {
    f,
    signature: { ...signature, scratchBytes, split: { extent: k.n, align: NR, work: sizeProduct([...k.batch, k.m, k.n, k.k]), unit: 'macs', ...(epilogue ? { epilogue } : {}) } },
  };
}

/** The parameters of the shared core, in order: what differs between the module's matmul kernels and calls. */
const CORE_PARAMS = ['aBase', 'bBase', 'cBase', 'M', 'N', 'K', 'aRowStride', 'aColStride', 'bRowStride', 'bColStride', 'colBegin', 'colEnd', 'scratch'] as const;

/**
 * The product of one batch point, C[:, colBegin:colEnd] = A·B, as a function of the operands' byte addresses,
 * sizes and byte strides, shared by every matmul kernel of a module with this blocking: it was the bulk of
 * each kernel's code (packing, macro- and microkernel), identical between kernels once its locals are
 * arguments, so a module holds it once (a fresh process generated and compiled it once per matmul before).
 */
function emitMatmulCore(blocking: MatmulBlocking, microTile: number): FunctionBuilder {
  const { MR, NR, KC, MC, NC } = blocking;
  const f = new FunctionBuilder(`matmul_core_${MR}x${NR}`, CORE_PARAMS.map(() => 'i32'), []);
  const [aBase, bBase, cBase, M, N, K, saRow, saCol, sbRow, sbCol, colBegin, colEnd, scratch] = f.params as Local<'i32'>[];
  const packedRows = Math.ceil(MC / MR) * MR, packedCols = Math.ceil(NC / NR) * NR;
  const I = () => f.local('i32');
  const packA = I(), packB = I(), tile = I(), outRow = I();
  f.get(scratch!).set(packA);
  f.get(scratch!).i32(4 * packedRows * KC).op('i32_add').set(packB);
  f.get(packB).i32(4 * KC * packedCols).op('i32_add').set(tile);
  f.get(N!).i32(4).op('i32_mul').set(outRow);

  // K == 0: the product is all zeros, and no k block below would write C.
  f.get(K!).op('i32_eqz').if(() => zeroFill(f, cBase!, M!, outRow, colBegin!, colEnd!));

  const jc = I(), nc = I(), pc = I(), kc = I(), ic = I(), mc = I(), first = I();
  // this call's share of the output columns (all of them unless threads split the call)
  f.forRange(jc, () => f.get(colBegin!), colEnd!, NC, () => {
    minInto(f, nc, () => f.i32(NC), () => f.get(colEnd!).get(jc).op('i32_sub'));
    f.forRange(pc, () => f.i32(0), K!, KC, () => {
      minInto(f, kc, () => f.i32(KC), () => f.get(K!).get(pc).op('i32_sub'));
      f.get(pc).op('i32_eqz').set(first);
      // pack B[pc:pc+kc, jc:jc+nc] into NR-wide panels
      packPanels(f, packB, nc, kc, NR, (p, j) => {
        f.get(bBase!).get(pc).get(p).op('i32_add').get(sbRow!).op('i32_mul', 'i32_add');
        f.get(jc).get(j).op('i32_add').get(sbCol!).op('i32_mul', 'i32_add');
      }, () => f.get(sbCol!).i32(4).op('i32_eq'), () => f.get(sbRow!).i32(4).op('i32_eq'));
      f.forRange(ic, () => f.i32(0), M!, MC, () => {
        minInto(f, mc, () => f.i32(MC), () => f.get(M!).get(ic).op('i32_sub'));
        packPanels(f, packA, mc, kc, MR, (p, i) => {
          f.get(aBase!).get(ic).get(i).op('i32_add').get(saRow!).op('i32_mul', 'i32_add');
          f.get(pc).get(p).op('i32_add').get(saCol!).op('i32_mul', 'i32_add');
        }, () => f.get(saRow!).i32(4).op('i32_eq'), () => f.get(saCol!).i32(4).op('i32_eq'));
        emitMacroKernel(f, blocking, microTile, { packA, packB, tile, kc, mc, nc, first, outRow, cBase: cBase!, ic, jc });
      });
    });
  });
  return f;
}

/** dst = min(a, b) on i32. */
function minInto(f: FunctionBuilder, dst: Local<'i32'>, a: () => void, b: () => void): void {
  a(); b(); a(); b();
  f.op('i32_lt_s', 'select').set(dst);
}

function zeroFill(
  f: FunctionBuilder, cBase: Local<'i32'>, M: Local<'i32'>, rowBytes: Local<'i32'>, colBegin: Local<'i32'>, colEnd: Local<'i32'>,
): void {
  const i = f.local('i32'), j = f.local('i32');
  f.forRange(i, () => f.i32(0), M, 1, () => {
    f.forRange(j, () => f.get(colBegin), colEnd, 1, () => {
      f.get(cBase).get(i).get(rowBytes).op('i32_mul', 'i32_add').get(j).i32(4).op('i32_mul', 'i32_add').f32(0).mem('f32_store');
    });
  });
}

interface MacroArgs {
  packA: Local<'i32'>; packB: Local<'i32'>; tile: Local<'i32'>; kc: Local<'i32'>; mc: Local<'i32'>; nc: Local<'i32'>;
  first: Local<'i32'>; outRow: Local<'i32'>; cBase: Local<'i32'>; ic: Local<'i32'>; jc: Local<'i32'>;
}

function emitMacroKernel(f: FunctionBuilder, blocking: MatmulBlocking, microTile: number, a: MacroArgs): void {
  const { MR, NR } = blocking;
  const jr = f.local('i32'), ir = f.local('i32'), aPanel = f.local('i32'), bPanel = f.local('i32'), cPtr = f.local('i32');
  f.forRange(jr, () => f.i32(0), a.nc, NR, () => {
    f.forRange(ir, () => f.i32(0), a.mc, MR, () => {
      // micro-panel offsets in the packed blocks: panel index * kc * width * 4 bytes
      f.get(ir).get(a.kc).op('i32_mul').i32(4).op('i32_mul').set(aPanel);
      f.get(jr).get(a.kc).op('i32_mul').i32(4).op('i32_mul').set(bPanel);
      // C tile address: cBase + (ic + ir) * rowBytes + (jc + jr) * 4
      f.get(a.cBase).get(a.ic).get(ir).op('i32_add').get(a.outRow).op('i32_mul', 'i32_add');
      f.get(a.jc).get(jr).op('i32_add').i32(4).op('i32_mul', 'i32_add').set(cPtr);
      const panels = () => f.get(a.packA).get(aPanel).get(a.packB).get(bPanel).get(a.kc);
      f.get(ir).i32(MR).op('i32_add').get(a.mc).op('i32_le_s');
      f.get(jr).i32(NR).op('i32_add').get(a.nc).op('i32_le_s').op('i32_and');
      f.if(
        // a whole tile: straight into C, accumulating after the first k block
        () => { panels(); f.get(cPtr).get(a.outRow).get(a.first).op('i32_eqz').call(microTile); },
        // an edge tile: into the scratch tile, then its valid part into C
        () => {
          panels();
          f.get(a.tile).i32(4 * NR).i32(0).call(microTile);
          edgeCopy(f, blocking, a, ir, jr, cPtr);
        },
      );
    });
  });
}

/** The microkernel's parameters, in order. */
const TILE_PARAMS = ['packA', 'aPanel', 'packB', 'bPanel', 'kc', 'cPtr', 'rowBytes', 'accumulate'] as const;

/**
 * The microkernel, a function of its own: the MR×NR tile at `cPtr` (rows `rowBytes` apart) = (or +=, if
 * `accumulate`) the product of the A micro-panel at packA + aPanel and the B micro-panel at packB + bPanel
 * over kc steps. Its k loop is each step NR/4 loads of B, MR load-and-splats of A and MR*NR/4 multiply-adds
 * on MR*NR/4 accumulators. Inlined into the macrokernel's loops, the outer loops' values competed with it
 * for registers: V8 reloaded the step counter and the splats' address bases from the stack in the loop.
 * The panel addresses are sums computed here, not parameters used as they come: V8 then knows they are
 * zero-extended and indexes memory with them directly, where a parameter cost a move per load base and step
 * (1 matmul 256 ≈ 3 % less CPU than the inlined kernel, AMD EPYC).
 */
function emitMicroTile(blocking: MatmulBlocking): FunctionBuilder {
  const { MR, NR } = blocking;
  const VN = NR / 4;
  const f = new FunctionBuilder(`matmul_tile_${MR}x${NR}`, TILE_PARAMS.map(() => 'i32'), []);
  const [packA, aPanel, packB, bPanel, p, cPtr, rowBytes, accumulate] = f.params as Local<'i32'>[];
  const pa = f.local('i32'), pb = f.local('i32'), row = f.local('i32');
  const c: Local<'v128'>[] = Array.from({ length: MR * VN }, () => f.local('v128'));
  const bv: Local<'v128'>[] = Array.from({ length: VN }, () => f.local('v128'));
  const av = f.local('v128');
  f.get(packA!).get(aPanel!).op('i32_add').set(pa);
  f.get(packB!).get(bPanel!).op('i32_add').set(pb);
  for (const l of c) f.f32x4(0).set(l);
  // kc ≥ 1: a k block is never empty
  f.loop(() => {
    bv.forEach((b, v) => f.get(pb).simdMem('v128_load', 16 * v).set(b));
    for (let r = 0; r < MR; r++) {
      f.get(pa).simdMem('v128_load32_splat', 4 * r).set(av);
      for (let v = 0; v < VN; v++) {
        const l = c[r * VN + v]!;
        f.get(l).get(av).get(bv[v]!).simd('f32x4_mul', 'f32x4_add').set(l);
      }
    }
    f.get(pa).i32(4 * MR).op('i32_add').set(pa);
    f.get(pb).i32(4 * NR).op('i32_add').set(pb);
    f.get(p!).i32(1).op('i32_sub').tee(p!).brIf(0);
  });
  const store = (add: boolean) => {
    f.get(cPtr!).set(row);
    for (let r = 0; r < MR; r++) {
      if (r) f.get(row).get(rowBytes!).op('i32_add').set(row);
      for (let v = 0; v < VN; v++) {
        f.get(row);
        if (add) f.get(row).simdMem('v128_load', 16 * v).get(c[r * VN + v]!).simd('f32x4_add');
        else f.get(c[r * VN + v]!);
        f.simdMem('v128_store', 16 * v);
      }
    }
  };
  f.get(accumulate!).if(() => store(true), () => store(false));
  return f;
}

/** Copies the valid part of an edge tile from the scratch tile into C. */
function edgeCopy(f: FunctionBuilder, blocking: MatmulBlocking, a: MacroArgs, ir: Local<'i32'>, jr: Local<'i32'>, cPtr: Local<'i32'>): void {
  const { MR, NR } = blocking;
  const rows = f.local('i32'), cols = f.local('i32'), r = f.local('i32'), cc = f.local('i32'), dst = f.local('i32');
  minInto(f, rows, () => f.i32(MR), () => f.get(a.mc).get(ir).op('i32_sub'));
  minInto(f, cols, () => f.i32(NR), () => f.get(a.nc).get(jr).op('i32_sub'));
  f.forRange(r, () => f.i32(0), rows, 1, () => {
    f.forRange(cc, () => f.i32(0), cols, 1, () => {
      f.get(cPtr).get(r).get(a.outRow).op('i32_mul', 'i32_add').get(cc).i32(4).op('i32_mul', 'i32_add').tee(dst);
      f.get(a.tile).get(r).i32(NR * 4).op('i32_mul', 'i32_add').get(cc).i32(4).op('i32_mul', 'i32_add').mem('f32_load');
      f.get(a.first).if(() => f.f32(0), () => f.get(dst).mem('f32_load'), 'f32');
      f.op('f32_add').mem('f32_store');
    });
  });
}

/**
 * The epilogue is a pointwise function over the finished product, in place, exported on its own: it must
 * run once after every column range of the product is done (threads split the product, not the epilogue).
 */
function exportEpilogue(
  k: MatmulKernel, exportName: string, math: MathLibrary, module: ModuleBuilder,
): { exportName: string; buffers: string[] } {
  const sizes: SizeExpr[] = [...k.batch, k.m, k.n];
  const ACC = 'kiln_matmul_acc';
  const value = mapValue(k.epilogue!, (n) => (n.kind === 'acc' ? load(ACC, contiguous(sizes)) : undefined));
  const inputs = k.inputs.filter((b) => b.name !== k.out);
  const epi: PointwiseKernel = {
    kind: 'pointwise', name: exportName, params: k.params,
    inputs: [...inputs, { name: ACC, dtype: 'float32' }], outputs: k.outputs, sizes,
    stores: [{ buffer: k.out, access: contiguous(sizes), value }],
  };
  const { f, signature } = emitPointwise(epi, exportName, math, { splittable: false });
  module.addFunction(f, true);
  return { exportName, buffers: signature.buffers.map((b) => (b === ACC ? k.out : b)) };
}

/** `out[b, i, j] = epilogue(Σ_k a[b, i, k] * b[b, k, j])` as a reduction kernel over (batch…, m, n) × (k). */
function matvecAsReduction(k: MatmulKernel): ReductionKernel {
  const sizes: SizeExpr[] = [...k.batch, k.m, k.n];
  const a = load(k.a.buffer, { offset: k.a.offset, strides: [...k.a.batchStrides, k.a.rowStride, 0, k.a.colStride] });
  const b = load(k.b.buffer, { offset: k.b.offset, strides: [...k.b.batchStrides, 0, k.b.colStride, k.b.rowStride] });
  return {
    kind: 'reduction', name: k.name, params: k.params, inputs: k.inputs, outputs: k.outputs,
    outer: sizes, reduce: [k.k], stages: [{ type: 'sum', prologue: mul(a, b) }],
    stores: [{ buffer: k.out, scope: 'outer', access: contiguous(sizes), value: k.epilogue ?? acc(0) }],
  };
}

// The CPU runtime of AOT modules: one wasm arena, the module's kernels instantiated on it, weights copied
// in once, and a call that checks its arguments, binds the size parameters, copies inputs in, runs the
// kernels and checks of the plan in order (allocating and freeing by the plan made at compile time), and
// copies the outputs out into fresh typed arrays. The arena, the kernel calls and the size checks are
// backend-cpu's own runtime code; nothing here traces, lowers or generates code.
import { Arena, MEMORY_IMPORT, checkKernelSizes, makeCall } from '@kiln/backend-cpu';
import { BYTES_PER_ELEMENT, checkIndexRange, evalSize, printSize } from '@kiln/lower';
import { withUserFrame } from '@kiln/graph';
import type { CpuPlan } from './plan.js';
import { AotInputError, AotRuntimeError } from './errors.js';
import type { AotArgument } from './inputs.js';
import { bufferWeights, prepareCall } from './call.js';
import type { BlobTensor } from './weights.js';
import { assembleOutputs, type OutputLeaf } from './outputs.js';
import { runAssert } from './asserts.js';
import { applyMutations } from './mutations.js';

/** The async half of the WebAssembly JS API (the workspace's libs do not declare the global). */
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, Record<string, unknown>>): Promise<{ exports: Record<string, unknown> }>;
};

type Call = (pointers: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>) => void;

export interface CpuProgram {
  run(args: readonly unknown[]): unknown;
  readonly arena: Arena;
}

/** Instantiates the plan's kernels (asynchronously: browsers refuse synchronous compiles past 4 KB) and copies the weights in. */
export async function instantiateCpuProgram(plan: CpuPlan, wasm: Uint8Array, weights: ReadonlyMap<string, BlobTensor>): Promise<CpuProgram> {
  const arena = new Arena();
  const module = await WebAssembly.compile(wasm);
  const instance = await WebAssembly.instantiate(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: arena.memory } });
  const exports = { fn: (name: string) => instance.exports[name] as (...args: number[]) => void, index: () => -1, moduleId: undefined };
  const calls = new Map<string, Call>();
  for (const step of plan.steps) {
    if (step.kind === 'kernel') calls.set(step.name, makeCall(step.macs, step.signature, step.exportName, exports, arena));
  }
  const resident = new Map<string, number>(); // buffer → pointer of its weight, copied in once
  const copyIn = (bytes: Uint8Array): number => {
    const ptr = arena.alloc(Math.max(bytes.byteLength, 1));
    new Uint8Array(arena.memory.buffer, ptr, bytes.byteLength).set(bytes);
    return ptr;
  };
  for (const [name, t] of bufferWeights(plan, weights)) resident.set(name, copyIn(t.bytes));
  return { arena, run: (args) => runCall(plan, arena, calls, resident, args) };
}

function runCall(plan: CpuPlan, arena: Arena, calls: ReadonlyMap<string, Call>, resident: ReadonlyMap<string, number>, args: readonly unknown[]): unknown {
  const { leaves, read, inputs, params } = prepareCall(plan, args);
  const pointers: Record<string, number> = Object.fromEntries(resident);
  const owned: number[] = [];
  const alloc = (name: string, bytes: number) => {
    const ptr = arena.alloc(Math.max(bytes, 1));
    owned.push(ptr);
    return (pointers[name] = ptr);
  };
  try {
    for (const b of plan.buffers) {
      if (b.input === undefined || pointers[b.name] !== undefined) continue;
      const arg = inputs[b.input] as AotArgument;
      b.shape?.forEach((dim, d) => {
        if (evalSize(dim, params) !== arg.shape[d]) throw new AotInputError(`${plan.name}: input dim ${d} of program input ${b.input} is ${arg.shape[d]}, expected ${printSize(dim)} = ${evalSize(dim, params)}`);
      });
      const ptr = alloc(b.name, arg.data.byteLength);
      new Uint8Array(arena.memory.buffer, ptr, arg.data.byteLength).set(new Uint8Array(arg.data.buffer, arg.data.byteOffset, arg.data.byteLength));
    }
    if (plan.setsImpreciseFlag) arena.flagWord()[0] = 0;
    plan.steps.forEach((step, i) => {
      for (const name of plan.allocBefore[i]!) {
        const b = plan.buffers.find((x) => x.name === name)!;
        alloc(name, evalSize(b.numel, params) * BYTES_PER_ELEMENT[b.dtype]);
      }
      if (step.kind === 'kernel') {
        checkKernelSizes(step.sizes, params);
        calls.get(step.name)!(pointers, params);
      } else if (step.kind === 'assert') runAssert(step, params);
      else {
        try {
          checkIndexRange(step, params, (name, n) => arena.view('int32', pointers[name]!, n));
        } catch (err) {
          throw withUserFrame(err, step.op, step.source);
        }
      }
      for (const name of plan.freeAfter[i]!) {
        const ptr = pointers[name]!;
        owned.splice(owned.indexOf(ptr), 1);
        arena.release(ptr);
      }
    });
    if (plan.setsImpreciseFlag && arena.flagWord()[0] !== 0) {
      throw new AotRuntimeError(
        `${plan.name}: a kernel met an input its float32 code cannot compute as eager code does (sin/cos of |x| > 1e5, or a float32 sum or product that overflows)`,
        'compiled Kiln code recomputes such calls with the eager kernels, which a standalone module does not have: run this input through loadProgram() or compile()',
      );
    }
    const outputs: OutputLeaf[] = plan.outputs.map((o) => {
      if (o.kind === 'constant') return { value: o.value };
      if (o.kind === 'size') return { value: evalSize(o.value, params) };
      const shape = o.shape.map((s) => evalSize(s, params));
      const numel = shape.reduce((a, b) => a * b, 1);
      return { tensor: { data: arena.view(o.dtype, pointers[o.buffer]!, numel).slice() as OutputLeafData, shape, dtype: o.dtype } };
    });
    applyMutations(plan, outputs, leaves, (buffer, value) => {
      const bytes = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
      new Uint8Array(arena.memory.buffer, resident.get(buffer)!, bytes.byteLength).set(bytes);
    });
    return assembleOutputs(plan.outputTree, outputs, leaves, read.find((a) => a.tensorClass)?.tensorClass);
  } finally {
    for (const ptr of owned) arena.release(ptr);
  }
}

type OutputLeafData = Float32Array | Int32Array | Uint8Array;

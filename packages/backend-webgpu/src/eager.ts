// Eager ops on webgpu tensors. Each op call is traced once on fake tensors with symbolic sizes, lowered
// and compiled like any graph: the eager path and compiled code share one code generator. Programs are
// cached per op, argument dtypes/ranks and non-tensor arguments; within a key, the trace's shape guards
// (produced by @kiln/shapes) pick the program, so one pipeline serves every size they admit. An op whose
// inputs are small and still on the host runs on the CPU's kernel instead (runtime/handoff.ts).
import type { DeviceImpl, OpDef, Tensor } from '@kiln/tensor';
import { KilnError, Tensor as TensorClass, currentDispatchMode, eagerMetaContext, runEager } from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { guardFunctionSource, produceGuards } from '@kiln/shapes';
import type { GpuContext } from './runtime/device.js';
import { downloadTensor, upload } from './runtime/device-tensor.js';
import { writeInto } from './runtime/strided.js';
import { compileGraphForWebGpu } from './backend.js';
import type { WebGpuProgram } from './runtime/program.js';
import { holdsFloat64, hostTwins, onWebGpu, withTwins } from './runtime/handoff.js';

interface Entry {
  /** Index of the first failing shape guard, -1 when the program applies (guards read `L.args[i].shape`). */
  readonly check: (L: { args: readonly unknown[] }) => number;
  readonly program: WebGpuProgram;
  /** The traced call's result (fake tensors): its structure says how the flat program outputs nest. */
  readonly result: unknown;
}

/** Programs kept per op key (different sizes the guards reject); beyond this the oldest is dropped. */
const ENTRIES_PER_KEY = 8;

export function webgpuDevice(gpu: GpuContext): DeviceImpl & { readonly programs: () => number } {
  const cache = new Map<string, Entry[]>();
  return {
    name: 'webgpu',
    upload: (t) => upload(gpu, t),
    download: (t) => downloadTensor(gpu, t),
    programs: () => [...cache.values()].reduce((n, list) => n + list.length, 0),
    adopt: (dst, src) => writeInto(gpu, dst, src),
    dispatch(op, args) {
      if (op.mutatesSelf) return inPlace(gpu, op, args);
      const view = viewOp(op, args);
      if (view !== undefined) return view;
      if (op.dataDependent) {
        throw new KilnError(`${op.name}: its result's size or value depends on the data, which is on webgpu`, `read the tensor first (await t.cpu()), or call it inside compile(), which reads back where needed`);
      }
      const tensors: Tensor[] = [];
      const key = `${op.name}(${args.map((a) => argKey(a, tensors)).join(',')})`;
      const twins = hostTwins(tensors);
      if (twins) {
        const result = runEager(op, withTwins(args, twins));
        if (!holdsFloat64(result)) {
          gpu.stats.cpuCalls++;
          return onWebGpu(gpu, result, tensors, twins);
        }
      }
      const L = { args: tensors };
      const list = cache.get(key) ?? [];
      let entry = list.find((e) => e.check(L) === -1);
      if (!entry) {
        entry = build(gpu, op, args, tensors);
        list.push(entry);
        if (list.length > ENTRIES_PER_KEY) list.shift();
        cache.set(key, list);
      }
      const results = entry.program.launch(tensors);
      let slot = 0;
      return rebuild(entry.result, () => results[slot++]);
    },
  };
}

/**
 * A view op whose result aliases its input (transpose, narrow, split, a reshape of contiguous data,
 * contiguous() of contiguous data): the eager kernel, which only makes tensors over the same storage, so
 * a write through the view is seen by its base as in eager. Undefined for the rest (they copy on the GPU).
 */
function viewOp(op: OpDef, args: unknown[]): unknown {
  if (op.category !== 'view' || !op.kernel || !op.meta) return undefined;
  const out = op.meta(args, eagerMetaContext) as { aliases?: boolean; same?: boolean } | { aliases?: boolean }[];
  const aliases = Array.isArray(out) ? out.length > 0 && out.every((m) => m.aliases) : out.aliases || out.same;
  return aliases ? runEager(op, args) : undefined;
}

/**
 * An in-place op on a webgpu tensor: checked as eager checks it, then `copy_` computes src cast and
 * broadcast to self (src may be on the CPU: it is uploaded) and writes it into self's storage
 * (runtime/strided.ts); every other in-place op runs its decomposition (`add_` is `copy_(self, add(self, y))`).
 */
function inPlace(gpu: GpuContext, op: OpDef, args: unknown[]): unknown {
  op.meta?.(args, eagerMetaContext);
  if (op.name !== 'copy_') {
    if (!op.decompose) throw new KilnError(`${op.name}: this in-place op has no form that runs on webgpu tensors`, 'move the tensor to the CPU first (await t.cpu())');
    return op.decompose(args);
  }
  const [self, src] = args as [Tensor, Tensor];
  const onDevice = src.device === 'webgpu' ? src : upload(gpu, src);
  const value = onDevice.to(self.dtype).expand([...self.shape]).contiguous();
  writeInto(gpu, self, value);
  return self;
}

/** A placeholder `T<dtype><rank>` for a tensor (collected into `tensors`), JSON for everything else. */
function argKey(a: unknown, tensors: Tensor[]): string {
  if (a instanceof TensorClass) {
    tensors.push(a);
    return `T${a.dtype}${a.ndim}`;
  }
  if (Array.isArray(a)) return `[${a.map((x) => argKey(x, tensors)).join(',')}]`;
  if (a === undefined) return 'u';
  if (typeof a === 'number' && !Number.isFinite(a)) return String(a);
  if (a !== null && typeof a === 'object' && Object.getPrototypeOf(a) !== Object.prototype) {
    throw new KilnError(`webgpu: an argument of type ${a.constructor?.name ?? 'object'} cannot be passed to an op on webgpu tensors`, 'move the tensors to the CPU first');
  }
  return JSON.stringify(a);
}

function build(gpu: GpuContext, op: OpDef, args: readonly unknown[], tensors: readonly Tensor[]): Entry {
  let next = 0;
  const substitute = (a: unknown, fakes: readonly unknown[]): unknown =>
    a instanceof TensorClass ? fakes[next++] : Array.isArray(a) ? a.map((x) => substitute(x, fakes)) : a;
  const { coreGraph, shapeEnv, outputs } = traceOps((...fakes: unknown[]) => {
    next = 0;
    // `args` are already normalized (keyword options in place): hand them to the recording mode as is.
    return currentDispatchMode()!.dispatch(op, args.map((a) => substitute(a, fakes)));
  }, tensors, { dynamic: true });
  const guards = guardFunctionSource(produceGuards(shapeEnv));
  // The guard text is generated from the trace's own sources (`L.args[0].shape[1]`), never from user data.
  const check = new Function(...guards.params, `return (${guards.source})(${guards.params.join(', ')});`) as Entry['check'];
  const program = compileGraphForWebGpu(coreGraph, gpu).program;
  if (!program.launchable) {
    throw new KilnError(`${op.name}: its output sizes depend on the data, which is on webgpu`, 'read the tensor first (await t.cpu())');
  }
  return { check, program, result: outputs.length === 1 ? outputs[0] : outputs };
}

/** The op's result structure with each leaf (in flattening order) replaced by the next program output. */
function rebuild(template: unknown, next: () => unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => rebuild(t, next));
  if (template !== null && typeof template === 'object' && Object.getPrototypeOf(template) === Object.prototype) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, rebuild(v, next)]));
  }
  return next();
}

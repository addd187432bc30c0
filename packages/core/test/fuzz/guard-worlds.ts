// Worlds for guards-fuzz.test.ts: a function that reads what compiled code relies on — a global, a closure
// variable, object fields (number, flag, string), a prototype method and an own method shadowing it, a list
// iterated for its length and values, the input's shape and dtype — and the mutations a program makes to
// those between calls. fast-check picks which reads a function makes (in which order) and the mutations.
import fc from 'fast-check';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';

/** Statements of the function body; each reads one kind of outside value. */
export const READS = {
  global: 'h = h.add(globalThis.__kilnGuardFuzz);',
  closure: 'h = h.mul(cv);',
  field: 'h = h.mul(cfg.scale);',
  flag: 'if (cfg.flag) h = h.neg(); else h = h.add(1);',
  mode: "if (cfg.mode === 'a') h = h.relu(); else if (cfg.mode === 'b') h = h.abs();",
  method: 'h = model.act(h);',
  list: 'for (const v of items) h = h.add(v);',
  listLength: 'h = h.mul(items.length);',
  shape: 'if (h.shape[0] > 3) h = h.sum(0, true);',
  dtype: "if (a.dtype === 'float64') h = h.mul(3);",
  nested: 'h = h.add(cfg.inner.k);',
} as const;
export type ReadKind = keyof typeof READS;

export type Mutation =
  | { kind: 'global' | 'closure' | 'field' | 'innerK'; value: number }
  | { kind: 'flag'; value: boolean }
  | { kind: 'mode'; value: 'a' | 'b' | 'c' }
  | { kind: 'protoMethod' | 'ownMethod'; variant: number }
  | { kind: 'deleteOwnMethod' }
  | { kind: 'push'; value: number }
  | { kind: 'pop' }
  | { kind: 'replaceInner' }
  | { kind: 'getter'; value: number }
  | { kind: 'dataAgain'; value: number }
  | { kind: 'setItem'; value: number }
  | { kind: 'swapProto' }
  | { kind: 'deleteGlobal' }
  | { kind: 'rows'; value: number }
  | { kind: 'dtype'; value: 'float32' | 'float64' };

const small = fc.integer({ min: -3, max: 3 });
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('global', 'closure', 'field', 'innerK'), value: small }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('flag'), value: fc.boolean() }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('mode'), value: fc.constantFrom('a', 'b', 'c') }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constantFrom('protoMethod', 'ownMethod'), variant: fc.integer({ min: 0, max: 2 }) }) as fc.Arbitrary<Mutation>,
  fc.constantFrom<Mutation>({ kind: 'deleteOwnMethod' }, { kind: 'pop' }, { kind: 'replaceInner' }, { kind: 'swapProto' }, { kind: 'deleteGlobal' }),
  fc.record({ kind: fc.constantFrom('push', 'getter', 'dataAgain', 'setItem'), value: small }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('rows'), value: fc.integer({ min: 1, max: 5 }) }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('dtype'), value: fc.constantFrom('float32', 'float64') }) as fc.Arbitrary<Mutation>,
);

export const readsArb: fc.Arbitrary<ReadKind[]> = fc.array(fc.constantFrom(...(Object.keys(READS) as ReadKind[])), { minLength: 1, maxLength: 7 });

const ACTS = [(t: Tensor) => t.mul(2), (t: Tensor) => t.neg(), (t: Tensor) => t.add(10)];

/** One world: the function, the state it reads, and how to apply a mutation (and how to show it). */
export function makeWorld(reads: readonly ReadKind[]) {
  class Model {
    act(t: Tensor): Tensor {
      return t.sub(1);
    }
  }
  class Other {
    act(t: Tensor): Tensor {
      return t.mul(-3);
    }
  }
  const model: Model & { act: Model['act'] } = new Model();
  const cfg: { scale: number; flag: boolean; mode: string; inner: { k: number } } = { scale: 2, flag: false, mode: 'a', inner: { k: 1 } };
  const items: number[] = [1, 2];
  let cv = 1;
  const input = { rows: 2, dtype: 'float32' as 'float32' | 'float64' };
  const body = ['let h = a.mul(1);', ...reads.map((r) => READS[r]), 'return h;'].join('\n  ');
  const fn = new Function('cfg', 'model', 'items', 'getCv', `return function f(a) {\n  let cv = getCv();\n  ${body}\n}`)(cfg, model, items, () => cv) as (a: Tensor) => Tensor;
  // The closure variable is read through a helper call (`getCv`) the tracer inlines; a direct captured `let`
  // is covered by `viaLet` below.
  const viaLet = new Function('cfg', 'model', 'items', `let cv = 1; return { set(v) { cv = v; }, f: function f(a) {\n  ${body}\n} };`)(cfg, model, items) as { set(v: number): void; f: (a: Tensor) => Tensor };
  const defineScale = (value: number) => Object.defineProperty(cfg, 'scale', { value, writable: true, configurable: true, enumerable: true });
  return {
    fns: [fn, viaLet.f],
    input: () => k.arange(0, input.rows * 3).reshape([input.rows, 3]).div(4).sub(0.5).to(input.dtype),
    apply(m: Mutation): void {
      switch (m.kind) {
        case 'global': (globalThis as Record<string, unknown>).__kilnGuardFuzz = m.value; break;
        case 'closure': cv = m.value; viaLet.set(m.value); break;
        case 'field': if (Object.getOwnPropertyDescriptor(cfg, 'scale')?.get) defineScale(m.value); else cfg.scale = m.value; break;
        case 'innerK': cfg.inner.k = m.value; break;
        case 'flag': cfg.flag = m.value; break;
        case 'mode': cfg.mode = m.value; break;
        case 'protoMethod': Model.prototype.act = ACTS[m.variant]!; break;
        case 'ownMethod': model.act = ACTS[m.variant]!; break;
        case 'deleteOwnMethod': delete (model as { act?: unknown }).act; break;
        case 'push': items.push(m.value); break;
        case 'pop': items.pop(); break;
        case 'replaceInner': cfg.inner = { k: cfg.inner.k + 1 }; break;
        case 'getter': { const v = m.value; Object.defineProperty(cfg, 'scale', { get: () => v, configurable: true, enumerable: true }); break; }
        case 'dataAgain': defineScale(m.value); break;
        case 'setItem': if (items.length > 0) items[0] = m.value; break;
        case 'swapProto': Object.setPrototypeOf(model, Object.getPrototypeOf(model) === Model.prototype ? Other.prototype : Model.prototype); break;
        case 'deleteGlobal': delete (globalThis as Record<string, unknown>).__kilnGuardFuzz; break;
        case 'rows': input.rows = m.value; break;
        case 'dtype': input.dtype = m.value; break;
      }
    },
  };
}

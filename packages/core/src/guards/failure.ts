// A recompile reason with the values that failed it, as PT2 prints them:
// `L['x'].shape[0] == 4: expected 4, got 8`. Only reads what the guard itself reads (sizes and numbers
// proven safe to read by the guards before it), never user getters.
import { Tensor } from '@kiln/tensor';
import type { GuardEntry } from './builder.js';
import { describeConstant } from './builder.js';
import { GUARD_HELPERS } from './reflect.js';

type Roots = readonly [L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[], K: readonly unknown[]];

const NO_VALUE = Symbol('no value');

function read(code: string, roots: Roots): unknown {
  try {
    const names = ['L', 'T', 'C', 'M', 'K', 'Tensor', ...Object.keys(GUARD_HELPERS)];
    return (new Function(...names, `return ${code};`) as (...a: unknown[]) => unknown)(...roots, Tensor, ...Object.values(GUARD_HELPERS));
  } catch {
    return NO_VALUE;
  }
}

const SIZE = /[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\['[\w$.-]*'\]|\["[\w$.-]*"\])*\.shape\[\d+\]/g;

/** The sizes a symbolic guard's code reads (`L[0].shape[0]`), each once. */
export const sizeReads = (code: string): string[] => [...new Set(code.match(SIZE) ?? [])];

/**
 * The source a value or identity guard compares with its constant (`Object.is(L[0].flag, K[3])`,
 * `C[1] === K[2]`): the guards before it passed, so reading it runs no getter.
 */
const comparedSource = (g: GuardEntry): string | undefined =>
  g.kind === 'constant' ? /^Object\.is\((.+), K\[\d+\]\)$/.exec(g.code)?.[1] : g.kind === 'identity' ? /^([\w$.[\]"]+) === K\[\d+\]$/.exec(g.code)?.[1] : undefined;

/** `guard text: expected …, got …` for the first failing guard `g` on these inputs. */
export function describeFailedGuard(g: GuardEntry, roots: Roots): string {
  // An identity guard's text ends in the value's printed form (`model is <Block>`); others in a comparison.
  const expected = g.kind === 'identity' ? / is (<[^>]*>)$/.exec(g.text)?.[1] : /(?:===?|>=|<=|!==?)\s*(.+)$/.exec(g.text)?.[1];
  let actualCode: string | undefined;
  if (g.staticDim) actualCode = `${g.staticDim.source}.shape[${g.staticDim.dim}]`;
  else actualCode = g.valueSource ?? comparedSource(g);
  if (actualCode !== undefined && expected !== undefined) {
    const actual = read(actualCode, roots);
    if (actual !== NO_VALUE) return `${g.text}: expected ${expected}, got ${describeConstant(actual)}`;
  }
  if (g.kind === 'shape') {
    // A symbolic guard (`s0 >= 2`, `L['x'].shape[0] == L['y'].shape[0]`): the sizes it compares.
    const named = new Map(g.sizeNames ?? []);
    const sizes = sizeReads(g.code).map((code) => [named.get(code) ?? code, read(code, roots)] as const).filter(([, v]) => v !== NO_VALUE);
    if (sizes.length) return `${g.text}: got ${sizes.map(([text, v]) => `${text} = ${describeConstant(v)}`).join(', ')}`;
  }
  return g.text;
}

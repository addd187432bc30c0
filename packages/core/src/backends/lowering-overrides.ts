// Which ops plugins lower themselves, per backend: the audit lists a plugin's lowering (the per-op lowerOp
// hook) like a built-in table entry. The hook is asked about one call node at a time, so each registry op is
// put to every tap of a backend's hook as a bare call node (no arguments, no meta) and the answers recorded.
import { Node } from '@kiln/graph';
import type { OpLowering } from '@kiln/lower';
import { allOps } from '@kiln/tensor';
import type { CompilerHooks } from '../hooks.js';

export interface LoweringOverride {
  readonly op: string;
  /** The tap's name (the plugin's). */
  readonly plugin: string;
  readonly lowering: 'rule' | 'eager';
}

type Tap = { readonly name: string; readonly fn: (node: Node) => OpLowering | 'eager' | undefined };

/**
 * The ops each tap of `hooks.lowerOp.for(backend)` answers for, first answer per op (as lowering takes it).
 * A tap that throws on the bare probe node (it reads arguments it expects) is passed over for that op: only
 * the op's real nodes can say, and lowering asks them.
 */
export function loweringOverrides(hooks: CompilerHooks, backend: string): LoweringOverride[] {
  const taps = ((hooks.lowerOp.get(backend) as { taps?: readonly Tap[] } | undefined)?.taps ?? []).filter((t) => typeof t.fn === 'function');
  if (taps.length === 0) return [];
  const found: LoweringOverride[] = [];
  for (const op of allOps()) {
    const probe = new Node(-1, 'probe', 'call', op.name, [], {});
    for (const tap of taps) {
      let answer: OpLowering | 'eager' | undefined;
      try {
        answer = tap.fn(probe);
      } catch {
        continue;
      }
      if (answer === undefined) continue;
      found.push({ op: op.name, plugin: tap.name, lowering: answer === 'eager' ? 'eager' : 'rule' });
      break;
    }
  }
  return found;
}

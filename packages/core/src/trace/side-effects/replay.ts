// Replaying recorded side effects after the graph ran: each effect's target is read from its source at that
// moment (so an earlier effect that replaced `obj.inner` is seen), its value is rebuilt from the graph
// outputs, and effects apply in program order, exactly once per call.
import { noGrad, writeBack } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileGatherer } from '../../guards/codegen.js';
import type { InputGatherer } from '../../guards/codegen.js';
import { fillTemplate } from '../output-template.js';
import type { OutputTemplate } from '../output-template.js';
import type { Effect, RecordedEffects } from './record.js';

export interface EffectReplay {
  readonly count: number;
  /** @param views the call's view memo (fillTemplate), shared with the return value's template */
  apply(outputs: readonly unknown[], sources: readonly unknown[], L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[], views?: Map<OutputTemplate, Tensor>): void;
}

interface Step {
  readonly effect: Effect;
  readonly target: InputGatherer;
  readonly value: OutputTemplate;
}

/** @param templates one per effect, from the same output list as the graph's other outputs */
export function buildReplay(recorded: RecordedEffects, templates: readonly OutputTemplate[], constants: readonly unknown[]): EffectReplay {
  const steps: Step[] = recorded.effects.map((effect, i) => ({
    effect,
    target: compileGatherer([effect.target.source], constants),
    value: templates[i]!,
  }));
  return {
    count: steps.length,
    apply(outputs, sources, L, T, C, M, views = new Map()) {
      for (const { effect, target, value } of steps) {
        const obj = target(L, T, C, M)[0] as Record<string | number, unknown>;
        const v = fillTemplate(value, outputs, sources, views);
        switch (effect.kind) {
          case 'set':
            obj[effect.key] = v;
            break;
          case 'delete':
            delete obj[effect.key];
            break;
          case 'call':
            effect.fn.apply(obj, v as unknown[]);
            break;
          case 'copy':
            // copy_, or (a host argument given a device result) the argument's storage moves to that device
            if (effect.noGrad) noGrad(() => writeBack(obj as unknown as Tensor, v as Tensor));
            else writeBack(obj as unknown as Tensor, v as Tensor);
            break;
          default:
            effect satisfies never;
        }
      }
    },
  };
}

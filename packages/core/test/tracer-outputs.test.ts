import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { registerDataclass, GLOBAL_NAMESPACE } from '@kiln/pytree';
import { check } from './support/tracer.js';

class Pair {
  constructor(
    readonly first: Tensor,
    readonly second: Tensor,
    readonly label: string,
  ) {}
}
registerDataclass(Pair, { dataFields: ['first', 'second'], metaFields: ['label'], namespace: GLOBAL_NAMESPACE });
class Unregistered {
  constructor(readonly t: Tensor) {}
}

const Outputs = suite('tracer: outputs rebuilt through @kiln/pytree');

Outputs('a Map built in the frame is returned from one graph', () => {
  const rec = check((x: Tensor) => new Map<string, unknown>([['double', x.mul(2)], ['rows', x.shape[0]], ['nested', [x.add(1)]]]), [[k.ones([2, 3])], [k.ones([2, 3]).mul(3)]], { graphs: 1, fallbacks: 0 });
  assert.is(rec.graphCount, 1);
});

Outputs('a registered dataclass is rebuilt with its metadata; an unregistered class falls back to eager', () => {
  check((x: Tensor) => new Pair(x.exp(), x.neg(), 'p'), [[k.ones([4])], [k.zeros([4])]], { graphs: 1, fallbacks: 0 });
  check((x: Tensor) => new Unregistered(x.exp()), [[k.ones([4])]], { graphs: 0, fallbacks: 1 });
});

Outputs.run();

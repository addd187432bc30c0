import { allOps } from './registry/registry.js';
import { Tensor } from './tensor.js';
import './ops/index.js';

/**
 * Installs every op marked `method` on Tensor.prototype: `a.add(b)` calls `add(a, b)`. Done once, after all
 * ops are defined, so methods and functions can never disagree.
 */
for (const op of allOps()) {
  if (!op.method) continue;
  const fn = op.fn;
  Object.defineProperty(Tensor.prototype, op.name, {
    value: function (this: Tensor, ...args: unknown[]) {
      return fn(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}

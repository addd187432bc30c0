import { allOps } from './registry/registry.js';
import { Tensor } from './tensor.js';
import { isDeviceName } from './device.js';
import './ops/index.js';

/**
 * Installs every op marked `method` on Tensor.prototype: `a.add(b)` calls `add(a, b)`. Done once, after all
 * ops are defined, so methods and functions can never disagree.
 */
for (const op of allOps()) {
  if (!op.method) continue;
  const fn = op.fn;
  if (op.name === 'to') {
    // `t.to('webgpu')` / `t.to('cpu')` move between devices; a dtype goes to the op.
    Object.defineProperty(Tensor.prototype, 'to', {
      value: function (this: Tensor, ...args: unknown[]) {
        return isDeviceName(args[0]) && args.length === 1 ? this.toDevice(args[0]) : fn(this, ...args);
      },
      writable: true,
      configurable: true,
    });
    continue;
  }
  Object.defineProperty(Tensor.prototype, op.name, {
    value: function (this: Tensor, ...args: unknown[]) {
      return fn(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}

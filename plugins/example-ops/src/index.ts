// @kiln/plugin-example-ops: a third-party plugin that uses only Kiln's public contract — a custom op (schema,
// meta, eager kernel), allowed into the graphs of the compiler that loads the plugin, a rewrite pass tapped
// between CSE and DCE, and the op's lowering for the CPU backend. Load it from a config file:
//   // kiln.config.mjs
//   export default { plugins: ['@kiln/plugin-example-ops'] };
import { PASS_STAGES } from '@kiln/core';
import type { Compiler, KilnPlugin } from '@kiln/core';
import { fuseSwish } from './fuse-swish.js';
import { swishLowering } from './lower-swish.js';
import { SWISH_OP, swish } from './swish.js';

export { swish, SWISH_OP } from './swish.js';
export { fuseSwish } from './fuse-swish.js';
export { swishLowering } from './lower-swish.js';

export const PLUGIN_NAME = 'example-ops';

/** The plugin factory (the config calls it with no options). */
export default function exampleOpsPlugin(): KilnPlugin {
  return {
    name: PLUGIN_NAME,
    apply(compiler: Compiler) {
      // Only this compiler puts the op in its graphs: a compiler without the plugin breaks the graph at it,
      // with a hint to allow it.
      compiler.policy.overrides.allowInGraph(swish, { origin: `plugin ${PLUGIN_NAME}` });
      // After CSE (one node per repeated sigmoid), before DCE (which removes what the rewrite leaves dead).
      compiler.hooks.graphPasses.tap({ name: `${PLUGIN_NAME}:fuse-swish`, stage: PASS_STAGES.cse + 1 }, (graph) => (fuseSwish(graph), graph));
      // The CPU backend lowers the op as one fused expression; other backends run it on its eager kernel.
      compiler.hooks.lowerOp.for('cpu').tap(PLUGIN_NAME, (node) => (node.target === SWISH_OP ? swishLowering : undefined));
    },
  };
}

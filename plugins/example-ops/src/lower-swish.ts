// The op's lowering, for backends that lower through @kiln/lower's loop IR (the CPU backend): one pointwise
// formula, x · sigmoid(beta · x), which lowering fuses with its neighbours into the same kernel. Same order
// of operations as the eager kernel, so compiled and eager agree to the last bits sigmoid allows.
import { loop } from '@kiln/lower';
import type { OpLowering } from '@kiln/lower';

export const swishLowering: OpLowering = {
  pointwise: ({ x, args, dtype, scalar }) => loop.mul(x[0]!, loop.unary('sigmoid', loop.mul(x[0]!, scalar(args[0], dtype)))),
};

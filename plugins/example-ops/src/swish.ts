// The custom op: swish(x, beta) = x · sigmoid(beta · x) (SiLU when beta = 1), defined once with what every
// layer needs — schema, meta function (shapes and dtypes on fake tensors), eager kernel (the reference every
// compiled path is checked against).
import { KilnTypeError, defineOp, isFloating } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';

/** The registry name: graphs print it (`%2: f32[4] = exampleSwish(%1, 1.5)`) and lowering rules are keyed by it. */
export const SWISH_OP = 'exampleSwish';

export const swish = defineOp({
  name: SWISH_OP,
  category: 'pointwise',
  method: false,
  positional: [
    { name: 'self', type: 'Tensor', hasDefault: false },
    { name: 'beta', type: 'float', hasDefault: true, default: 1 },
  ] as const,
  meta: ([x]) => {
    if (!isFloating(x.dtype)) {
      throw new KilnTypeError(`${SWISH_OP}: argument 'self' must be a floating-point tensor, got ${x.dtype}`, "convert it first: x.to('float32')");
    }
    return { shape: [...x.shape], dtype: x.dtype };
  },
  kernel: ([x, beta]) => (x as Tensor).mul((x as Tensor).mul(beta as number).sigmoid()),
});

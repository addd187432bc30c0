// The training example from the README, runnable: `node examples/train-example.mjs` after `pnpm build`.
// Trains the demo MLP to tell which of 4 features is the largest, eagerly and with the whole step compiled.
import * as k from 'kiln';
import { MLP } from './models.mjs';

const g = new k.Generator(1);
const x = k.randn([256, 4], { generator: g });
const y = k.oneHot(x.argmax(1), 4).to('float32'); // one-hot labels

function train(compiled) {
  const model = new MLP([4, 32, 4]); // Linear → GELU → Linear → softmax
  const params = model.layers.flatMap((l) => [l.weight.requiresGrad_(), l.bias.requiresGrad_()]);
  const opt = new k.optim.Adam(params, { lr: 0.02 });
  function step(x, y) {
    opt.zeroGrad();
    const loss = model.forward(x).log().mul(y).sum(-1).mean().neg(); // cross-entropy
    loss.backward();
    opt.step();
    return loss;
  }
  const run = compiled ? k.compile(step) : step; // compiled: forward, backward and the Adam update as compiled graphs
  let loss;
  for (let i = 0; i < 150; i++) loss = run(x, y).item();
  return loss;
}

console.log(JSON.stringify({ eager: train(false), compiled: train(true) }));

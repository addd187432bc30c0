// Kiln's main demo, eager for now: a two-layer MLP classifier's forward pass with @kiln/tensor.
// Plain JavaScript against the built package (`pnpm demo` builds first). Later issues compile the same code.
import { Generator, linear, listOps, randn, tensor, zeros } from '@kiln/tensor';

const generator = new Generator(0); // seeded: the demo prints the same numbers on every run
const batch = 4;
const [inFeatures, hidden, classes] = [8, 32, 3];

/** nn.Linear-style parameters: weight [out, in] scaled by 1/√in, bias zero. */
function linearParams(inputs, outputs) {
  return {
    weight: randn([outputs, inputs], { generator }).mul(1 / Math.sqrt(inputs)),
    bias: zeros([outputs]),
  };
}

const layer1 = linearParams(inFeatures, hidden);
const layer2 = linearParams(hidden, classes);

function mlp(x) {
  const h = linear(x, layer1.weight, layer1.bias).relu(); // x @ W1ᵀ + b1, then relu
  const logits = h.matmul(layer2.weight.transpose(0, 1)).add(layer2.bias); // the same, spelled with matmul
  return logits.softmax(-1);
}

const x = randn([batch, inFeatures], { generator });
const probs = mlp(x);

const fmt = (rows) => rows.map((row) => row.map((v) => v.toFixed(4)).join('  ')).join('\n  ');
console.log(`MLP ${inFeatures} → ${hidden} (relu) → ${classes} (softmax) on a batch of ${batch}`);
console.log(`probabilities, shape [${probs.shape}], dtype ${probs.dtype}:\n  ${fmt(probs.toArray())}`);
console.log(`rows sum to ${fmt([probs.sum(1).toArray()])}`);
console.log(`predicted classes: ${JSON.stringify(probs.argmax(1).toArray())}`);

// Views share storage; the registry lists every op with its schema.
const t = tensor([[1, 2, 3], [4, 5, 6]]);
console.log(`\n${t.transpose(0, 1)} shares storage with its source: ${t.transpose(0, 1).storage === t.storage}`);
const ops = listOps();
console.log(`${ops.length} ops in the registry, e.g. ${ops.find((op) => op.name === 'add').schema}`);

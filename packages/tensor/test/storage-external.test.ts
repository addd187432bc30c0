// Storages over external bytes (Storage.fromExternal): reads go through the owner's current view (re-made
// after a wasm memory grew), writes follow copy-on-write, and every op reads them like JS arrays.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Storage, Tensor, contiguousStridesOf, tensor, type ExternalBytes } from '@kiln/tensor';

interface Memory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => Memory } }).WebAssembly.Memory;

/** Float32 bytes at `ptr` in a wasm memory, with the view re-made when the memory grew (as the CPU backend does). */
class Block implements ExternalBytes {
  views = 0;
  private cached: Float32Array;
  constructor(readonly memory: Memory, readonly ptr: number, readonly numel: number) {
    this.cached = this.make();
  }
  private make() {
    this.views++;
    return new Float32Array(this.memory.buffer, this.ptr, this.numel);
  }
  view(): Float32Array {
    if (this.cached.buffer !== this.memory.buffer) this.cached = this.make();
    return this.cached;
  }
}

function external(values: number[], shape = [values.length]): { t: Tensor; block: Block; memory: Memory } {
  const memory = new WasmMemory({ initial: 1 });
  const block = new Block(memory, 64, values.length);
  block.view().set(values);
  const t = new Tensor(Storage.fromExternal(block, 'float32'), shape, contiguousStridesOf(shape), 0, 'float32');
  return { t, block, memory };
}
const values = (t: Tensor) => Array.from(t.toTypedArray());

const Ext = suite('storage: external bytes');

Ext('reads see the external bytes; toTypedArray copies into a JS array', () => {
  const { t, block } = external([1, 2, 3, 4], [2, 2]);
  assert.is(t.storage.external, block);
  assert.is(t.storage.size, 4);
  assert.equal(t.toArray(), [[1, 2], [3, 4]]);
  assert.equal(values(t.add(tensor([10, 20]))), [11, 22, 13, 24]);
  assert.equal(values(t.transpose(0, 1)), [1, 3, 2, 4]);
  assert.is(t.sum().item(), 10);
  assert.ok(t.toTypedArray().buffer !== block.view().buffer);
});

Ext('after the memory grows the view is re-made, never read detached', () => {
  const { t, block, memory } = external([1, 2, 3]);
  const stale = t.storage.data;
  memory.grow(1);
  assert.is(stale.length, 0, 'the old view is detached');
  assert.equal(values(t), [1, 2, 3]);
  assert.is(block.views, 2);
  t.storage.data;
  assert.is(block.views, 2, 'one re-made view per grow, not per read');
});

Ext('the only owner writes in place; a shared one copies into a JS array', () => {
  const { t, block } = external([1, 2, 3]);
  t.add_(1);
  assert.is(t.storage.external, block, 'sole owner: still external');
  assert.equal(Array.from(block.view()), [2, 3, 4]);
  const c = t.clone();
  assert.ok(c.storage.sharesBufferWith(t.storage));
  c.mul_(10);
  assert.is(c.storage.external, null, 'the writer copied to JS');
  assert.ok(c.storage.data instanceof Float32Array);
  assert.is(t.storage.external, block);
  assert.equal(values(t), [2, 3, 4]);
  assert.equal(values(c), [20, 30, 40]);
  const d = t.clone();
  t.zero_();
  assert.is(t.storage.external, null, 'the source wrote first: it leaves the block to the clone');
  assert.is(d.storage.external, block);
  assert.equal(values(d), [2, 3, 4]);
  assert.equal(Array.from(block.view()), [2, 3, 4]);
});

Ext('views alias the external storage, also through writes', () => {
  const { t, block } = external([1, 2, 3, 4, 5, 6], [2, 3]);
  const row = t.select(0, 1);
  row.fill_(0);
  assert.equal(values(t), [1, 2, 3, 0, 0, 0]);
  assert.is(t.storage.external, block);
  t.copy_(tensor([[7, 7, 7], [8, 8, 8]]));
  assert.equal(values(row), [8, 8, 8]);
});

Ext.run();

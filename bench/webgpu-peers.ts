// The WebGPU peers of bench/webgpu.bench.ts, each on its WebGPU backend, or the one-line reason it cannot
// run here. In Node every library looks for `navigator.gpu` (jax-js also reads `navigator.userAgent`):
// it is set here to one Dawn instance (the `webgpu` package), which Kiln's initWebGpu() then finds too, so
// all of them ask the same adapter. ONNX Runtime's WebGPU provider carries its own Dawn, built into the
// native addon, and opens the same Vulkan driver through it.

export interface Peers {
  jax?: typeof import('@jax-js/jax');
  tf?: typeof import('@tensorflow/tfjs');
  ort?: typeof import('onnxruntime-node');
  /** One line per peer that could not be set up, saying why. */
  unavailable: string[];
  /** The adapter's own words where Dawn gives more than the vendor/architecture/device Kiln prints. */
  adapterNote: string;
  release(): void;
}

const why = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

export async function gpuPeers(): Promise<Peers> {
  const peers: Peers = { unavailable: [], adapterNote: '', release: () => {} };
  const g = globalThis as { navigator?: { gpu?: GPU; userAgent?: string } };
  if (!g.navigator?.gpu) {
    try {
      const dawn = (await import('webgpu')) as { create(options: string[]): GPU; globals: object };
      for (const [key, value] of Object.entries(dawn.globals)) if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
      g.navigator = { gpu: dawn.create([]), userAgent: `Node.js/${process.version}` };
    } catch (err) {
      peers.unavailable.push(`no peer can run: the 'webgpu' package (Dawn) did not load — ${why(err)}`);
      return peers;
    }
  }
  const adapter = await g.navigator.gpu!.requestAdapter().catch(() => null);
  if (!adapter) return peers; // Kiln's initWebGpu() says why; the bench stops there
  if (adapter.info?.description) peers.adapterNote = ` (${adapter.info.description})`;

  try {
    const jax = await import('@jax-js/jax');
    if ((await jax.init('webgpu')).includes('webgpu')) {
      jax.defaultDevice('webgpu');
      peers.jax = jax;
    } else peers.unavailable.push('jax-js: init(\'webgpu\') found no WebGPU backend');
  } catch (err) {
    peers.unavailable.push(`jax-js: its WebGPU backend did not start — ${why(err)}`);
  }
  try {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend('webgpu')) {
      await tf.ready();
      peers.tf = tf;
    } else peers.unavailable.push('tfjs: setBackend(\'webgpu\') returned false');
  } catch (err) {
    peers.unavailable.push(`tfjs: its WebGPU backend did not start — ${why(err)}`);
  }
  try {
    const ort = (await import('onnxruntime-node')) as typeof import('onnxruntime-node');
    const backends = (ort as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [];
    if (backends.some((b) => b.name === 'webgpu' && b.bundled)) peers.ort = ort;
    else peers.unavailable.push(`onnxruntime-node: no bundled WebGPU provider in this build (has: ${backends.map((b) => b.name).join(', ')})`);
  } catch (err) {
    peers.unavailable.push(`onnxruntime-node: did not load — ${why(err)}`);
  }
  peers.release = () => peers.tf?.engine().backend.dispose?.();
  return peers;
}

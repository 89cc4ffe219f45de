// Probe (not shipped): can tfjs-backend-wasm run multi-threaded inside a worker_threads worker in
// Node? Starts a worker that asks for 2 threads, runs one conv, and reports the backend's own
// thread count and any error. Usage: node scripts/bench/threads-probe.mjs (times out after 60 s).
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ status: 'timeout after 60 s' }));
    void worker.terminate();
  }, 60_000);
  worker.on('message', (message) => console.log(JSON.stringify(message)));
  worker.on('error', (error) => console.log(JSON.stringify({ status: 'worker error', error: String(error), code: error.code })));
  worker.on('exit', () => clearTimeout(timer));
} else {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  try {
    const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    wasm.setWasmPaths(dir, false);
    wasm.setThreadsCount(2);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    const x = tf.randomNormal([1, 56, 56, 64]);
    const k = tf.randomNormal([3, 3, 64, 64]);
    const started = performance.now();
    for (let i = 0; i < 10; i++) tf.tidy(() => tf.conv2d(x, k, 1, 'same').dataSync());
    parentPort.postMessage({ status: ok ? 'backend up' : 'setBackend false', threads: wasm.getThreadsCount(), convMs: (performance.now() - started) / 10 });
  } catch (error) {
    parentPort.postMessage({ status: 'failed', error: String(error?.message ?? error), code: error?.code });
  }
}

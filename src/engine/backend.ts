// Picks the tfjs backend once per process: wasm (SIMD, XNNPACK) when it starts, else cpu with a note.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { nativeProductsNote } from './native/onnxruntime';

let ready: Promise<BackendInfo> | undefined;

export interface BackendInfo {
  name: string;
  /** Set when the preferred backend could not start. */
  note?: string;
}

/**
 * @param wasmDir folder holding tfjs-backend-wasm's .wasm files (with trailing slash), e.g. the
 * bundle's own dist folder; defaults to the package's dist folder next to node_modules.
 */
export function initBackend(wasmDir?: string, preferred: 'wasm' | 'cpu' = 'wasm'): Promise<BackendInfo> {
  ready ??= (async () => {
    if (preferred === 'wasm') {
      try {
        // Without platform fetch, the emscripten loader reads the files with fs in Node.
        setWasmPaths(wasmDir ?? defaultWasmDir(), false);
        if (await tf.setBackend('wasm')) {
          await tf.ready();
          return { name: 'wasm' };
        }
        throw new Error('tf.setBackend("wasm") returned false');
      } catch (error) {
        const note = `wasm backend unavailable (${error instanceof Error ? error.message : String(error)}); using the slower cpu backend`;
        await tf.setBackend('cpu');
        await tf.ready();
        return { name: 'cpu', note };
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return { name: 'cpu' };
  })();
  return ready;
}

function defaultWasmDir(): string {
  // Unbundled runs (tests, tsx): resolve the package's dist folder.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  // A computed name keeps bundlers from trying to resolve it: bundles pass their own wasmDir.
  const main = require.resolve(['@tensorflow', 'tfjs-backend-wasm'].join('/'));
  return path.join(path.dirname(main), path.sep);
}

/** The report's `backend`: tfjs's backend, and the native library when it runs the conv products. */
export function backendLabel(info: BackendInfo): string {
  const native = nativeProductsNote();
  return native ? `${info.name}; ${native}` : info.name;
}

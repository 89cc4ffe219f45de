// Starting tfjs in a Node thread (session, compute worker, bench): the wasm binaries sit next to
// the bundle in dist/, or come from the package when running unbundled (tests, tsx).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendInfo } from '../engine/backend';

/** Starts tfjs with the wasm files that sit next to the bundle (dist/), or the package's own when unbundled. */
export function startBackend(preferred: 'wasm' | 'cpu' = 'wasm'): Promise<BackendInfo> {
  const bundled = typeof __dirname === 'string' && existsSync(join(__dirname, 'tfjs-backend-wasm-simd.wasm'));
  return initBackend(bundled ? join(__dirname, '/') : undefined, preferred);
}

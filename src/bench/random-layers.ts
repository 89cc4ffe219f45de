// Seeded random weights and command-line flags shared by the benchmark entry and the bench scripts.

import { gaussianArray } from '../engine/solvers/random';
import type { LinearSpec } from '../model/ir';

/** Gaussian samples from a xorshift stream: the weights `npm run bench` writes for PyTorch too. */
export function seededNormal(seed: number): () => number {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A square-kernel conv with He-scaled Gaussian weights, symmetric padding, no groups. */
export function heConv(cin: number, cout: number, k: number, stride: number, pad: number, seed: number): LinearSpec {
  const data = gaussianArray(cout * cin * k * k, seed).map((v) => v * Math.sqrt(2 / (cin * k * k)));
  return { type: 'conv', channelsLast: false, weight: { dims: [cout, cin, k, k], data }, strides: [stride, stride], dilations: [1, 1], padsBegin: [pad, pad], padsEnd: [pad, pad], group: 1 };
}

/** The value after `--name` on the command line, or the fallback. */
export function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

// Per-step cost and convergence of the Lanczos solver on real layer operators: wall time, product
// pairs, Gram–Schmidt passes, time inside the products, for a few basis sizes. Not a test.
//   node --import tsx scripts/bench/solver-cost.ts [--basis 16,24,32,64] [--layer 64x56]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { buildOperator } from '../../src/engine/operators';
import { estimateSpectralNorm } from '../../src/engine/solvers';
import type { LinearOperator } from '../../src/engine/operator';
import type { LinearSpec } from '../../src/model/ir';
import { gaussianArray } from '../../src/engine/solvers/random';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

function conv(cin: number, cout: number, k: number, stride: number, pad: number, seed: number): LinearSpec {
  const data = gaussianArray(cout * cin * k * k, seed).map((v) => v * Math.sqrt(2 / (cin * k * k)));
  return { type: 'conv', channelsLast: false, weight: { dims: [cout, cin, k, k], data }, strides: [stride, stride], dilations: [1, 1], padsBegin: [pad, pad], padsEnd: [pad, pad], group: 1 };
}

const layers: Record<string, { spec: LinearSpec; inputShape: number[] }> = {
  '64x56': { spec: conv(64, 64, 3, 1, 1, 1), inputShape: [1, 64, 56, 56] },
  '256x14': { spec: conv(256, 256, 3, 1, 1, 2), inputShape: [1, 256, 14, 14] },
  '128s2x56': { spec: conv(128, 128, 3, 2, 1, 3), inputShape: [1, 128, 56, 56] },
  '3x224': { spec: conv(3, 64, 7, 2, 3, 4), inputShape: [1, 3, 224, 224] },
};

function timed(op: LinearOperator): { op: LinearOperator; ms: () => number } {
  let total = 0;
  const wrap = (f: (t: tf.Tensor) => tf.Tensor) => (t: tf.Tensor) => {
    const s = performance.now();
    const r = f(t);
    r.dataSync(); // force completion (wasm is synchronous anyway)
    total += performance.now() - s;
    return r;
  };
  return { op: { ...op, forward: wrap((x) => op.forward(x)), adjoint: wrap((y) => op.adjoint(y)), dispose: () => op.dispose() }, ms: () => total };
}

async function main() {
  await initBackend();
  const bases = argument('basis', '16,24,32,64').split(',').map(Number);
  const names = argument('layer', '64x56').split(',');
  const tol = Number(argument('tol', '1e-4'));
  for (const name of names) {
    const { spec, inputShape } = layers[name];
    const base = buildOperator(spec, inputShape);
    for (const maxBasis of bases) {
      const { op, ms } = timed(base);
      const started = performance.now();
      const result = estimateSpectralNorm(op, { method: 'lanczos', tol, maxIter: 2000, seed: 1, maxBasis });
      const total = performance.now() - started;
      console.log(`${name} basis ${maxBasis}: σ ${result.sigma.toFixed(7)} it ${result.iterations} conv ${result.converged} res ${result.residual.toExponential(1)} | ${total.toFixed(0)} ms total, ${(total / result.iterations).toFixed(1)} ms/pair, products ${(ms() / result.iterations).toFixed(1)} ms/pair`);
    }
    base.dispose();
  }
}
void main();

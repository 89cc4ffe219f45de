// Per-step cost and convergence of the Lanczos solver on real layer operators: wall time, product
// pairs, time inside the products, for a few caps on the kept Lanczos vectors. Not a test.
//   node --import tsx scripts/bench/solver-cost.ts [--basis default,16,32] [--layer bench7x7,bench64] [--tol 1e-4] [--seed 0]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { buildOperator } from '../../src/engine/operators';
import { estimateSpectralNorm } from '../../src/engine/solvers';
import type { LinearOperator } from '../../src/engine/operator';
import type { LinearSpec } from '../../src/model/ir';
import { argument, heConv, seededNormal } from '../../src/bench/random-layers';
import { openModel } from '../../src/formats';
import { nodeFileAccess } from '../../src/host/node-files';


// The `npm run bench` layers (same xorshift weights as src/bench/main.ts), with float64 ARPACK σ1
// from its reference run, so the true error can be printed.

function benchConv(index: number, cin: number, cout: number, k: number, stride: number, pad: number, groups = 1): LinearSpec {
  const dims = [cout, cin / groups, k, k];
  const count = dims.reduce((a, b) => a * b, 1);
  const normal = seededNormal(1000 + index);
  const scale = Math.sqrt(2 / ((cin / groups) * k * k));
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = normal() * scale;
  return { type: 'conv', channelsLast: false, weight: { dims, data }, strides: [stride, stride], dilations: [1, 1], padsBegin: [pad, pad], padsEnd: [pad, pad], group: groups };
}

const layers: Record<string, { spec: LinearSpec; inputShape: number[]; exact?: number }> = {
  'bench7x7': { spec: benchConv(0, 3, 64, 7, 2, 3), inputShape: [1, 3, 224, 224], exact: 4.861606112029792 },
  'bench64': { spec: benchConv(1, 64, 64, 3, 1, 1), inputShape: [1, 64, 56, 56], exact: 2.939874000092286 },
  'bench128s2': { spec: benchConv(2, 128, 128, 3, 2, 1), inputShape: [1, 128, 56, 56], exact: 2.2400617500971656 },
  'bench256': { spec: benchConv(3, 256, 256, 3, 1, 1), inputShape: [1, 256, 14, 14], exact: 2.8294977070971528 },
  'bench512': { spec: benchConv(4, 512, 512, 3, 1, 1), inputShape: [1, 512, 7, 7], exact: 2.7583633129958685 },
  'benchdw': { spec: benchConv(5, 144, 144, 3, 1, 1, 144), inputShape: [1, 144, 56, 56], exact: 4.744554612254129 },
  '64x56': { spec: heConv(64, 64, 3, 1, 1, 1), inputShape: [1, 64, 56, 56] },
  '256x14': { spec: heConv(256, 256, 3, 1, 1, 2), inputShape: [1, 256, 14, 14] },
  '128s2x56': { spec: heConv(128, 128, 3, 2, 1, 3), inputShape: [1, 128, 56, 56] },
  '3x224': { spec: heConv(3, 64, 7, 2, 3, 4), inputShape: [1, 3, 224, 224] },
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
  const bases = argument('basis', 'default').split(',').map((b) => (b === 'default' ? undefined : Number(b)));
  const names = argument('layer', '64x56').split(',');
  // ResNet-50 layers from `npm run bench -- --resnet50`'s export, exact σ1 from its reference run.
  const resnet: Record<string, number> = {
    '/conv1/Conv': 0.8870514610086255,
    '/layers/layers.0/conv2/Conv': 2.2382649016554157,
    '/layers/layers.3/conv2/Conv': 2.0661176876348875,
    '/layers/layers.9/conv2/Conv': 2.4559526481974596,
  };
  if (names.some((name) => name in resnet)) {
    const model = await openModel(nodeFileAccess('.bench/resnet50.onnx'));
    for (const node of model.nodes) {
      if (node.name in resnet) layers[node.name] = { spec: node.spec as LinearSpec, inputShape: node.inputShapes[0], exact: resnet[node.name] };
    }
  }
  const tol = Number(argument('tol', '1e-4'));
  for (const name of names) {
    const { spec, inputShape, exact } = layers[name];
    const base = buildOperator(spec, inputShape);
    for (const maxBasis of bases) {
      const { op, ms } = timed(base);
      const started = performance.now();
      const result = estimateSpectralNorm(op, { method: 'lanczos', tol, maxIter: Number(argument('maxIter', '500')), seed: Number(argument('seed', '0')), maxBasis });
      const total = performance.now() - started;
      const error = exact ? ` true error ${(Math.abs(result.sigma - exact) / exact).toExponential(1)}` : '';
      console.log(`${name} basis ${maxBasis ?? 'default'}: σ ${result.sigma.toFixed(7)}${error} it ${result.iterations} conv ${result.converged} res ${result.residual.toExponential(1)} | ${total.toFixed(0)} ms total, ${(total / result.iterations).toFixed(1)} ms/pair, products ${(ms() / result.iterations).toFixed(1)} ms/pair`);
    }
    base.dispose();
  }
}
void main();

// A report as the worker would send it, for the pure-module tests.
import type { Report } from '../../../src/protocol/report';

export function sampleReport(): Report {
  return {
    model: { path: '/models/mnist/model.json', format: 'tfjs-layers', inputShape: [1, 28, 28, 1] },
    layers: [
      { name: 'conv2d', op: 'Conv2D', kind: 'linear', weightShape: [3, 3, 1, 8], inputShape: [1, 28, 28, 1], outputShape: [1, 28, 28, 8], sigma: 3.2145678, upperBound: 3.5, iterations: 14, converged: true, seconds: 0.12, residual: 1e-7, method: 'lanczos', runningBound: 3.2145678, sourceIndex: 1 },
      { name: 'conv2d/relu', op: 'Relu', kind: 'activation', weightShape: null, inputShape: [1, 28, 28, 8], outputShape: [1, 28, 28, 8], sigma: 1, upperBound: 1, iterations: 0, converged: true, seconds: 0, method: 'closed-form', runningBound: 3.2145678, sourceIndex: 1 },
      { name: 'max_pooling2d', op: 'MaxPooling2D', kind: 'pool', weightShape: null, inputShape: [1, 28, 28, 8], outputShape: [1, 14, 14, 8], sigma: 1, upperBound: 1, iterations: 0, converged: true, seconds: 0, runningBound: 3.2145678, sourceIndex: 2 },
      { name: 'flatten', op: 'Flatten', kind: 'structural', weightShape: null, inputShape: [1, 14, 14, 8], outputShape: [1, 1568], sigma: 1, upperBound: 1, iterations: 0, converged: true, seconds: 0, runningBound: 3.2145678, sourceIndex: 3 },
      { name: 'dense', op: 'Dense', kind: 'linear', weightShape: [1568, 10], inputShape: [1, 1568], outputShape: [1, 10], sigma: 14.06, upperBound: null, iterations: 300, converged: false, seconds: 0.5, residual: 0.02, method: 'lanczos', runningBound: 45.2, sourceIndex: 4, note: 'stopped at the iteration cap, "large" gap' },
    ],
    bounds: { product: 45.2, certified: null, unsupported: [] },
    seconds: 0.7,
    settings: { tol: 1e-4, maxIter: 300, seed: 0, method: 'lanczos' },
    backend: 'wasm',
    warnings: [],
  };
}

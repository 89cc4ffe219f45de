// Sample panel states and results shared by the webview's unit and browser tests.

import type { PanelState, PlannedLayer } from '../../../src/protocol/messages';
import type { LayerResult, ModelInfo, NetworkBounds } from '../../../src/protocol/report';

export const MODEL: ModelInfo = {
  path: '/models/small-cnn.onnx',
  format: 'onnx',
  inputShape: [1, 3, 8, 8],
  producer: 'pytorch',
  producerVersion: '2.3.0',
  opset: 17,
  inputs: [{ name: 'input', shape: ['batch', 3, 8, 8] }],
  outputs: [{ name: 'logits', shape: ['batch', 10] }],
  nodeCount: 8,
  parameterCount: 1_234_567,
};

export const PLANNED: PlannedLayer[] = [
  { index: 0, name: 'conv1', op: 'Conv', kind: 'linear', weightShape: [8, 3, 3, 3], inputShape: [1, 3, 8, 8], outputShape: [1, 8, 8, 8] },
  { index: 1, name: 'relu1', op: 'Relu', kind: 'activation', weightShape: null, inputShape: [1, 8, 8, 8], outputShape: [1, 8, 8, 8] },
  { index: 2, name: 'pool1', op: 'MaxPool', kind: 'pool', weightShape: null, inputShape: [1, 8, 8, 8], outputShape: [1, 8, 4, 4] },
  { index: 3, name: 'conv2', op: 'Conv', kind: 'linear', weightShape: [16, 8, 3, 3], inputShape: [1, 8, 4, 4], outputShape: [1, 16, 4, 4] },
  { index: 4, name: 'sigmoid', op: 'Sigmoid', kind: 'activation', weightShape: null, inputShape: [1, 16, 4, 4], outputShape: [1, 16, 4, 4] },
  { index: 5, name: 'flatten', op: 'Flatten', kind: 'structural', weightShape: null, inputShape: [1, 16, 4, 4], outputShape: [1, 256] },
  { index: 6, name: 'fc', op: 'Gemm', kind: 'linear', weightShape: [10, 256], inputShape: [1, 256], outputShape: [1, 10] },
  { index: 7, name: 'softmax', op: 'Softmax', kind: 'activation', weightShape: null, inputShape: [1, 10], outputShape: [1, 10] },
];

function result(index: number, fields: Partial<LayerResult> & { sigma: number | null }): LayerResult {
  const { index: _index, ...plan } = PLANNED[index];
  return { ...plan, upperBound: null, iterations: 0, converged: true, seconds: 0.0004, method: 'closed-form', ...fields };
}

/** Results in network order, with the running bound each layer message carries. */
export const RESULTS: { layer: LayerResult; runningBound: number }[] = [
  { layer: result(0, { sigma: 3.2146, upperBound: 3.5, iterations: 14, seconds: 0.0123, method: 'lanczos', residual: 2e-9 }), runningBound: 3.2146 },
  { layer: result(1, { sigma: 1 }), runningBound: 3.2146 },
  { layer: result(2, { sigma: 1 }), runningBound: 3.2146 },
  { layer: result(3, { sigma: 45.678, upperBound: 51.2, iterations: 31, seconds: 1.532, method: 'lanczos', residual: 1e-8 }), runningBound: 146.84 },
  { layer: result(4, { sigma: 0.25 }), runningBound: 36.71 },
  { layer: result(5, { sigma: 1 }), runningBound: 36.71 },
  { layer: result(6, { sigma: 0.0123, upperBound: 0.013, iterations: 300, converged: false, seconds: 0.0021, method: 'lanczos' }), runningBound: 0.45153 },
  { layer: result(7, { sigma: 1 }), runningBound: 0.45153 },
];

export const BOUNDS: NetworkBounds = { product: 0.45153, certified: 0.6512, unsupported: [] };

export function plannedState(overrides: Partial<PanelState> = {}): PanelState {
  return {
    model: MODEL,
    layers: PLANNED.map((p) => ({ ...p })),
    bounds: null,
    status: 'running',
    done: 0,
    total: PLANNED.length,
    canReveal: false,
    ...overrides,
  };
}

export function doneState(overrides: Partial<PanelState> = {}): PanelState {
  return {
    model: MODEL,
    layers: RESULTS.map(({ layer, runningBound }) => ({ ...layer, runningBound })),
    bounds: BOUNDS,
    status: 'done',
    done: PLANNED.length,
    total: PLANNED.length,
    canReveal: false,
    seconds: 1.61,
    ...overrides,
  };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationSpec, GELU_CONSTANT, SILU_CONSTANT } from '../../../src/analysis/constants';

const constant = (name: string, params = {}) => {
  const spec = activationSpec(name, params);
  assert.ok(spec && spec.type === 'fixed', `${name} should have a fixed constant`);
  return spec.constant;
};

/** Largest slope of f on a fine grid, by finite differences: an independent check of each constant. */
function numericSlope(f: (x: number) => number): number {
  let best = 0;
  for (let x = -20; x <= 20; x += 1e-3) best = Math.max(best, Math.abs(f(x + 1e-6) - f(x - 1e-6)) / 2e-6);
  return best;
}

test('activation constants match docs/math.md', () => {
  for (const name of ['relu', 'relu6', 'clip', 'tanh', 'softsign', 'softmax']) assert.equal(constant(name), 1, name);
  assert.equal(constant('sigmoid'), 0.25);
  assert.equal(constant('leakyRelu', { alpha: 0.2 }), 1);
  assert.equal(constant('leakyRelu', { alpha: -3 }), 3);
  assert.equal(constant('elu', { alpha: 1.5 }), 1.5);
  assert.equal(constant('elu', { alpha: 0.5 }), 1);
  assert.ok(Math.abs(constant('selu') - 1.7581) < 1e-4);
  assert.ok(Math.abs(SILU_CONSTANT - 1.0998) < 1e-4);
  assert.ok(Math.abs(GELU_CONSTANT - 1.1289) < 1e-4);
  assert.equal(constant('hardSwish'), 1.5);
  assert.equal(constant('hardSigmoid', { alpha: 0.2 }), 0.2);
  assert.equal(constant('hardSigmoid', { alpha: 1 / 6 }), 1 / 6);
});

test('the smooth constants equal the largest slope found numerically', () => {
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  assert.ok(Math.abs(numericSlope((x) => x * sigmoid(x)) - SILU_CONSTANT) < 1e-5);
  assert.ok(Math.abs(numericSlope(sigmoid) - 0.25) < 1e-6);
  assert.ok(Math.abs(numericSlope((x) => x * Math.min(Math.max(x + 3, 0), 6) / 6) - 1.5) < 1e-3);
  const phi = (x: number) => {
    // Φ by numerical integration (Simpson) — independent of the module's erf.
    const n = 4000;
    const a = -12;
    const h = (x - a) / n;
    let sum = 0;
    for (let i = 0; i <= n; i++) {
      const t = a + i * h;
      const w = i === 0 || i === n ? 1 : i % 2 ? 4 : 2;
      sum += w * Math.exp(-t * t / 2);
    }
    return (sum * h) / 3 / Math.sqrt(2 * Math.PI);
  };
  let best = 0;
  for (let x = 0; x <= 4; x += 0.001) best = Math.max(best, phi(x) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI));
  assert.ok(Math.abs(best - GELU_CONSTANT) < 1e-5, `${best} vs ${GELU_CONSTANT}`);
});

test('log-softmax grows like √n and exp is unbounded; unknown names are not guessed', () => {
  assert.equal(constant('logSoftmax', { axisLength: 16 }), 4);
  assert.equal(activationSpec('exp')?.type, 'unbounded');
  assert.equal(activationSpec('doesNotExist'), undefined);
});

test("ONNX Gelu with approximate='tanh' takes the certified slope bound: above every sampled slope, within 2e-6 of them", () => {
  const c = Math.sqrt(2 / Math.PI);
  const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x)));
  const sampled = numericSlope(geluTanh);
  const bound = constant('geluTanh');
  assert.ok(bound >= sampled, `bound ${bound} below the sampled slope ${sampled}`);
  assert.ok(bound <= sampled * (1 + 2e-6), `bound ${bound} far above the sampled slope ${sampled}`);
});

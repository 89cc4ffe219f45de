// x·sigmoid(x) and x·hardsigmoid(x) exported as two nodes (PyTorch's SiLU, and hard-swish below
// opset 14) are activations of x with their own constants, checked here against sampled slopes;
// any other Mul of two data tensors stays unbounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compose } from '../../../../src/analysis/compose';
import { SILU_CONSTANT } from '../../../../src/analysis/constants';
import { attr, byName, node, open, type Attr } from '../../../helpers/onnx-builder';

const gatedModel = (gateOp: string, attrs: Attr[] = [], swap = false) =>
  open({
    inputs: [{ name: 'x', shape: [1, 8] }],
    outputs: ['y'],
    nodes: [node(gateOp, ['x'], ['g'], attrs, 'gate'), node('Mul', swap ? ['g', 'x'] : ['x', 'g'], ['y'], [], 'mul')],
  });

/** Largest |h(b) − h(a)| / (b − a) over a fine grid: the Lipschitz constant of a scalar h, from below. */
function sampledSlope(h: (x: number) => number): number {
  let largest = 0;
  for (let x = -20; x < 20; x += 1e-3) largest = Math.max(largest, Math.abs(h(x + 1e-3) - h(x)) / 1e-3);
  return largest;
}

test('x·sigmoid(x), either operand order, is SiLU on x: the gate is not a second data input', async () => {
  for (const swap of [false, true]) {
    const model = await gatedModel('Sigmoid', [], swap);
    const mul = byName(model, 'mul');
    assert.deepEqual(mul.spec, { type: 'fixed', kind: 'activation', constant: SILU_CONSTANT, detail: 'x·sigmoid(x) = SiLU/swish: max slope ≈ 1.0998' });
    assert.deepEqual(mul.inputs, ['x']);
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    assert.ok(Math.abs(sampledSlope((x) => x * sigmoid(x)) - SILU_CONSTANT) < 1e-4);
    // The network bound runs through the Mul only: 1.0998, not 0.25 · anything.
    const constants = model.nodes.map((n) => (n.spec.type === 'fixed' ? n.spec.constant : NaN));
    assert.ok(Math.abs((compose(model, constants).network ?? Number.NaN) - SILU_CONSTANT) < 1e-12);
  }
});

test('x·hardsigmoid(x): hard-swish (α = 1/6, β = 1/2) is 1.5, and the general max(|β|, |2 − β|, 1) matches sampled slopes', async () => {
  for (const [alpha, beta] of [[1 / 6, 0.5], [0.2, 0.5], [0.5, 0], [-0.3, 0.2], [1, 1.4]]) {
    const model = await gatedModel('HardSigmoid', [attr.float('alpha', alpha), attr.float('beta', beta)]);
    const mul = byName(model, 'mul');
    assert.equal(mul.spec.type, 'fixed');
    const constant = (mul.spec as { constant: number }).constant;
    const a = Math.fround(alpha);
    const b = Math.fround(beta);
    const sampled = sampledSlope((x) => x * Math.min(Math.max(a * x + b, 0), 1));
    assert.ok(constant >= sampled - 1e-6, `α=${alpha} β=${beta}: ${constant} below the sampled ${sampled}`);
    assert.ok(constant - sampled < 2e-3, `α=${alpha} β=${beta}: ${constant} is not tight (sampled ${sampled})`);
    if (alpha === 1 / 6) assert.ok(Math.abs(constant - 1.5) < 1e-6);
  }
});

test('a Mul of two different signal tensors stays unbounded, even with a gate on one of them; a gate on an input held fixed bounds it', async () => {
  const model = await open({
    inputs: [{ name: 'x', shape: [1, 8] }],
    outputs: ['y'],
    nodes: [node('Relu', ['x'], ['r'], [], 'relu'), node('Sigmoid', ['x'], ['g'], [], 'gate'), node('Mul', ['r', 'g'], ['y'], [], 'mul')],
  });
  assert.equal(byName(model, 'mul').spec.type, 'unbounded');
  const twoInputs = await open({
    inputs: [{ name: 'x', shape: [1, 8] }, { name: 'z', shape: [1, 8] }],
    outputs: ['y'],
    nodes: [node('Sigmoid', ['z'], ['g'], [], 'gate'), node('Mul', ['x', 'g'], ['y'], [], 'mul')],
  });
  // z is held fixed (x is the signal): sigmoid(z) does not move with x and lies in [0, 1], so x·g has L ≤ 1·L(x).
  const held = byName(twoInputs, 'mul');
  assert.ok(held.spec.type === 'add' && held.spec.weights?.join() === '1' && held.inputs.join() === 'x', JSON.stringify(held.spec));
});

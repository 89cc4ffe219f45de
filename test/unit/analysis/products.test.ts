// Products of two data tensors (analysis/products.ts): piecewise-linear gated products against
// sampled slopes, hard-swish as older exporters write it (real PyTorch exports and a TF.js graph),
// products of bounded factors checked against sampled Jacobian norms of the real network, and the
// squeeze-and-excitation product that honestly stays unbounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { affineOf, clipOf, IDENTITY, productSlope, type PiecewiseLinear } from '../../../src/analysis/products';
import { compose } from '../../../src/analysis/compose';
import { closedForm } from '../../../src/analysis/closed-form';
import { onnxFormat } from '../../../src/formats/onnx';
import { nodeFileAccess } from '../../../src/host/node-files';
import type { IrModel, IrNode } from '../../../src/model/ir';
import { openMemory, row } from '../formats/tfjs/helpers';
import { graphModel, placeholder } from '../formats/tfjs/graph-builder';

const OPS = join(__dirname, '..', '..', 'fixtures', 'onnx', 'ops');

function evaluate(f: PiecewiseLinear, x: number): number {
  let i = 0;
  while (i < f.breaks.length && f.breaks[i] < x) i++;
  return f.pieces[i].slope * x + f.pieces[i].intercept;
}

/** Largest |h(b) − h(a)| / (b − a) over a fine grid on [lo, hi]: the constant from below. */
function sampledSlope(h: (x: number) => number, lo = -30, hi = 30): number {
  let largest = 0;
  const step = (hi - lo) / 100000;
  for (let x = lo; x < hi; x += step) largest = Math.max(largest, Math.abs(h(x + step) - h(x)) / step);
  return largest;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('piecewise-linear gated products: the exact slope matches sampled slopes of random clip/affine compositions', () => {
  const random = lcg(3);
  let compared = 0;
  for (let trial = 0; trial < 200; trial++) {
    const build = () => {
      let f = IDENTITY;
      const steps = 1 + Math.floor(random() * 3);
      for (let k = 0; k < steps; k++) {
        f = affineOf(f, (random() - 0.5) * 4, (random() - 0.5) * 6);
        const lo = (random() - 0.7) * 5;
        if (random() < 0.8) f = clipOf(f, lo, lo + random() * 6);
      }
      return f;
    };
    const u = random() < 0.4 ? affineOf(IDENTITY, (random() - 0.5) * 3, 0) : build();
    const g = build();
    const exact = productSlope(u, g);
    // Sample past every break, where all the pieces are.
    const breaks = [...u.breaks, ...g.breaks];
    const sampled = sampledSlope((x) => evaluate(u, x) * evaluate(g, x), Math.min(-30, ...breaks) - 5, Math.max(30, ...breaks) + 5);
    if (!Number.isFinite(exact)) {
      // Quadratic on an unbounded piece: the slope grows without limit (seen as a large sampled slope at ±30).
      assert.ok(sampled > 1, `trial ${trial}: unbounded, yet sampled ${sampled}`);
      continue;
    }
    compared++;
    assert.ok(exact >= sampled - 1e-6, `trial ${trial}: ${exact} below sampled ${sampled}`);
    assert.ok(exact - sampled < 1e-2 * Math.max(1, exact), `trial ${trial}: ${exact} not tight (sampled ${sampled})`);
  }
  assert.ok(compared > 100, `only ${compared} finite cases`);
  // x·clip(x + 3, 0, 6): slope (2x + 3) up to 9 at x = 3; hard-swish is that over 6.
  assert.equal(productSlope(IDENTITY, clipOf(affineOf(IDENTITY, 1, 3), 0, 6)), 9);
  assert.equal(productSlope(IDENTITY, IDENTITY), Infinity);
});

async function openOps(name: string): Promise<{ model: IrModel; reference: { convs: { module: string; sigma: number }[]; sampledJacobianNorm: number } }> {
  const path = join(OPS, `${name}.onnx`);
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
  const reference = JSON.parse(readFileSync(join(OPS, `${name}.json`), 'utf8'));
  return { model, reference };
}

function byName(model: IrModel, name: string): IrNode {
  const found = model.nodes.find((n) => n.name === name);
  assert.ok(found, `no row ${name}: ${model.nodes.map((n) => n.name).join(', ')}`);
  return found;
}

/** The certified composition with each conv's exact σ (from the generator's float64 SVD) and the closed forms. */
function networkBound(model: IrModel, convs: { module: string; sigma: number }[]): number | undefined {
  const constants = model.nodes.map((node) => {
    if (node.spec.type === 'conv') {
      const conv = convs.find((c) => node.name === `/${c.module}/Conv`);
      assert.ok(conv, node.name);
      return conv.sigma;
    }
    return closedForm(node)?.compositionConstant;
  });
  return compose(model, constants).network;
}

test('hard-swish as PyTorch writes x·clip(x+3, 0, 6)/6 and clip(y+3, 0, 6)·(1/6)·y: activations with constant 1.5 (real export)', async () => {
  const { model, reference } = await openOps('old_hardswish');
  const first = byName(model, '/Mul');
  assert.ok(first.spec.type === 'fixed' && Math.abs(first.spec.constant - 1.5) < 1e-6, JSON.stringify(first.spec));
  assert.match(first.spec.detail ?? '', /^hard-swish x·clip\(x \+ 3, 0, 6\)\/6 as written \(Mul with Div "\/Div" after it\)/);
  assert.deepEqual(first.inputs, ['/conv1/Conv_output_0']);
  // The Div is counted in the Mul's row, so it is 1 here (its values still scale by 1/6).
  const div = byName(model, '/Div');
  assert.ok(div.spec.type === 'fixed' && div.spec.constant === 1, JSON.stringify(div.spec));
  // Second form: the 1/6 sits inside the gate, the Mul reads y and the scaled clip.
  const second = byName(model, '/Mul_2');
  assert.ok(second.spec.type === 'fixed' && Math.abs(second.spec.constant - 1.5) < 1e-6, JSON.stringify(second.spec));
  assert.match(second.spec.detail ?? '', /hard-swish/);
  assert.deepEqual(second.inputs, ['/conv2/Conv_output_0']);
  const bound = networkBound(model, reference.convs);
  const product = reference.convs[0].sigma * 1.5 * reference.convs[1].sigma * 1.5;
  assert.ok(bound !== undefined && Math.abs(bound - product) < 1e-6 * product, `${bound} vs ${product}`);
  assert.ok(bound >= reference.sampledJacobianNorm, `${bound} below the sampled ${reference.sampledJacobianNorm}`);
});

test('bounded factors: sigmoid·tanh, softmax·tanh and a broadcast difference compose by the product rule, above the sampled Jacobian norms (real export)', async () => {
  const { model, reference } = await openOps('bounded_gates');
  const gate = byName(model, '/Mul');
  assert.ok(gate.spec.type === 'add', JSON.stringify(gate.spec));
  // sup|sigmoid| = 1 weights tanh's bound, sup|tanh| = 1 weights sigmoid's.
  assert.deepEqual(gate.spec.weights, [1, 1]);
  const mixed = byName(model, '/Mul_1');
  assert.ok(mixed.spec.type === 'add', JSON.stringify(mixed.spec));
  // softmax ∈ [0, 1]; tanh of a value in [−1, 1] lies in [−tanh 1, tanh 1].
  assert.ok(Math.abs((mixed.spec.weights?.[0] ?? 0) - Math.tanh(1)) < 1e-12 && mixed.spec.weights?.[1] === 1, JSON.stringify(mixed.spec.weights));
  const sub = byName(model, '/Sub');
  assert.ok(sub.spec.type === 'add' && sub.spec.weights?.[1] === Math.sqrt(3), JSON.stringify(sub.spec));
  assert.deepEqual(sub.spec.signs, [1, -1]);
  const bound = networkBound(model, reference.convs);
  assert.ok(bound !== undefined && Number.isFinite(bound), String(bound));
  assert.ok(bound >= reference.sampledJacobianNorm, `${bound} below the sampled ${reference.sampledJacobianNorm}`);
});

test('squeeze-and-excitation x·hardsigmoid(fc(mean x)) stays unbounded, naming the factor without a range (real export)', async () => {
  const { model } = await openOps('squeeze_excite');
  const mul = byName(model, '/Mul');
  assert.ok(mul.spec.type === 'unbounded', JSON.stringify(mul.spec));
  assert.match(mul.spec.reason, /"\/conv\/Conv_output_0" has no bounded range/);
  assert.equal(compose(model, model.nodes.map((n) => (n.spec.type === 'conv' ? 1 : closedForm(n)?.compositionConstant))).network, Infinity);
});

test('TF.js: x·relu6(x + 3)/6 is hard-swish on x (1.5); the RealDiv after it counts 1', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 4, 4, 2]),
      { name: 'shifted', op: 'AddV2', input: ['x', 'three'] },
      { name: 'gate', op: 'Relu6', input: ['shifted'] },
      { name: 'product', op: 'Mul', input: ['x', 'gate'] },
      { name: 'hswish', op: 'RealDiv', input: ['product', 'six'] },
      { name: 'sig', op: 'Sigmoid', input: ['hswish'] },
      { name: 'th', op: 'Tanh', input: ['x'] },
      { name: 'bounded', op: 'Mul', input: ['sig', 'th'] },
    ],
    [{ name: 'three', shape: [], values: [3] }, { name: 'six', shape: [], values: [6] }],
  );
  const model = await openMemory(json, shards);
  const product = row(model, 'product');
  // 1.5 up to the float32 rounding of the stored 1/6.
  assert.ok(product.spec.type === 'fixed' && Math.abs(product.spec.constant - 1.5) < 1e-6, JSON.stringify(product.spec));
  assert.deepEqual(product.inputs, ['x']);
  const div = row(model, 'hswish');
  assert.ok(div.spec.type === 'fixed' && div.spec.constant === 1);
  const bounded = row(model, 'bounded');
  assert.ok(bounded.spec.type === 'add' && bounded.spec.weights?.join() === '1,1', JSON.stringify(bounded.spec));
  // x → hswish (1.5) → sigmoid (1/4); x → tanh (1): 1·(1.5/4) + 1·1.
  const constants = model.nodes.map((n) => closedForm(n)?.compositionConstant);
  assert.ok(Math.abs((compose(model, constants).network ?? NaN) - (1.5 / 4 + 1)) < 1e-6);
});

test('TF.js: hard-swish written with Maximum and Minimum (x·min(max(x + 3, 0), 6)·(1/6)) is 1.5; each clamp alone is 1', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 3, 3, 2]),
      { name: 'shifted', op: 'AddV2', input: ['x', 'three'] },
      { name: 'low', op: 'Maximum', input: ['shifted', 'zero'] },
      { name: 'gate', op: 'Minimum', input: ['low', 'six'] },
      { name: 'scaled', op: 'Mul', input: ['gate', 'sixth'] },
      { name: 'hswish', op: 'Mul', input: ['x', 'scaled'] },
    ],
    [{ name: 'three', shape: [], values: [3] }, { name: 'zero', shape: [], values: [0] }, { name: 'six', shape: [], values: [6] }, { name: 'sixth', shape: [], values: [1 / 6] }],
  );
  const model = await openMemory(json, shards);
  for (const name of ['low', 'gate']) {
    const clamp = row(model, name);
    assert.ok(clamp.spec.type === 'fixed' && clamp.spec.constant === 1 && clamp.spec.values?.kind === 'clip', JSON.stringify(clamp.spec));
  }
  const product = row(model, 'hswish');
  assert.ok(product.spec.type === 'fixed' && Math.abs(product.spec.constant - 1.5) < 1e-6 && /hard-swish/.test(product.spec.detail ?? ''), JSON.stringify(product.spec));
});

test('PaddleOCR classifier (real paddle2onnx export): all 18 hard-swishes are 1.5; only the 9 squeeze-excitation products stay unbounded', async () => {
  const path = join(__dirname, '..', '..', 'fixtures', 'onnx', 'paddle', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), { inputShape: [1, 3, 48, 192] });
  const hardSwish = model.nodes.filter((n) => n.spec.type === 'fixed' && /^hard-swish/.test(n.spec.detail ?? ''));
  assert.equal(hardSwish.length, 18);
  for (const n of hardSwish) assert.ok(n.spec.type === 'fixed' && Math.abs(n.spec.constant - 1.5) < 1e-6, n.name);
  const unbounded = model.nodes.filter((n) => n.spec.type === 'unbounded');
  assert.equal(unbounded.length, 9);
  for (const n of unbounded) {
    assert.equal(n.op, 'Mul');
    // The gate is HardSigmoid(conv(relu(conv(global average)))): bounded; the other factor is not.
    assert.ok(n.spec.type === 'unbounded' && /has no bounded range$/.test(n.spec.reason), n.spec.type === 'unbounded' ? n.spec.reason : '');
  }
  assert.equal(model.nodes.filter((n) => n.spec.type === 'unsupported').length, 0);
});

// Shape inference and specs per op, including the attribute-vs-input forms across opsets.

import { axisNorm, interpolationRows, TRANSFORMS, type CoordinateTransform } from '../../../../src/analysis/resize';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GELU_CONSTANT, SELU_ALPHA, SELU_LAMBDA, activationSpec } from '../../../../src/analysis/constants';
import { Matrix } from 'ml-matrix';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { cumSumSigma } from '../../../../src/formats/onnx/ops/cumsum';
import { closedForm } from '../../../../src/analysis/closed-form';
import { compose } from '../../../../src/analysis/compose';
import { T, attr, byName, floats, int64s, node, only, open, seeded, single, tensor, type Attr, type ModelSpec } from '../../../helpers/onnx-builder';

const fixed = (n: { spec: { type: string } }) => {
  assert.equal(n.spec.type, 'fixed');
  return n.spec as { type: 'fixed'; constant: number; kind: string; detail?: string };
};

test('Conv: pads, strides, dilations, groups, auto_pad and output shape', async () => {
  const w = floats('w', [6, 2, 3, 3], seeded(108));
  const n = await only(single('Conv', [1, 4, 11, 9], { inputs: ['w', 'b'], initializers: [w, floats('b', [6], seeded(6))], attrs: [attr.ints('pads', [1, 0, 2, 1]), attr.ints('strides', [2, 1]), attr.ints('dilations', [1, 2]), attr.int('group', 2)] }));
  assert.equal(n.spec.type, 'conv');
  if (n.spec.type !== 'conv') return;
  assert.deepEqual([n.spec.padsBegin, n.spec.padsEnd, n.spec.strides, n.spec.dilations, n.spec.group], [[1, 0], [2, 1], [2, 1], [1, 2], 2]);
  // H: (11+3−3)/2+1 = 6; W: (9+1−5)/1+1 = 6.
  assert.deepEqual(n.outputShapes, [[1, 6, 6, 6]]);
  assert.deepEqual(n.inputs, ['x'], 'the weight and bias are not data inputs');
  const same = await only(single('Conv', [1, 2, 7, 7], { inputs: ['w'], initializers: [floats('w', [3, 2, 4, 4], seeded(96))], attrs: [attr.string('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])] }));
  if (same.spec.type !== 'conv') assert.fail('conv expected');
  assert.deepEqual([same.spec.padsBegin, same.spec.padsEnd, same.outputShapes[0]], [[1, 1], [2, 2], [1, 3, 4, 4]]);
  // A weight that does not fit the input is reported on the row (unsupported, with the reason), never an abort.
  const misfit = await only(single('Conv', [1, 5, 8, 8], { inputs: ['w'], initializers: [w], attrs: [attr.int('group', 2)] }));
  assert.equal(misfit.spec.type, 'unsupported');
  assert.match(misfit.spec.type === 'unsupported' ? misfit.spec.detail ?? '' : '', /does not fit 5 input channels/);
  assert.deepEqual(misfit.outputShapes, [], 'its output shape is unknown');
  const conv1d = await only(single('Conv', [1, 2, 10], { inputs: ['w'], initializers: [floats('w', [3, 2, 3], seeded(18))] }));
  assert.deepEqual(conv1d.outputShapes, [[1, 3, 8]]);
});

test('Conv with a data-dependent weight is unbounded', async () => {
  const spec: ModelSpec = { inputs: [{ name: 'x', shape: [1, 2, 5, 5] }, { name: 'k', shape: [3, 2, 3, 3] }], outputs: ['y'], nodes: [node('Conv', ['x', 'k'], ['y'])] };
  assert.equal((await open(spec)).nodes[0].spec.type, 'unbounded');
});

test('ConvTranspose: output_padding, output_shape and groups', async () => {
  const w = floats('w', [4, 3, 3, 3], seeded(108));
  const n = await only(single('ConvTranspose', [1, 4, 5, 5], { inputs: ['w'], initializers: [w], attrs: [attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1]), attr.ints('output_padding', [1, 1])] }));
  assert.equal(n.spec.type, 'convTranspose');
  assert.deepEqual(n.outputShapes, [[1, 3, 10, 10]]);
  const shaped = await only(single('ConvTranspose', [1, 4, 5, 5], { inputs: ['w'], initializers: [w], attrs: [attr.ints('strides', [2, 2]), attr.ints('output_shape', [10, 10])] }));
  if (shaped.spec.type !== 'convTranspose') assert.fail();
  // total padding 2·4 + 3 − 10 = 1, NOTSET puts the odd pixel at the beginning.
  assert.deepEqual([shaped.spec.padsBegin, shaped.spec.padsEnd, shaped.outputShapes[0]], [[1, 1], [0, 0], [1, 3, 10, 10]]);
  const grouped = await only(single('ConvTranspose', [1, 4, 5, 5], { inputs: ['w'], initializers: [floats('w', [4, 1, 2, 2], seeded(16))], attrs: [attr.int('group', 2)] }));
  assert.deepEqual(grouped.outputShapes, [[1, 2, 6, 6]]);
});

test('Gemm: transB, alpha scale the canonical [in, out] weight; the stored shape is kept', async () => {
  const b = [1, 2, 3, 4, 5, 6];
  const t = await only(single('Gemm', [2, 3], { inputs: ['b'], initializers: [floats('b', [2, 3], b)], attrs: [attr.int('transB', 1), attr.float('alpha', 2)] }));
  if (t.spec.type !== 'dense') assert.fail();
  assert.deepEqual([t.spec.weight.dims, [...t.spec.weight.data], t.weightShape, t.outputShapes[0]], [[3, 2], [2, 8, 4, 10, 6, 12], [2, 3], [2, 2]]);
  const n = await only(single('Gemm', [2, 3], { inputs: ['b', 'c'], initializers: [floats('b', [3, 2], b), floats('c', [2], [1, 1])] }));
  if (n.spec.type !== 'dense') assert.fail();
  assert.deepEqual([n.spec.weight.dims, [...n.spec.weight.data]], [[3, 2], b]);
  const both: ModelSpec = { inputs: [{ name: 'x', shape: [2, 3] }, { name: 'z', shape: [3, 4] }], outputs: ['y'], nodes: [node('Gemm', ['x', 'z'], ['y'])] };
  assert.equal((await open(both)).nodes[0].spec.type, 'unbounded');
});

test('MatMul: constant weight is dense on the last axis; two data operands (attention) are bounded from their ranges, else unbounded', async () => {
  const d = await only(single('MatMul', [2, 5, 3], { inputs: ['w'], initializers: [floats('w', [3, 4], seeded(12))] }));
  assert.equal(d.spec.type, 'dense');
  assert.deepEqual(d.outputShapes, [[2, 5, 4]]);
  const attention: ModelSpec = {
    inputs: [{ name: 'q', shape: [1, 2, 5, 8] }, { name: 'k', shape: [1, 2, 8, 5] }],
    outputs: ['y'],
    nodes: [node('MatMul', ['q', 'k'], ['y'], [], 'scores')],
  };
  // k is an input held fixed (q is the signal): without its range the product is unbounded, naming it and the flag.
  const n = (await open(attention)).nodes[0];
  assert.deepEqual([n.spec.type, n.outputShapes[0], n.inputs], ['unbounded', [1, 2, 5, 5], ['q', 'k']]);
  assert.match((n.spec as { reason: string }).reason, /"k" comes from the input "k" held fixed.*--input-range k=LO,HI/);
  // With k ∈ [−0.5, 0.5]: L ≤ sup‖k‖₂·L_q with ‖k‖₂ ≤ 0.5·√(8·5) per batch (Frobenius), batches not broadcast.
  const held = (await open(attention, { inputRanges: { k: [-0.5, 0.5] } })).nodes[0];
  assert.ok(held.spec.type === 'add' && held.spec.weights?.length === 1 && Math.abs(held.spec.weights[0] - 0.5 * Math.sqrt(40)) < 1e-12, JSON.stringify(held.spec));
  assert.deepEqual(held.inputs, ['q']);
  // Two data factors from the signal: both need ranges; without them, unbounded naming both.
  const selfAttention: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 5, 8] }],
    outputs: ['y'],
    nodes: [node('Transpose', ['x'], ['xt'], [attr.ints('perm', [0, 2, 1])]), node('MatMul', ['x', 'xt'], ['y'], [], 'gram')],
  };
  const gram = (await open(selfAttention)).nodes[1];
  assert.ok(gram.spec.type === 'unbounded' && /"x" and "xt" have no bounded range/.test(gram.spec.reason), JSON.stringify(gram.spec));
  // On the box [−1, 1]: ‖X‖₂ ≤ √(5·8) for both, so L ≤ √40·L_x + √40·L_xt.
  const boxed = (await open(selfAttention, { inputRange: [-1, 1] })).nodes[1];
  assert.ok(boxed.spec.type === 'add' && boxed.spec.weights?.every((w) => Math.abs(w - Math.sqrt(40)) < 1e-12) && boxed.spec.domain, JSON.stringify(boxed.spec));
  // Einsum "bik,bjk->bij" (X·Xᵀ) is the same product: ‖X‖₂ ≤ √(3·4) on [−1, 1]ⁿ for each factor.
  const einsum = (equation: string): ModelSpec => ({
    inputs: [{ name: 'x', shape: [1, 3, 4] }],
    outputs: ['y'],
    nodes: [node('Einsum', ['x', 'x'], ['y'], [attr.string('equation', equation)], 'gram')],
  });
  const gramEinsum = (await open(einsum('bik,bjk->bij'), { inputRange: [-1, 1] })).nodes[0];
  assert.deepEqual(gramEinsum.outputShapes, [[1, 3, 3]]);
  assert.ok(gramEinsum.spec.type === 'add' && gramEinsum.spec.weights?.every((w) => Math.abs(w - Math.sqrt(12)) < 1e-12), JSON.stringify(gramEinsum.spec));
  assert.equal((await open(einsum('bik,bjk->bij'))).nodes[0].spec.type, 'unbounded');
  assert.equal((await open(einsum('bik,bjk->bji'))).nodes[0].spec.type, 'unsupported', 'not a batched product in this order');
});

test('BatchNormalization is diagonal γ/√(var+ε) on axis 1; LayerNormalization is max|γ|/√ε', async () => {
  const init = [floats('g', [3], [1, -2, 0.5]), floats('b', [3], [0, 0, 0]), floats('m', [3], [5, 5, 5]), floats('v', [3], [1, 3, 0.25])];
  const n = await only(single('BatchNormalization', [1, 3, 4, 4], { inputs: ['g', 'b', 'm', 'v'], initializers: init, attrs: [attr.float('epsilon', 0)] }));
  assert.deepEqual(n.spec, { type: 'diagonal', scale: Float32Array.from([1, -2 / Math.sqrt(3), 1]), axis: 1 });
  assert.deepEqual(n.weightShape, [3]);
  // LayerNormalization (ε = 1e-5 by default): max|γ|/√ε, its output within β ± √(n − 1)·|γ| (here β = 0).
  const gamma = seeded(8);
  const ln = await only(single('LayerNormalization', [1, 4, 8], { inputs: ['g'], initializers: [floats('g', [8], gamma)], opset: 17 }));
  const largest = Math.max(...Array.from(Float32Array.from(gamma), Math.abs));
  assert.ok(ln.spec.type === 'fixed' && Math.abs(ln.spec.constant - largest / Math.sqrt(Math.fround(1e-5))) < 1e-6 * ln.spec.constant, JSON.stringify(ln.spec));
  assert.ok(ln.spec.values?.kind === 'bounded' && Math.abs(ln.spec.values.max - Math.sqrt(7) * largest) < 1e-6);
  const noEpsilon = await only(single('LayerNormalization', [1, 4, 8], { inputs: ['g'], initializers: [floats('g', [8], gamma)], opset: 17, attrs: [attr.float('epsilon', 0)] }));
  assert.ok(noEpsilon.spec.type === 'unbounded' && /ε = 0/.test(noEpsilon.spec.reason));
});

test('Mul and Div by constants are diagonal; data·data and c/x are unbounded', async () => {
  const perChannel = await only(single('Mul', [1, 3, 2, 2], { inputs: ['c'], initializers: [floats('c', [3, 1, 1], [1, -4, 2])] }));
  assert.deepEqual(perChannel.spec, { type: 'diagonal', scale: Float32Array.from([1, -4, 2]), axis: 1 });
  const div = await only(single('Div', [1, 3], { inputs: ['c'], initializers: [floats('c', [], [4])] }));
  assert.deepEqual(div.spec, { type: 'diagonal', scale: Float32Array.of(0.25), axis: -1 });
  const general = await only(single('Mul', [1, 2, 2], { inputs: ['c'], initializers: [floats('c', [2, 2], [1, 3, -5, 2])] }));
  assert.equal(fixed(general).constant, 5);
  const broadcast = await only(single('Mul', [1, 2, 1], { inputs: ['c'], initializers: [floats('c', [1, 2, 2], [3, 4, 1, 0])] }));
  assert.deepEqual(broadcast.outputShapes, [[1, 2, 2]]);
  assert.equal(fixed(broadcast).constant, 5, 'entry 0 feeds outputs scaled by 3 and 4: √(9+16)');
  const recip: ModelSpec = { inputs: [{ name: 'x', shape: [1, 3] }], outputs: ['y'], initializers: [floats('c', [], [1])], nodes: [node('Div', ['c', 'x'], ['y'])] };
  assert.equal((await open(recip)).nodes[0].spec.type, 'unbounded');
  const square: ModelSpec = { inputs: [{ name: 'x', shape: [1, 3] }], outputs: ['y'], nodes: [node('Mul', ['x', 'x'], ['y'])] };
  assert.equal((await open(square)).nodes[0].spec.type, 'unbounded');
});

test('Add/Sub: data+data merges, data+constant is a shift, a broadcast copy costs √copies', async () => {
  const residual: ModelSpec = { inputs: [{ name: 'x', shape: [1, 4] }], outputs: ['y'], nodes: [node('Relu', ['x'], ['r']), node('Sub', ['r', 'x'], ['y'], [], 'sub')] };
  const sub = byName(await open(residual), 'sub');
  assert.deepEqual([sub.spec, sub.inputs, sub.inputShapes], [{ type: 'add', signs: [1, -1] }, ['r', 'x'], [[1, 4], [1, 4]]]);
  const shift = await only(single('Add', [1, 4], { inputs: ['c'], initializers: [floats('c', [4], [1, 2, 3, 4])] }));
  assert.equal(fixed(shift).constant, 1);
  assert.deepEqual(shift.inputs, ['x']);
  const copies = await only(single('Add', [1, 3, 1, 1], { inputs: ['c'], initializers: [floats('c', [1, 3, 2, 2], seeded(12))] }));
  assert.equal(fixed(copies).constant, 2);
});

test('variadic Sum and Mean: sums of data inputs (Mean weighted 1/k), a shift with constants, the identity alone; constants fold', async () => {
  const three = (op: string, b: number[]): ModelSpec => ({
    inputs: [{ name: 'a', shape: [1, 4] }, { name: 'b', shape: b }, { name: 'c', shape: [1, 4] }], outputs: ['y'],
    nodes: [node(op, ['a', 'b', 'c'], ['y'], [], 'v')],
  });
  const sum = byName(await open(three('Sum', [1, 4])), 'v');
  assert.deepEqual([sum.spec, sum.outputShapes, sum.inputs], [{ type: 'add' }, [[1, 4]], ['a', 'b', 'c']]);
  const mean = byName(await open(three('Mean', [1, 1])), 'v');
  if (mean.spec.type !== 'add') assert.fail('add expected');
  // b [1,1] is copied 4 times: √4/3; a and c: 1/3.
  assert.deepEqual(mean.spec.weights?.map((w) => Math.round(w * 1e12) / 1e12), [1 / 3, 2 / 3, 1 / 3].map((w) => Math.round(w * 1e12) / 1e12));
  const shifted = await only(single('Mean', [1, 4], { inputs: ['c', 'd'], initializers: [floats('c', [4], [1, 2, 3, 4]), floats('d', [1], [5])] }));
  assert.deepEqual([fixed(shifted).constant, shifted.inputs], [1 / 3, ['x']]);
  assert.equal(fixed(await only(single('Sum', [1, 4]))).constant, 1);
  const folded = await open({
    inputs: [{ name: 'x', shape: [1, 2] }], outputs: ['y'],
    initializers: [floats('p', [2], [1, 2]), floats('q', [2], [3, 6])],
    nodes: [node('Mean', ['p', 'q'], ['m']), node('Mul', ['x', 'm'], ['y'], [], 'scale')],
  });
  const scale = byName(folded, 'scale');
  assert.ok(scale.spec.type === 'diagonal' && [...scale.spec.scale].join() === '2,4', 'Mean of constants folds to (p + q)/2');
});

test('activations use the shared constants', async () => {
  const cases: [string, number, Attr[]?][] = [
    ['Relu', 1], ['Tanh', 1], ['Sigmoid', 0.25], ['Softsign', 1], ['Softplus', 1], ['HardSwish', 1.5],
    ['LeakyRelu', 3, [attr.float('alpha', 3)]], ['Elu', 2, [attr.float('alpha', 2)]], ['HardSigmoid', 0.5, [attr.float('alpha', 0.5)]],
    ['Selu', SELU_LAMBDA * SELU_ALPHA, [attr.float('alpha', SELU_ALPHA), attr.float('gamma', SELU_LAMBDA)]],
    ['Erf', 2 / Math.sqrt(Math.PI)], ['Mish', activationSpec('mish')?.type === 'fixed' ? (activationSpec('mish') as { constant: number }).constant : NaN],
    ['Clip', 1], ['Softmax', 1],
  ];
  for (const [op, constant, attrs] of cases) {
    const n = await only(single(op, [1, 6], { attrs, opset: op === 'HardSwish' || op === 'Mish' ? 18 : 13 }));
    assert.ok(Math.abs(fixed(n).constant - constant) < 1e-6, `${op}: ${fixed(n).constant} vs ${constant}`);
  }
  assert.ok(Math.abs(fixed(await only(single('Gelu', [1, 6], { opset: 20 }))).constant - GELU_CONSTANT) < 1e-12);
  assert.ok(Math.abs(fixed(await only(single('LogSoftmax', [2, 9]))).constant - 3) < 1e-12, 'log-softmax over 9 entries: √9');
  assert.ok(Math.abs(fixed(await only(single('LogSoftmax', [2, 3, 3], { opset: 11 }))).constant - 3) < 1e-12, 'opset < 13 normalises over the flattened axes after axis 1');
  const prelu = await only(single('PRelu', [1, 3, 2, 2], { inputs: ['a'], initializers: [floats('a', [3, 1, 1], [0.1, -2.5, 0.3])] }));
  assert.equal(fixed(prelu).constant, 2.5);
  assert.equal((await only(single('Exp', [1, 3]))).spec.type, 'unbounded');
  assert.equal((await only(single('Sqrt', [1, 3]))).spec.type, 'unbounded');
});

test('Sin, Cos, Atan, Asinh and softshrink have slopes of size at most 1 (reached at 0); hardshrink jumps', async () => {
  for (const op of ['Sin', 'Cos', 'Atan', 'Asinh']) assert.equal(fixed(await only(single(op, [1, 6]))).constant, 1, op);
  assert.equal(fixed(await only(single('Shrink', [1, 6], { attrs: [attr.float('lambd', 0.25), attr.float('bias', 0.25)] }))).constant, 1);
  assert.equal((await only(single('Shrink', [1, 6]))).spec.type, 'unbounded', 'default λ 0.5, bias 0: a jump of 0.5 at ±λ');
});

test('CumSum on the signal: σ in closed form, equal to the explicit matrix\'s σ1 for every attribute combination', async () => {
  const shape = [2, 5, 3];
  const n = shape[1];
  for (const exclusive of [0, 1]) for (const reverse of [0, 1]) {
    const row = await only(single('CumSum', shape, { inputs: ['axis'], initializers: [int64s('axis', [-2], [])], attrs: [attr.int('exclusive', exclusive), attr.int('reverse', reverse)] }));
    assert.deepEqual([row.outputShapes, row.inputs], [[shape], ['x']]);
    // The map on one line along the axis: y_i = Σ x_j over j ≤ i (j ≥ i reversed), strictly when exclusive.
    const line = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const before = reverse ? j > i : j < i;
      if (before || (!exclusive && i === j)) line.set(i, j, 1);
    }
    // Lines along the axis are disjoint: the whole map is a block-diagonal of copies of `line`.
    const full = new Matrix(2 * n * 3, 2 * n * 3);
    for (let o = 0; o < 2; o++) for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) full.set((o * n + i) * 3 + c, (o * n + j) * 3 + c, line.get(i, j));
    const exact = largestSingularValue(full);
    assert.ok(Math.abs(fixed(row).constant - exact) < 1e-12 * exact, `exclusive=${exclusive} reverse=${reverse}: ${fixed(row).constant} vs ${exact}`);
  }
  assert.ok(cumSumSigma(1) >= 1 && cumSumSigma(1) < 1 + 1e-14, 'one entry: the identity, rounded up');
  assert.ok(cumSumSigma(1000) >= 2 * 2001 / (2 * Math.PI), 'grows like 2n/π: (2n+1)/π ≤ 1/(2·sin(π/(2(2n+1))))');
  assert.equal(cumSumSigma(0), 0, 'exclusive over one entry gives zeros');
  const folded = await open({
    inputs: [{ name: 'x', shape: [1, 3] }], outputs: ['y'],
    initializers: [floats('c', [1, 3], [1, 2, 3]), int64s('axis', [1], [])],
    nodes: [node('CumSum', ['c', 'axis'], ['s'], [attr.int('exclusive', 1), attr.int('reverse', 1)]), node('Add', ['x', 's'], ['y'], [], 'shift')],
  });
  assert.equal(fixed(byName(folded, 'shift')).constant, 1, 'a CumSum of constants folds (the Add is a shift)');
});

test('Clip: min/max as attributes (opset 7) and as inputs (opset 11+)', async () => {
  const old = await only(single('Clip', [1, 3], { opset: 7, attrs: [attr.float('min', 0), attr.float('max', 6)] }));
  const current = await only(single('Clip', [1, 3], { opset: 13, inputs: ['lo', 'hi'], initializers: [floats('lo', [], [0]), floats('hi', [], [6])] }));
  assert.equal(fixed(old).constant, 1);
  assert.equal(fixed(current).constant, 1);
  assert.deepEqual(current.inputs, ['x']);
});

test('Clip with a min computed from the data (a spectrogram floor at max − 2): √n jointly, at least the slope one move of the max makes', async () => {
  // y_i = max(x_i, max(x) − 2) on 6 entries: where one entry is the max and the others sit below the
  // floor, moving the max by δ moves all 6 outputs by δ: ‖Δy‖/‖Δx‖ = √6. The row was 1 reading x alone.
  const n = 6;
  const model = await open({
    opset: 13,
    inputs: [{ name: 'x', shape: [1, n] }],
    outputs: ['y'],
    initializers: [floats('two', [], [2])],
    nodes: [node('ReduceMax', ['x'], ['m'], [attr.int('keepdims', 0)], 'max'), node('Sub', ['m', 'two'], ['floor'], [], 'floor'), node('Clip', ['x', 'floor'], ['y'], [], 'clip')],
  });
  const clip = byName(model, 'clip');
  assert.deepEqual(clip.inputs, ['x', 'floor']);
  assert.equal(fixed(clip).constant, Math.sqrt(n));
  assert.equal((clip.spec as { values?: unknown }).values, undefined, 'its output range is not a constant clip\'s');
  const bound = compose(model, model.nodes.map((nd) => closedForm(nd)?.compositionConstant)).network as number;
  assert.ok(Math.abs(bound - Math.sqrt(2 * n)) < 1e-12, `bound ${bound}: √n · √(1² + 1²)`);
  const f = (x: number[]) => x.map((v) => Math.max(v, Math.max(...x) - 2));
  const x = [5, 0, 0, 0, 0, 0];
  const delta = 1e-3;
  const [y, y2] = [f(x), f([5 + delta, ...x.slice(1)])];
  const quotient = Math.hypot(...y.map((v, i) => v - y2[i])) / delta;
  assert.ok(Math.abs(quotient - Math.sqrt(n)) < 1e-6 && quotient <= bound, `quotient ${quotient} against bound ${bound}`);
});

test('pools: MaxPool (overlap, ceil_mode), AveragePool (count_include_pad, ceil_mode), global pools', async () => {
  const max = await only(single('MaxPool', [1, 2, 7, 7], { attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.int('ceil_mode', 1)] }));
  assert.deepEqual([max.spec.type, max.outputShapes[0]], ['maxPool', [1, 2, 3, 3]]);
  const ceil = await only(single('AveragePool', [1, 2, 6, 6], { attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.int('ceil_mode', 1)] }));
  if (ceil.spec.type !== 'avgPool') assert.fail();
  assert.deepEqual([ceil.outputShapes[0], ceil.spec.padsEnd, ceil.spec.countIncludePad], [[1, 2, 3, 3], [1, 1], false]);
  const incl = await only(single('AveragePool', [1, 2, 6, 6], { attrs: [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1]), attr.int('count_include_pad', 1)] }));
  if (incl.spec.type !== 'avgPool') assert.fail();
  assert.deepEqual([incl.outputShapes[0], incl.spec.countIncludePad], [[1, 2, 4, 4], true]);
  const gap = await only(single('GlobalAveragePool', [1, 5, 3, 4]));
  assert.deepEqual([gap.spec.type, gap.outputShapes[0]], ['globalAvgPool', [1, 5, 1, 1]]);
  const gmp = await only(single('GlobalMaxPool', [1, 5, 3, 4]));
  assert.deepEqual([fixed(gmp).constant, gmp.outputShapes[0]], [1, [1, 5, 1, 1]]);
});

test('ReduceMean: axes attribute (opset 13) vs input (opset 18), keepdims', async () => {
  const a = await only(single('ReduceMean', [1, 3, 4, 4], { opset: 13, attrs: [attr.ints('axes', [2, 3])] }));
  assert.deepEqual([a.spec, a.outputShapes[0]], [{ type: 'reduceMean', axes: [2, 3] }, [1, 3, 1, 1]]);
  const b = await only(single('ReduceMean', [1, 3, 4, 4], { opset: 18, inputs: ['axes'], initializers: [int64s('axes', [-1])], attrs: [attr.int('keepdims', 0)] }));
  assert.deepEqual([b.spec, b.outputShapes[0], b.inputs], [{ type: 'reduceMean', axes: [3] }, [1, 3, 4], ['x']]);
});

test('ReduceL1 is √n (its Jacobian away from sign changes is a ±1 row per group), ReduceLogSumExp 1, ReduceSumSquare unbounded', async () => {
  const l1 = await only(single('ReduceL1', [1, 3, 4, 4], { opset: 13, attrs: [attr.ints('axes', [2, 3])] }));
  assert.deepEqual([fixed(l1).constant, l1.outputShapes[0]], [4, [1, 3, 1, 1]]);
  const lse = await only(single('ReduceLogSumExp', [1, 3, 4], { opset: 18, inputs: ['axes'], initializers: [int64s('axes', [1])], attrs: [attr.int('keepdims', 0)] }));
  assert.deepEqual([fixed(lse).constant, lse.outputShapes[0], lse.inputs], [1, [1, 4], ['x']]);
  assert.equal((await only(single('ReduceSumSquare', [1, 6], { opset: 13 }))).spec.type, 'unbounded');
});

test('shape ops: Flatten, Reshape (0 and −1), Transpose, Squeeze/Unsqueeze in both opset forms, Concat, Split, Slice', async () => {
  assert.deepEqual((await only(single('Flatten', [2, 3, 4, 5], { attrs: [attr.int('axis', 2)] }))).outputShapes, [[6, 20]]);
  assert.deepEqual((await only(single('Reshape', [2, 3, 4], { inputs: ['s'], initializers: [int64s('s', [0, -1])] }))).outputShapes, [[2, 12]]);
  assert.deepEqual((await only(single('Transpose', [2, 3, 4], { attrs: [attr.ints('perm', [2, 0, 1])] }))).outputShapes, [[4, 2, 3]]);
  assert.deepEqual((await only(single('Squeeze', [1, 3, 1, 2], { opset: 11, attrs: [attr.ints('axes', [2])] }))).outputShapes, [[1, 3, 2]]);
  assert.deepEqual((await only(single('Squeeze', [1, 3, 1, 2], { opset: 13, inputs: ['a'], initializers: [int64s('a', [0, 2])] }))).outputShapes, [[3, 2]]);
  assert.deepEqual((await only(single('Unsqueeze', [3, 2], { opset: 11, attrs: [attr.ints('axes', [0, -1])] }))).outputShapes, [[1, 3, 2, 1]]);
  assert.deepEqual((await only(single('Unsqueeze', [3, 2], { opset: 13, inputs: ['a'], initializers: [int64s('a', [1])] }))).outputShapes, [[3, 1, 2]]);
  const split = await only(single('Split', [1, 10, 2], { opset: 13, inputs: ['s'], initializers: [int64s('s', [3, 7])], attrs: [attr.int('axis', 1)], outputs: ['a', 'b'] }));
  assert.deepEqual(split.outputShapes, [[1, 3, 2], [1, 7, 2]]);
  const split11 = await only(single('Split', [1, 10, 2], { opset: 11, attrs: [attr.int('axis', 1), attr.ints('split', [4, 6])], outputs: ['a', 'b'] }));
  assert.deepEqual(split11.outputShapes, [[1, 4, 2], [1, 6, 2]]);
  const slice9 = await only(single('Slice', [1, 10, 8], { opset: 9, attrs: [attr.ints('starts', [1, -3]), attr.ints('ends', [9, 1000]), attr.ints('axes', [1, 2])] }));
  assert.deepEqual(slice9.outputShapes, [[1, 8, 3]]);
  const slice13 = await only(single('Slice', [1, 10, 8], { inputs: ['s', 'e', 'a', 'st'], initializers: [int64s('s', [-1]), int64s('e', [-(2 ** 62)]), int64s('a', [1]), int64s('st', [-3])] }));
  assert.deepEqual(slice13.outputShapes, [[1, 4, 8]], 'indices 9, 6, 3, 0');
  const cat: ModelSpec = { inputs: [{ name: 'x', shape: [1, 2, 3] }], outputs: ['y'], nodes: [node('Relu', ['x'], ['r']), node('Concat', ['x', 'r'], ['y'], [attr.int('axis', -1)], 'cat')] };
  const c = byName(await open(cat), 'cat');
  assert.deepEqual([c.spec, c.outputShapes[0]], [{ type: 'concat', axis: 2 }, [1, 2, 6]]);
});

test('shape arithmetic through ReduceProd, Div, Mul, Range and ConstantOfShape folds to a Reshape target', async () => {
  // target = [batch, prod(shape[1:]) / 2, 2]: a value computed only from shapes and constants is a constant.
  const spec: ModelSpec = {
    opset: 13,
    inputs: [{ name: 'x', shape: ['N', 4, 3, 3] }],
    outputs: ['y'],
    initializers: [int64s('one', [1]), int64s('big', [4]), int64s('zero', [0]), int64s('two', [2], []), int64s('twoVec', [2]), int64s('start', [0], []), int64s('step', [1], [])],
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Slice', ['s', 'one', 'big', 'zero'], ['rest']),
      node('ReduceProd', ['rest'], ['features'], [attr.int('keepdims', 1)]),
      node('Div', ['features', 'two'], ['half']),
      node('Slice', ['s', 'zero', 'one', 'zero'], ['batch']),
      node('Range', ['start', 'two', 'step'], ['indices']),
      node('ReduceProd', ['indices'], ['zeroProd'], [attr.int('keepdims', 1)]),
      node('ConstantOfShape', ['one'], ['ones'], [attr.tensor('value', tensor('v', [1], [2], { dataType: T.INT64 }))]),
      node('Mul', ['ones', 'zeroProd'], ['nothing']),
      node('Add', ['twoVec', 'nothing'], ['last']),
      node('Concat', ['batch', 'half', 'last'], ['target'], [attr.int('axis', 0)]),
      node('Reshape', ['x', 'target'], ['y'], [], 'reshape'),
    ],
  };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => [n.name, n.spec.type, n.outputShapes]), [['reshape', 'fixed', [[1, 18, 2]]]]);
});

test('PyTorch flatten chain Shape→Gather→Unsqueeze→Concat→Reshape folds to a concrete shape', async () => {
  const spec: ModelSpec = {
    opset: 11,
    inputs: [{ name: 'x', shape: ['N', 4, 3, 3] }],
    outputs: ['y'],
    initializers: [int64s('zero', [0], []), int64s('minus', [-1])],
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n'], [attr.int('axis', 0)]),
      node('Unsqueeze', ['n'], ['n1'], [attr.ints('axes', [0])]),
      node('Concat', ['n1', 'minus'], ['target'], [attr.int('axis', 0)]),
      node('Cast', ['target'], ['target64'], [attr.int('to', T.INT64)]),
      node('Identity', ['target64'], ['t']),
      node('Reshape', ['x', 't'], ['y'], [], 'flatten'),
    ],
  };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => n.op), ['Reshape'], 'shape arithmetic folds away');
  assert.deepEqual(model.nodes[0].outputShapes, [[1, 36]]);
  assert.deepEqual(model.nodes[0].inputs, ['x']);
});

test('ConstantOfShape, Expand, Tile, Gather on data', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: ['e', 't', 'g'],
    initializers: [int64s('s', [2]), int64s('three', [3]), int64s('reps', [2, 2]), int64s('idx', [0, 2, 2, 2])],
    nodes: [
      node('ConstantOfShape', ['s'], ['ones'], [attr.tensor('value', tensor('', [1], [1], { dataType: T.INT64 }))]),
      node('Concat', ['ones', 's', 'three'], ['target'], [attr.int('axis', 0)]),
      node('Expand', ['x', 'target'], ['e'], [], 'expand'),
      node('Tile', ['x', 'reps'], ['t'], [], 'tile'),
      node('Gather', ['x', 'idx'], ['g'], [attr.int('axis', 1)], 'gather'),
    ],
  };
  const model = await open(spec);
  const expand = byName(model, 'expand');
  assert.deepEqual([expand.outputShapes[0], fixed(expand).constant], [[1, 1, 2, 3], Math.SQRT2]);
  assert.deepEqual(model.nodes.map((n) => n.op), ['Expand', 'Tile', 'Gather']);
  const tile = byName(model, 'tile');
  assert.deepEqual([tile.outputShapes[0], fixed(tile).constant], [[2, 6], 2]);
  const gather = byName(model, 'gather');
  assert.deepEqual([gather.outputShapes[0], fixed(gather).constant], [[1, 4], Math.sqrt(3)]);
});

test('Pad: attribute form (opset 7) and input form (opset 11+); constant 1, edge/reflect √copies', async () => {
  const old = await only(single('Pad', [1, 2, 4, 4], { opset: 7, attrs: [attr.ints('pads', [0, 0, 1, 2, 0, 0, 3, 4])] }));
  assert.deepEqual([old.outputShapes[0], fixed(old).constant], [[1, 2, 8, 10], 1]);
  const edge = await only(single('Pad', [1, 2, 4, 4], { opset: 13, inputs: ['p'], initializers: [int64s('p', [0, 0, 2, 1, 0, 0, 0, 1])], attrs: [attr.string('mode', 'edge')] }));
  // H: index 0 copied 3 times; W: indices 0 and 3 copied twice (1 before, 1 after): 3·2 = 6.
  assert.deepEqual([edge.outputShapes[0], fixed(edge).constant], [[1, 2, 6, 6], Math.sqrt(6)]);
  assert.deepEqual(edge.inputs, ['x']);
  const reflect = await only(single('Pad', [1, 1, 5], { opset: 13, inputs: ['p'], initializers: [int64s('p', [0, 0, 2, 0, 0, 2])], attrs: [attr.string('mode', 'reflect')] }));
  // [2 1 | 0 1 2 3 4 | 3 2]: index 2 appears three times: √3.
  assert.deepEqual([reflect.outputShapes[0], fixed(reflect).constant], [[1, 1, 9], Math.sqrt(3)]);
});

test('Resize/Upsample: nearest with integer scales is √(product), opset 9 vs 13 forms; linear is the axes\' interpolation norms; antialiased downsampling is unsupported', async () => {
  const up9 = await only(single('Upsample', [1, 2, 3, 3], { opset: 9, inputs: ['sc'], initializers: [floats('sc', [4], [1, 1, 2, 3])] }));
  assert.deepEqual([up9.outputShapes[0], fixed(up9).constant], [[1, 2, 6, 9], Math.sqrt(6)]);
  const up7 = await only(single('Upsample', [1, 2, 3, 3], { opset: 7, attrs: [attr.floats('scales', [1, 1, 2, 2])] }));
  assert.deepEqual([up7.outputShapes[0], fixed(up7).constant], [[1, 2, 6, 6], 2]);
  const r13 = await only(single('Resize', [1, 2, 3, 3], { opset: 13, inputs: ['', 'sc'], initializers: [floats('sc', [4], [1, 1, 2, 2])] }));
  assert.deepEqual([r13.outputShapes[0], fixed(r13).constant, r13.inputs], [[1, 2, 6, 6], 2, ['x']]);
  const sizes = await only(single('Resize', [1, 2, 3, 3], { opset: 11, inputs: ['roi', 'empty', 'sz'], initializers: [floats('roi', [0], []), floats('empty', [0], []), int64s('sz', [1, 2, 9, 6])], attrs: [attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('nearest_mode', 'floor')] }));
  assert.deepEqual([sizes.outputShapes[0], fixed(sizes).constant], [[1, 2, 9, 6], Math.sqrt(6)]);
  const linear = await only(single('Resize', [1, 2, 3, 3], { opset: 13, inputs: ['', 'sc'], initializers: [floats('sc', [4], [1, 1, 2, 2])], attrs: [attr.string('mode', 'linear')] }));
  // Each 3 → 6 half-pixel axis has norm 1.5514… (its explicit matrix's SVD is checked in analysis/resize.test.ts).
  const axis = { inLength: 3, outLength: 6, scale: 2, mode: 'linear' as const, transform: TRANSFORMS.half_pixel as CoordinateTransform };
  const perAxis = axisNorm(interpolationRows(axis), 3);
  assert.ok(linear.spec.type === 'fixed' && Math.abs(linear.spec.constant - perAxis * perAxis) < 1e-12, JSON.stringify(linear.spec));
  const antialiased = await only(single('Resize', [1, 2, 6, 6], { opset: 18, inputs: ['', 'sc'], initializers: [floats('sc', [4], [1, 1, 0.5, 0.5])], attrs: [attr.string('mode', 'linear'), attr.int('antialias', 1)] }));
  assert.equal(antialiased.spec.type, 'unsupported');
});

test('Dropout and Identity are structural; an unknown op is unsupported, never 1', async () => {
  assert.equal(fixed(await only(single('Dropout', [1, 3], { opset: 13, outputs: ['y', 'mask'] }))).constant, 1);
  assert.equal(fixed(await only(single('Identity', [1, 3]))).constant, 1);
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: ['z'],
    nodes: [node('Tan', ['x'], ['s'], [], 'sin'), node('FancyOp', ['s'], ['f'], [], 'fancy'), node('Relu', ['f'], ['z'], [], 'after')],
  };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => [n.name, n.spec.type]), [['sin', 'unsupported'], ['fancy', 'unsupported'], ['after', 'unsupported']]);
  assert.deepEqual(byName(model, 'sin').outputShapes, [[1, 3]]);
  assert.ok(model.warnings.some((w) => /FancyOp node "fancy" is not supported and its output shape is unknown/.test(w)));
  const declared = await open({ ...spec, valueInfo: [{ name: 'f', shape: [1, 3] }] });
  assert.deepEqual(byName(declared, 'after').spec.type, 'fixed', 'value_info gives the unknown op an output shape');
});

test('a shape that depends on the data is an unsupported row naming the reason, and the rest still loads', async () => {
  const spec: ModelSpec = { inputs: [{ name: 'x', shape: [1, 4] }, { name: 's', shape: [2], elemType: T.INT64 }], outputs: ['z'], nodes: [node('Reshape', ['x', 's'], ['y'], [], 'dyn'), node('Relu', ['y'], ['z'], [], 'after')] };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => [n.name, n.spec.type, n.spec.type === 'unsupported' ? n.spec.detail : '']), [
    ['dyn', 'unsupported', 'Reshape node "dyn": the target shape (input 2) depends on the data, so its value cannot be known before running the model'],
    ['after', 'unsupported', 'input shape unknown (output of unsupported Reshape "dyn")'],
  ]);
  assert.deepEqual(model.nodes[0].inputs, ['x', 's'], 'the reader lists every data input; the subgraph selection drops the fixed one');
});

test('unnamed nodes take their first output\'s name', async () => {
  const spec: ModelSpec = { inputs: [{ name: 'x', shape: [1, 3] }], outputs: ['out'], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['out'], name: '' }] };
  assert.equal((await open(spec)).nodes[0].name, 'out');
});

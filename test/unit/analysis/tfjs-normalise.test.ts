// The normalisation and data-matrix-product rules in their TF.js graph-model spellings, and ONNX Gemm
// of two data matrices (docs/op-coverage.md, "Normalisation layers", "Products of two data matrices"):
// tf.math.l2_normalize's Square, Sum, Maximum ε, Rsqrt, Mul (mobilefacenet's embedding), a layer norm
// written with Mean, SquaredDifference, Mean, AddV2 ε, Rsqrt, Mul, BatchMatMulV2 of two data tensors
// (adj_x / adj_y), and a constant grid times the signal (a spatial transformer's BatchMatMulV2). Every
// graph is run by tfjs's own runner (tfjs-converter) and the Gemm by onnxruntime: the constants are
// checked against Jacobians taken by finite differences of those runs (exact where the map is linear
// near the worst point, sampled slopes elsewhere).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { compose } from '../../../src/analysis/compose';
import { closedForm } from '../../../src/analysis/closed-form';
import { runSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';
import { onnxFormat } from '../../../src/formats/onnx';
import type { IrModel } from '../../../src/model/ir';
import { DEFAULT_SETTINGS, type EstimateSettings, type Report } from '../../../src/protocol/report';
import { largestSingularValue } from '../../helpers/explicit-matrix';
import { memoryAccess, openMemory, row } from '../formats/tfjs/helpers';
import { graphModel, placeholder, type ConstSpec } from '../formats/tfjs/graph-builder';

const SETTINGS: EstimateSettings = { ...DEFAULT_SETTINGS, threads: 1, bracket: 'off' };
const GEMM = join(__dirname, '..', '..', 'fixtures', 'onnx', 'normalise', 'gemm_data.onnx');

type Run = (x: Float32Array) => Promise<Float32Array>;

/** tfjs-converter's own execution of a hand-built graph model. */
async function tfjsRunner(json: Record<string, unknown>, shards: Record<string, Uint8Array>, shape: number[]): Promise<{ run: Run; dispose: () => void }> {
  const converter = await import('@tensorflow/tfjs-converter');
  const manifest = json.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[];
  const bytes = shards['weights.bin'];
  const artifacts: tf.io.ModelArtifacts = { modelTopology: json.modelTopology as object, weightSpecs: manifest.flatMap((g) => g.weights), weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, format: 'graph-model' };
  const graph = await converter.loadGraphModel(tf.io.fromMemory(artifacts));
  return {
    run: async (x) => {
      const input = tf.tensor(x, shape);
      const out = graph.execute(input) as tf.Tensor;
      const values = Float32Array.from(out.dataSync());
      tf.dispose([input, out]);
      return values;
    },
    dispose: () => graph.dispose(),
  };
}

/** ‖J‖₂ of `run` at x by central differences (float32 runs: the step is kept well above rounding). */
async function jacobianNorm(run: Run, x: Float32Array, step: number): Promise<number> {
  const columns: Float32Array[] = [];
  for (let j = 0; j < x.length; j++) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[j] += step;
    minus[j] -= step;
    const [p, m] = [await run(plus), await run(minus)];
    columns.push(p.map((v, i) => (v - m[i]) / (2 * step)));
  }
  const jacobian = new Matrix(columns[0].length, x.length);
  columns.forEach((column, j) => column.forEach((v, i) => jacobian.set(i, j, v)));
  return largestSingularValue(jacobian);
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

function network(model: IrModel): number {
  return compose(model, model.nodes.map((n) => closedForm(n)?.compositionConstant)).network ?? NaN;
}

async function report(json: Record<string, unknown>, shards: Record<string, Uint8Array>): Promise<Report> {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return runSession(memoryAccess({ 'model.json': bytes, ...shards }), SETTINGS);
}

function l2Graph(epsilonStep: 'Maximum' | 'AddV2', epsilon: number) {
  return graphModel(
    [
      placeholder('x', [-1, 6]),
      { name: 'embeddings/Square', op: 'Square', input: ['x'] },
      { name: 'embeddings/Sum', op: 'Sum', input: ['embeddings/Square', 'axis'], attr: { keep_dims: { b: true } } },
      { name: 'embeddings/eps', op: epsilonStep, input: ['embeddings/Sum', 'epsilon'] },
      { name: 'embeddings/Rsqrt', op: 'Rsqrt', input: ['embeddings/eps'] },
      { name: 'embeddings', op: 'Mul', input: ['x', 'embeddings/Rsqrt'] },
    ],
    [{ name: 'axis', shape: [1], values: [1], dtype: 'int32' }, { name: 'epsilon', shape: [], values: [epsilon] }],
  );
}

test('TF.js l2_normalize (Square, Sum, Maximum or AddV2 ε, Rsqrt, Mul): 1/√ε, the Jacobian norm of the tfjs run at 0, above sampled slopes', async () => {
  const epsilon = 0.01;
  for (const form of ['Maximum', 'AddV2'] as const) {
    const { json, shards } = l2Graph(form, epsilon);
    const model = await openMemory(json, shards);
    const mul = row(model, 'embeddings');
    const constant = 1 / Math.sqrt(Math.fround(epsilon));
    assert.ok(mul.spec.type === 'fixed' && Math.abs(mul.spec.constant - constant) < 1e-9 * constant, JSON.stringify(mul.spec));
    assert.match(mul.spec.type === 'fixed' ? mul.spec.detail ?? '' : '', new RegExp(`L2 normalisation written out \\(sum of squares, ${form === 'Maximum' ? 'max with' : '\\+'} ε, √, multiply by the reciprocal\\) over 6 entries`));
    assert.deepEqual(mul.inputs, ['x']);
    for (const name of ['embeddings/Square', 'embeddings/Sum', 'embeddings/eps', 'embeddings/Rsqrt']) {
      const part = row(model, name);
      assert.ok(part.spec.type === 'fixed' && part.spec.constant === 0 && /counted there/.test(part.spec.detail ?? ''), `${name}: ${JSON.stringify(part.spec)}`);
    }
    assert.ok(Math.abs(network(model) - constant) < 1e-9 * constant);
    const { run, dispose } = await tfjsRunner(json, shards, [1, 6]);
    try {
      // At 0 the map is x/√ε (max form: exactly, near 0): the bound is reached.
      const atZero = await jacobianNorm(run, new Float32Array(6), 1e-3);
      assert.ok(Math.abs(atZero - constant) < 2e-3 * constant, `${form}: ‖J(0)‖ ${atZero} vs ${constant}`);
      const next = lcg(3);
      for (let k = 0; k < 20; k++) {
        const scale = 10 ** (2 * next());
        const x = Float32Array.from({ length: 6 }, () => scale * next());
        const slope = await jacobianNorm(run, x, 1e-3 * scale);
        assert.ok(slope <= constant * (1 + 2e-3), `${form}: ‖J‖ ${slope} > ${constant}`);
      }
    } finally {
      dispose();
    }
  }
});

const GAMMA = [0.5, -1.5, 1, 2, -0.25, 0.75, 1.25, -1];
const BETA = [0.1, -0.2, 0.3, 0, 0.5, -0.5, 0.2, 0.1];

function layerNormNodes(x: string, prefix: string) {
  return [
    { name: `${prefix}/mean`, op: 'Mean', input: [x, 'last'], attr: { keep_dims: { b: true } } },
    { name: `${prefix}/centred`, op: 'Sub', input: [x, `${prefix}/mean`] },
    { name: `${prefix}/sqdiff`, op: 'SquaredDifference', input: [x, `${prefix}/mean`] },
    { name: `${prefix}/variance`, op: 'Mean', input: [`${prefix}/sqdiff`, 'last'], attr: { keep_dims: { b: true } } },
    { name: `${prefix}/add`, op: 'AddV2', input: [`${prefix}/variance`, 'epsilon'] },
    { name: `${prefix}/rsqrt`, op: 'Rsqrt', input: [`${prefix}/add`] },
    { name: `${prefix}/normalised`, op: 'Mul', input: [`${prefix}/centred`, `${prefix}/rsqrt`] },
    { name: `${prefix}/scaled`, op: 'Mul', input: [`${prefix}/normalised`, 'gamma'] },
    { name: prefix, op: 'AddV2', input: [`${prefix}/scaled`, 'beta'] },
  ];
}

const LN_CONSTS: ConstSpec[] = [
  { name: 'last', shape: [1], values: [-1], dtype: 'int32' },
  { name: 'epsilon', shape: [], values: [0.01] },
  { name: 'gamma', shape: [8], values: GAMMA },
  { name: 'beta', shape: [8], values: BETA },
];

test('TF.js layer norm written out (Mean, Sub, SquaredDifference, Mean, AddV2 ε, Rsqrt, Mul, γ, β): max|γ|/√ε, reached by the tfjs run at an input with no spread', async () => {
  const { json, shards } = graphModel([placeholder('x', [-1, 2, 8]), ...layerNormNodes('x', 'ln')], LN_CONSTS);
  const model = await openMemory(json, shards);
  const norm = row(model, 'ln/normalised');
  const constant = 1 / Math.sqrt(Math.fround(0.01));
  assert.ok(norm.spec.type === 'fixed' && Math.abs(norm.spec.constant - constant) < 1e-9 * constant, JSON.stringify(norm.spec));
  assert.match(norm.spec.type === 'fixed' ? norm.spec.detail ?? '' : '', /layer norm written out \(x − mean, mean of squares, \+ ε, √, multiply by the reciprocal\) over 8 entries/);
  assert.deepEqual(norm.inputs, ['x']);
  assert.ok(['ln/sqdiff', 'ln/variance', 'ln/add', 'ln/rsqrt'].every((name) => /counted there/.test(JSON.stringify(row(model, name).spec))));
  // Its range: |entry| ≤ √(n − 1), whatever the input.
  assert.ok(norm.spec.type === 'fixed' && norm.spec.values?.kind === 'bounded' && Math.abs(norm.spec.values.max - Math.sqrt(7)) < 1e-12);
  const maxGamma = Math.max(...GAMMA.map(Math.abs));
  const full = await report(json, shards);
  assert.equal(full.bounds.unbounded, undefined, JSON.stringify(full.bounds.unbounded));
  assert.ok(full.bounds.certified !== null && Math.abs(full.bounds.certified - maxGamma * constant) < 1e-6 * maxGamma * constant, `${full.bounds.certified}`);

  const { run, dispose } = await tfjsRunner(json, shards, [1, 2, 8]);
  try {
    // No spread on either group: J = diag(γ)·P/√ε per group, whose norm is the largest singular value of diag(γ)P.
    const flat = Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? 0.3 : -1.2));
    const atFlat = await jacobianNorm(run, flat, 1e-3);
    const projection = Matrix.eye(8).sub(new Matrix(8, 8).fill(1 / 8));
    const exact = largestSingularValue(Matrix.diag(GAMMA).mmul(projection)) * constant;
    assert.ok(Math.abs(atFlat - exact) < 2e-3 * exact, `‖J‖ at no spread ${atFlat} vs ${exact}`);
    assert.ok(exact <= (full.bounds.certified as number));
    const next = lcg(11);
    for (let k = 0; k < 10; k++) {
      const x = Float32Array.from({ length: 16 }, () => 0.5 * next());
      assert.ok((await jacobianNorm(run, x, 1e-3)) <= exact * (1 + 2e-3));
    }
  } finally {
    dispose();
  }
});

test('TF.js attention after a written-out layer norm: BatchMatMulV2 with adj_y and softmax rows gets the data-matrix product bound, above sampled slopes', async () => {
  const next = lcg(5);
  const weights = (name: string): ConstSpec => ({ name, shape: [8, 4], values: Array.from({ length: 32 }, () => next()) });
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 3, 8]),
      ...layerNormNodes('x', 'ln'),
      { name: 'q', op: 'BatchMatMulV2', input: ['ln', 'wq'] },
      { name: 'k', op: 'BatchMatMulV2', input: ['ln', 'wk'] },
      { name: 'v', op: 'BatchMatMulV2', input: ['ln', 'wv'] },
      { name: 'scores', op: 'BatchMatMulV2', input: ['q', 'k'], attr: { adj_y: { b: true } } },
      { name: 'probs', op: 'Softmax', input: ['scores'] },
      { name: 'attended', op: 'BatchMatMulV2', input: ['probs', 'v'] },
    ],
    [...LN_CONSTS, weights('wq'), weights('wk'), weights('wv')],
  );
  const model = await openMemory(json, shards);
  const scores = row(model, 'scores');
  const attended = row(model, 'attended');
  assert.ok(scores.spec.type === 'add' && /BatchMatMulV2 of two bounded data matrices/.test(scores.spec.detail ?? ''), JSON.stringify(scores.spec));
  assert.ok(attended.spec.type === 'add' && /softmax rows: ≤ √3/.test(attended.spec.detail ?? ''), JSON.stringify(attended.spec));
  // scores = q·kᵀ with q, k [1, 3, 4]: each factor weighted by the other's Frobenius bound sup|·|·√12.
  assert.equal(scores.outputShapes[0].join(), '1,3,3');
  const full = await report(json, shards);
  assert.equal(full.bounds.unbounded, undefined, JSON.stringify(full.bounds.unbounded));
  assert.ok(full.bounds.certified !== null && Number.isFinite(full.bounds.certified));
  const { run, dispose } = await tfjsRunner(json, shards, [1, 3, 8]);
  try {
    let sampled = 0;
    for (let k = 0; k < 10; k++) {
      const x = Float32Array.from({ length: 24 }, () => 2 * next());
      sampled = Math.max(sampled, await jacobianNorm(run, x, 1e-3));
    }
    assert.ok(sampled > 0 && sampled <= (full.bounds.certified as number), `sampled ${sampled}, certified ${full.bounds.certified}`);
  } finally {
    dispose();
  }
});

test('TF.js BatchMatMulV2 of two bounded data tensors with adj_x: weights from the stored shapes, the contracted length for the range', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 3, 2]),
      { name: 'a', op: 'Tanh', input: ['x'] },
      { name: 'b', op: 'Sigmoid', input: ['x'] },
      // aᵀ·b: [1, 2, 3]·[1, 3, 2] → [1, 2, 2], contracting the 3 rows.
      { name: 'gram', op: 'BatchMatMulV2', input: ['a', 'b'], attr: { adj_x: { b: true } } },
      { name: 'out', op: 'Tanh', input: ['gram'] },
    ],
    [],
  );
  const model = await openMemory(json, shards);
  const gram = row(model, 'gram');
  assert.deepEqual(gram.outputShapes[0], [1, 2, 2]);
  // sup‖b‖ ≤ 1·√6 weighs L(a) = 1, sup‖a‖ ≤ 1·√6 weighs L(b) = 1/4.
  assert.ok(gram.spec.type === 'add' && gram.spec.weights?.every((w) => Math.abs(w - Math.sqrt(6)) < 1e-12), JSON.stringify(gram.spec));
  assert.ok(Math.abs(network(model) - Math.sqrt(6) * 1.25) < 1e-12);
  const { run, dispose } = await tfjsRunner(json, shards, [1, 3, 2]);
  try {
    const next = lcg(9);
    for (let k = 0; k < 10; k++) {
      const slope = await jacobianNorm(run, Float32Array.from({ length: 6 }, () => 4 * next()), 1e-3);
      assert.ok(slope <= Math.sqrt(6) * 1.25, `${slope}`);
    }
  } finally {
    dispose();
  }
  // A data × data product whose factor has no range stays unbounded, naming it.
  const bare = graphModel([placeholder('x', [-1, 3, 2]), { name: 'gram', op: 'BatchMatMulV2', input: ['x', 'x'], attr: { adj_x: { b: true } } }], []);
  const unbounded = row(await openMemory(bare.json, bare.shards), 'gram');
  assert.ok(unbounded.spec.type === 'unbounded' && /"x" has no bounded range/.test(unbounded.spec.reason), JSON.stringify(unbounded.spec));
});

test('TF.js constant grid × signal (a spatial transformer\'s BatchMatMulV2, adj_y): a dense row whose σ is the tfjs run\'s exact operator norm', async () => {
  const next = lcg(21);
  const grid = Array.from({ length: 4 * 3 * 2 }, () => next());
  const { json, shards } = graphModel(
    [placeholder('theta', [-1, 2, 2]), { name: 'sampled', op: 'BatchMatMulV2', input: ['grid', 'theta'], attr: { adj_y: { b: true } } }],
    [{ name: 'grid', shape: [1, 4, 3, 2], values: grid }],
  );
  const model = await openMemory(json, shards);
  const sampled = row(model, 'sampled');
  assert.equal(sampled.spec.type, 'dense');
  assert.deepEqual(sampled.outputShapes[0], [1, 4, 3, 2]);
  const { run, dispose } = await tfjsRunner(json, shards, [1, 2, 2]);
  try {
    // The map is linear: its Jacobian is the explicit matrix, and the row's σ must be its norm.
    const exact = await jacobianNorm(run, new Float32Array(4), 0.5);
    const full = await report(json, shards);
    const layer = full.layers.find((l) => l.name === 'sampled');
    assert.ok(layer?.sigma !== undefined && layer.sigma !== null && Math.abs(layer.sigma - exact) < 1e-4 * exact, `σ ${layer?.sigma} vs ${exact}`);
    assert.ok(full.bounds.certified !== null && full.bounds.certified >= exact * (1 - 1e-4));
  } finally {
    dispose();
  }
});

test('ONNX Gemm of two data matrices (transB, alpha, β·C): alpha times the product rule, its range shifted by β·C, above onnxruntime\'s sampled slopes', async () => {
  const model = await onnxFormat.open(readFileSync(GEMM), nodeFileAccess(GEMM), {});
  const gemm = model.nodes.find((n) => n.op === 'Gemm');
  // g = 0.5·tanh(x)·sigmoid(x)ᵀ + 2·C, x [2, 3]: each factor's Frobenius bound is 1·√6, L(tanh) = 1, L(sigmoid) = 1/4.
  assert.ok(gemm?.spec.type === 'add' && gemm.spec.weights?.every((w) => Math.abs(w - 0.5 * Math.sqrt(6)) < 1e-12), JSON.stringify(gemm?.spec));
  assert.match(gemm?.spec.type === 'add' ? gemm.spec.detail ?? '' : '', /Gemm of two bounded data matrices: L ≤ 0\.5·\(sup‖B‖·L_A \+ sup‖A‖·L_B\)/);
  const gemmBound = 0.5 * Math.sqrt(6) * 1.25;
  // g's range: 0.5·3·[−1, 1]·[0, 1] + 2·[−0.2, 0.3] = [−1.9, 2.1] (C in float32); y = g·tanh(g) weighs
  // L(g) by sup|tanh g| = tanh 2.1 and L(tanh g) by sup|g| = 2.1.
  const gated = model.nodes.find((n) => n.name === 'gated');
  const weights = gated?.spec.type === 'add' ? gated.spec.weights ?? [] : [];
  assert.ok(Math.abs(weights[0] - Math.tanh(2.1)) < 1e-6 && Math.abs(weights[1] - 2.1) < 1e-6, JSON.stringify(gated?.spec));
  const bound = gemmBound * (weights[0] + weights[1]);
  const full = await runSession(nodeFileAccess(GEMM), SETTINGS);
  assert.ok(full.bounds.certified !== null && Math.abs(full.bounds.certified - bound) < 1e-9 * bound, `${full.bounds.certified} vs ${bound}`);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(readFileSync(GEMM));
  const run: Run = async (x) => Float32Array.from((await session.run({ x: new ort.Tensor('float32', x, [2, 3]) })).y.data as Float32Array);
  const next = lcg(17);
  let sampled = 0;
  for (let k = 0; k < 30; k++) sampled = Math.max(sampled, await jacobianNorm(run, Float32Array.from({ length: 6 }, () => 6 * next()), 1e-3));
  assert.ok(sampled > 0 && sampled <= bound, `sampled ${sampled}, bound ${bound}`);
});

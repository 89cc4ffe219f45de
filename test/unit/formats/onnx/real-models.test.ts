// Real exports: small PyTorch models (scripts/fixtures/export_torch.py) with float64 σ references, and
// a PaddleOCR classifier exported by paddle2onnx. Every weighted layer must load with the shapes the
// exporter saw, and where the explicit matrix is small the σ of the loaded spec must match the reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { onnxFormat } from '../../../../src/formats/onnx';
import { nodeFileAccess } from '../../../../src/host/node-files';
import type { IrNode, IrModel } from '../../../../src/model/ir';
import type { OpenOptions } from '../../../../src/model/files';

const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures', 'onnx');

async function load(path: string, options: OpenOptions = {}): Promise<IrModel> {
  return onnxFormat.open(readFileSync(path), nodeFileAccess(path), options);
}

interface Reference {
  opset: number;
  inputShape: number[];
  dynamicBatch: boolean;
  layers: { name: string; op: string; inputShape: number[]; outputShape: number[]; weightShape: number[] | null; sigma: number }[];
  batchNorm: { name: string; maxAbsScale: number }[];
}

/** The layer's linear map applied to a flat input (2-D spatial NCHW / dense only), from the IR spec alone. */
function apply(node: IrNode, x: Float64Array): Float64Array {
  const spec = node.spec;
  const [, c, h, w] = node.inputShapes[0];
  const out = node.outputShapes[0];
  const y = new Float64Array(out.reduce((a, b) => a * b, 1));
  if (spec.type === 'dense') {
    const [nIn, nOut] = spec.weight.dims;
    for (let r = 0; r < x.length / nIn; r++) for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) y[r * nOut + o] += x[r * nIn + i] * spec.weight.data[i * nOut + o];
    return y;
  }
  if (spec.type === 'globalAvgPool') {
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) y[ch] += x[ch * h * w + p] / (h * w);
    return y;
  }
  const [, oc, oh, ow] = out;
  if (spec.type === 'conv' || spec.type === 'convTranspose') {
    const [k0, k1, kh, kw] = spec.weight.dims;
    const g = spec.group;
    for (let ci = 0; ci < c; ci++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      const v = x[(ci * h + i) * w + j];
      if (v === 0) continue;
      if (spec.type === 'conv') {
        // y[co, a, b] += W[co, ci % (c/g), ki, kj] x[ci, a·s − p + ki·d, ...]: scatter form.
        const perGroup = c / g;
        const group = Math.floor(ci / perGroup);
        const outPerGroup = k0 / g;
        for (let co = group * outPerGroup; co < (group + 1) * outPerGroup; co++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
          const a = i + spec.padsBegin[0] - ki * spec.dilations[0];
          const b = j + spec.padsBegin[1] - kj * spec.dilations[1];
          if (a % spec.strides[0] || b % spec.strides[1]) continue;
          const oa = a / spec.strides[0];
          const ob = b / spec.strides[1];
          if (oa < 0 || ob < 0 || oa >= oh || ob >= ow) continue;
          y[(co * oh + oa) * ow + ob] += v * spec.weight.data[((co * k1 + (ci % perGroup)) * kh + ki) * kw + kj];
        }
      } else {
        const perGroup = c / g;
        const group = Math.floor(ci / perGroup);
        for (let cl = 0; cl < k1; cl++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
          const oa = i * spec.strides[0] - spec.padsBegin[0] + ki * spec.dilations[0];
          const ob = j * spec.strides[1] - spec.padsBegin[1] + kj * spec.dilations[1];
          if (oa < 0 || ob < 0 || oa >= oh || ob >= ow) continue;
          y[((group * k1 + cl) * oh + oa) * ow + ob] += v * spec.weight.data[((ci * k1 + cl) * kh + ki) * kw + kj];
        }
      }
    }
    assert.equal(k0 === c || spec.type === 'conv', true);
    return y;
  }
  if (spec.type === 'avgPool') {
    const [kh, kw] = spec.kernel;
    for (let ch = 0; ch < oc; ch++) for (let a = 0; a < oh; a++) for (let b = 0; b < ow; b++) {
      let sum = 0;
      let count = 0;
      for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
        const i = a * spec.strides[0] - spec.padsBegin[0] + ki;
        const j = b * spec.strides[1] - spec.padsBegin[1] + kj;
        if (i >= 0 && j >= 0 && i < h && j < w) {
          sum += x[(ch * h + i) * w + j];
          count++;
        } else if (spec.countIncludePad) count++;
      }
      y[(ch * oh + a) * ow + b] = sum / count;
    }
    return y;
  }
  throw new Error(`no reference map for ${spec.type}`);
}

/** Exact σ1 from the explicit matrix, through the smaller Gram matrix. */
function exactSigma(node: IrNode): number {
  const nIn = node.inputShapes[0].reduce((a, b) => a * b, 1);
  const columns: Float64Array[] = [];
  for (let k = 0; k < nIn; k++) {
    const e = new Float64Array(nIn);
    e[k] = 1;
    columns.push(apply(node, e));
  }
  const a = new Matrix(columns.map((col) => Array.from(col))).transpose();
  const gram = a.rows <= a.columns ? a.mmul(a.transpose()) : a.transpose().mmul(a);
  return Math.sqrt(Math.max(...new EigenvalueDecomposition(gram, { assumeSymmetric: true }).realEigenvalues));
}

const TORCH = ['small_cnn', 'residual', 'concat', 'conv_variants', 'conv_transpose', 'gated'];

for (const stem of TORCH) {
  test(`PyTorch ${stem}.onnx: weighted layers load with the exporter's shapes and σ`, async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'torch', `${stem}.sigma.json`), 'utf8')) as Reference;
    const model = await load(join(FIXTURES, 'torch', `${stem}.onnx`));
    assert.equal(model.metadata.producer, 'pytorch');
    assert.equal(model.metadata.opset, ref.opset);
    assert.deepEqual(model.inputs[0].shape, ref.inputShape);
    assert.equal(model.warnings.some((w) => /dynamic batch/.test(w)), ref.dynamicBatch);
    assert.ok(model.nodes.every((n) => n.spec.type !== 'unsupported'), 'every op of these exports is understood');
    let checked = 0;
    for (const layer of ref.layers) {
      const node = model.nodes.find((n) => n.name === layer.name);
      assert.ok(node, `${layer.name} is in the IR`);
      assert.equal(node.op, layer.op);
      assert.deepEqual([node.inputShapes[0], node.outputShapes[0], node.weightShape], [layer.inputShape, layer.outputShape, layer.weightShape], layer.name);
      const nIn = layer.inputShape.reduce((a, b) => a * b, 1);
      const nOut = layer.outputShape.reduce((a, b) => a * b, 1);
      if (Math.min(nIn, nOut) <= 260) {
        const sigma = exactSigma(node);
        assert.ok(Math.abs(sigma - layer.sigma) <= 1e-9 * layer.sigma, `${layer.name}: σ ${sigma} vs reference ${layer.sigma}`);
        checked++;
      }
    }
    assert.ok(checked >= 1, 'at least one layer small enough for the explicit check');
    for (const bn of ref.batchNorm) {
      const node = model.nodes.find((n) => n.name === bn.name);
      assert.ok(node && node.spec.type === 'diagonal', bn.name);
      const largest = Math.max(...Array.from(node.spec.scale, Math.abs));
      assert.ok(Math.abs(largest - bn.maxAbsScale) < 1e-6 * bn.maxAbsScale, `${bn.name}: ${largest} vs ${bn.maxAbsScale}`);
    }
  });
}

test('PyTorch gated.onnx: SiLU (Sigmoid + Mul) and Hardswish (HardSigmoid + Mul) are activations of x, so the network bound is finite', async () => {
  const model = await load(join(FIXTURES, 'torch', 'gated.onnx'));
  const muls = model.nodes.filter((n) => n.op === 'Mul');
  assert.deepEqual(
    muls.map((n) => [n.spec.type, n.spec.type === 'fixed' ? Number(n.spec.constant.toFixed(4)) : null, n.inputs.length]),
    [
      ['fixed', 1.0998, 1],
      ['fixed', 1.5, 1],
    ],
  );
  assert.ok(model.nodes.every((n) => n.spec.type !== 'unbounded' && n.spec.type !== 'unsupported'));
  // Each Mul reads the conv output it gates, as its only data input.
  assert.deepEqual(muls.map((n) => n.inputs[0]), ['/conv1/Conv_output_0', '/conv2/Conv_output_0']);
});

test('PyTorch conv_variants.onnx keeps groups, dilations and strides', async () => {
  const model = await load(join(FIXTURES, 'torch', 'conv_variants.onnx'));
  const params = model.nodes.filter((n) => n.spec.type === 'conv').map((n) => (n.spec.type === 'conv' ? [n.spec.group, n.spec.dilations[0], n.spec.strides[0], n.spec.padsBegin[0]] : []));
  assert.deepEqual(params, [[6, 1, 1, 1], [2, 1, 1, 1], [1, 2, 1, 2], [1, 1, 2, 1]]);
});

const PADDLE = join(FIXTURES, 'paddle', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

test('PaddleOCR classifier (paddle2onnx, Constant-node weights, opset 9) loads with plausible shapes', async () => {
  await assert.rejects(load(PADDLE), /dynamic dims .*--input-shape/);
  const model = await load(PADDLE, { inputShape: [1, 3, 48, 192] });
  assert.equal(model.metadata.opset, 9);
  assert.equal(model.metadata.nodeCount, 471);
  const convs = model.nodes.filter((n) => n.op === 'Conv');
  assert.equal(convs.length, 53);
  for (const n of model.nodes.filter((x) => x.weightShape && (x.spec.type === 'conv' || x.spec.type === 'dense'))) {
    const [, c] = n.inputShapes[0];
    const w = n.weightShape as number[];
    if (n.spec.type === 'conv') assert.equal(w[1] * n.spec.group, c, `${n.name} weight fits its input`);
    assert.ok(n.outputShapes[0].every((d) => d >= 1), n.name);
  }
  const head = model.nodes.find((n) => n.op === 'MatMul');
  assert.deepEqual([head?.spec.type, head?.inputShapes[0], head?.outputShapes[0]], ['dense', [1, 200], [1, 2]]);
  assert.equal(model.nodes.at(-1)?.op, 'Softmax');
  assert.ok(model.metadata.parameterCount > 100_000);
  // Hard-swish written as x·clip(x+3)/6 and squeeze-excitation gates are products of data: reported, not hidden.
  assert.ok(model.nodes.some((n) => n.op === 'Mul' && n.spec.type === 'unbounded'));
});

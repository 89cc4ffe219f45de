// Quantised ONNX in the three forms quantisers write (fixtures from scripts/fixtures/export_quantized.py):
// every quantised layer's σ, on its real input shape, is that of its dequantised weight
// (w − zero_point)·scale, per output channel or per tensor, against float64 SVDs; quantise and
// dequantise steps are identity rows with the note, and the model carries the warning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnxFormat } from '../../../../src/formats/onnx';
import { nodeFileAccess } from '../../../../src/host/node-files';
import { findBatchNormFolds } from '../../../../src/analysis/fold';
import { foldScaleIntoConv } from '../../../../src/engine/operators';
import { QUANTISED_WARNING } from '../../../../src/formats/onnx/ops/quantized';
import type { ConvSpec, IrModel, IrNode } from '../../../../src/model/ir';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { referenceConvMatrix, referenceDenseMatrix } from '../../engine/operators/onnx-reference';

const DIR = join(__dirname, '..', '..', '..', 'fixtures', 'onnx', 'ops');
const reference = JSON.parse(readFileSync(join(DIR, 'quantized.json'), 'utf8')) as { perChannel: Record<string, number>; perTensorQdq: Record<string, number> };

async function load(form: string): Promise<IrModel> {
  const path = join(DIR, `quantized_${form}.onnx`);
  return onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
}

function byName(model: IrModel, name: string): IrNode {
  const node = model.nodes.find((n) => n.name === name);
  assert.ok(node, `no row ${name}`);
  return node;
}

function convSigma(spec: ConvSpec, inputShape: number[]): number {
  const p = { strides: spec.strides, dilations: spec.dilations, padsBegin: spec.padsBegin, padsEnd: spec.padsEnd };
  return largestSingularValue(referenceConvMatrix(spec.weight.dims, spec.weight.data, spec.group, inputShape.slice(2), p));
}

function denseSigma(node: IrNode, scale: Float32Array | undefined): number {
  if (node.spec.type !== 'dense') throw new Error(node.spec.type);
  const [inFeatures, outFeatures] = node.spec.weight.dims;
  const data = Float32Array.from(node.spec.weight.data, (v, j) => v * (scale ? scale[scale.length > 1 ? j % outFeatures : 0] : 1));
  return largestSingularValue(referenceDenseMatrix(inFeatures, outFeatures, data));
}

const close = (got: number, expected: number, what: string) => assert.ok(Math.abs(got - expected) <= 1e-5 * expected, `${what}: ${got} vs ${expected}`);

test('dynamic quantisation (DynamicQuantizeLinear → ConvInteger / MatMulInteger → Cast → Mul): the rescale folds into the layer, σ of (w − zp)·scale', async () => {
  const model = await load('dynamic');
  assert.ok(model.warnings.includes(QUANTISED_WARNING));
  const quant = byName(model, 'conv1.quant');
  assert.ok(quant.spec.type === 'fixed' && quant.spec.constant === 1 && /rounding ignored/.test(quant.spec.detail ?? ''), JSON.stringify(quant.spec));
  const folds = findBatchNormFolds(model);
  for (const name of ['conv1', 'conv2']) {
    const index = model.nodes.findIndex((n) => n.name === name);
    const conv = model.nodes[index];
    assert.equal(conv.op, 'ConvInteger');
    assert.deepEqual(conv.weightShape, name === 'conv1' ? [6, 3, 3, 3] : [6, 6, 3, 3]);
    // The per-channel rescale (x_scale read as 1, times w_scale) folds through the Cast into the convolution.
    const fold = folds.get(index);
    assert.ok(fold, `${name} has no fold`);
    assert.equal(model.nodes[fold.diagonalIndex].name, `${name}.rescale`);
    close(convSigma(foldScaleIntoConv(conv.spec as ConvSpec, fold.scale), conv.inputShapes[0]), reference.perChannel[name], name);
  }
  const fc = byName(model, 'fc');
  const rescale = byName(model, 'fc.rescale');
  assert.ok(rescale.spec.type === 'diagonal');
  close(denseSigma(fc, rescale.spec.scale), reference.perChannel.fc, 'fc');
});

test('QDQ: QuantizeLinear → DequantizeLinear pairs on activations are identity rows; weights dequantised per tensor', async () => {
  const model = await load('qdq');
  assert.ok(model.warnings.includes(QUANTISED_WARNING));
  for (const name of ['in.quantize', 'in.dequantize', 'r1.quantize', 'flat.dequantize']) {
    const row = byName(model, name);
    assert.ok(row.spec.type === 'fixed' && row.spec.constant === 1 && /identity on real values/.test(row.spec.detail ?? ''), `${name}: ${JSON.stringify(row.spec)}`);
  }
  close(convSigma(byName(model, 'conv1').spec as ConvSpec, [1, 3, 8, 8]), reference.perTensorQdq.conv1, 'conv1');
  close(convSigma(byName(model, 'conv2').spec as ConvSpec, [1, 6, 8, 8]), reference.perTensorQdq.conv2, 'conv2');
  close(denseSigma(byName(model, 'fc'), undefined), reference.perTensorQdq.fc, 'fc');
});

test('QOperator: QLinearConv and QLinearMatMul carry (w − zp)·scale per channel, QLinearAdd is a merge of its two data operands', async () => {
  const model = await load('qoperator');
  const conv1 = byName(model, 'conv1');
  assert.equal(conv1.op, 'QLinearConv');
  assert.deepEqual(conv1.inputs, ['x_q']);
  close(convSigma(conv1.spec as ConvSpec, conv1.inputShapes[0]), reference.perChannel.conv1, 'conv1');
  close(convSigma(byName(model, 'conv2').spec as ConvSpec, [1, 6, 8, 8]), reference.perChannel.conv2, 'conv2');
  close(denseSigma(byName(model, 'fc'), undefined), reference.perChannel.fc, 'fc');
  const residual = byName(model, 'residual');
  assert.deepEqual([residual.spec.type, residual.inputs], ['add', ['c2', 'c1']]);
});

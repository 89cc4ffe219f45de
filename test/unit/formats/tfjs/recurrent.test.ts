// TF.js LSTM / GRU / SimpleRNN layers built and saved by tfjs-layers itself: a dense row per gate
// matrix (Keras gate order) whose σ is the SVD of that block of the saved kernel, and a certified
// layer bound above every slope ‖f(x + δ) − f(x)‖ / ‖δ‖ sampled from tfjs's own predict.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { Matrix } from 'ml-matrix';
import { closedForm } from '../../../../src/analysis/closed-form';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { openMemory } from './helpers';

async function saved(model: tfl.LayersModel): Promise<{ json: unknown; shards: Record<string, Uint8Array> }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts as tf.io.ModelArtifacts;
  const json = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
  return { json, shards: { 'weights.bin': new Uint8Array(a.weightData as ArrayBuffer) } };
}

test('LSTM, GRU and SimpleRNN layers: gate rows with the kernel blocks\' σ, bounds above sampled slopes', async () => {
  await tf.setBackend('cpu');
  const steps = 5;
  // tfjs-layers' orthogonal initialiser does not run with this tfjs-core: Glorot instead.
  const layers: [string, () => tfl.layers.Layer, number][] = [
    ['lstm', () => tfl.layers.lstm({ units: 3, returnSequences: true, inputShape: [steps, 2], recurrentInitializer: 'glorotNormal' }), 4],
    ['gru', () => tfl.layers.gru({ units: 3, returnSequences: true, inputShape: [steps, 2], recurrentInitializer: 'glorotNormal', kernelInitializer: 'glorotNormal' }), 3],
    ['simple_rnn', () => tfl.layers.simpleRNN({ units: 3, inputShape: [steps, 2], recurrentInitializer: 'glorotNormal' }), 1],
  ];
  for (const [kind, make, gates] of layers) {
    const model = tfl.sequential({ layers: [make()] });
    const layer = model.layers[0];
    const { json, shards } = await saved(model);
    const ir = await openMemory(json, shards);
    const kernel = layer.getWeights()[0];
    const [features, width] = kernel.shape;
    const units = width / gates;
    const rows = ir.nodes.filter((n) => n.spec.type === 'dense');
    assert.equal(rows.length, 2 * gates, kind);
    const kernelData = Array.from(kernel.dataSync());
    for (let g = 0; g < gates; g++) {
      const block = new Matrix(features, units);
      for (let i = 0; i < features; i++) for (let j = 0; j < units; j++) block.set(i, j, kernelData[i * width + g * units + j]);
      const row = rows[2 * g];
      assert.ok(row.spec.type === 'dense' && row.name.includes('/kernel_'), row.name);
      const got = largestSingularValue(new Matrix(Array.from({ length: features }, (_, i) => Array.from(row.spec.type === 'dense' ? row.spec.weight.data.slice(i * units, (i + 1) * units) : []))));
      assert.ok(Math.abs(got - largestSingularValue(block)) < 1e-6, `${kind} gate ${g}`);
    }
    // The cell's own row (a layer with an `activation` config is followed by an activation row).
    const cell = ir.nodes.find((n) => n.spec.type === 'fixed' && / over \d+ steps/.test(n.spec.detail ?? '')) ?? assert.fail(`${kind}: no cell row`);
    const bound = closedForm(cell)?.compositionConstant ?? NaN;
    assert.ok(cell.spec.type === 'fixed' && Number.isFinite(bound), `${kind}: ${JSON.stringify(cell.spec)}`);
    // Sampled slopes of the real layer (tfjs's predict) stay below the bound.
    let largest = 0;
    for (let k = 0; k < 40; k++) {
      const x = tf.randomNormal([1, steps, 2], 0, 2, 'float32', k);
      const d = tf.mul(tf.randomNormal([1, steps, 2], 0, 1, 'float32', 100 + k), 1e-2);
      const y0 = model.predict(x) as tf.Tensor;
      const y1 = model.predict(tf.add(x, d)) as tf.Tensor;
      largest = Math.max(largest, tf.norm(tf.sub(y1, y0)).dataSync()[0] / tf.norm(d).dataSync()[0]);
    }
    assert.ok(largest > 0 && bound >= largest, `${kind}: bound ${bound} below sampled slope ${largest}`);
  }
});

// Custom Keras layer classes (UpscalerJS's MultiplyBeta and PixelShuffle): unsupported unless the
// user declares what they compute; declared, the rows carry the declared maps and the layers after
// them get their shapes and their σ (docs/op-coverage.md, "Custom layers").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../../src/model/errors';
import { parseCustomLayer, parseCustomLayers } from '../../../../src/protocol/custom-layers';
import { openMemory, row, seeded } from './helpers';

function conv(name: string, filters: number, extra: Record<string, unknown> = {}) {
  return { class_name: 'Conv2D', config: { name, filters, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false, ...extra } };
}

/** conv (2→8) → MultiplyBeta(beta 0.2) → PixelShuffle2x(scale 2) → conv (2→1), on a 4×4×2 input. */
function upscalerLike() {
  const first = seeded(3 * 3 * 2 * 8, 3);
  const last = seeded(3 * 3 * 2 * 1, 5);
  const json = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'upscaler_like',
        layers: [
          conv('conv_in', 8, { batch_input_shape: [null, 4, 4, 2] }),
          { class_name: 'MultiplyBeta', config: { name: 'multiply_beta', trainable: true, dtype: 'float32', beta: 0.2 } },
          { class_name: 'PixelShuffle2x', config: { name: 'pixel_shuffle', trainable: true, dtype: 'float32', scale: 2 } },
          conv('conv_out', 1),
        ],
      },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'conv_in/kernel', shape: [3, 3, 2, 8], dtype: 'float32' }, { name: 'conv_out/kernel', shape: [3, 3, 2, 1], dtype: 'float32' }] }],
  };
  const bytes = new Float32Array([...first, ...last]);
  return { json, shards: { 'weights.bin': new Uint8Array(bytes.buffer) } };
}

test('undeclared custom classes are unsupported, and the layers after them have no shape', async () => {
  const { json, shards } = upscalerLike();
  const model = await openMemory(json, shards);
  assert.equal(row(model, 'multiply_beta').spec.type, 'unsupported');
  assert.equal(row(model, 'conv_out').spec.type, 'unsupported');
  assert.ok(model.warnings.some((w) => /MultiplyBeta.*output shape is unknown/.test(w)));
});

test('declared custom classes: a scale from the config, a depth-to-space with its shape, and the conv after them analysed', async () => {
  const { json, shards } = upscalerLike();
  const model = await openMemory(json, shards, { customLayers: { MultiplyBeta: 'scale:beta', PixelShuffle2x: 'depth-to-space:scale' } });
  const beta = row(model, 'multiply_beta');
  assert.ok(beta.spec.type === 'diagonal' && Math.abs(beta.spec.scale[0] - 0.2) < 1e-7 && beta.spec.axis === -1);
  assert.deepEqual(beta.outputShapes[0], [1, 4, 4, 8]);
  const shuffle = row(model, 'pixel_shuffle');
  assert.ok(shuffle.spec.type === 'fixed' && shuffle.spec.constant === 1);
  assert.deepEqual(shuffle.outputShapes[0], [1, 8, 8, 2]);
  const out = row(model, 'conv_out');
  assert.equal(out.spec.type, 'conv');
  assert.deepEqual(out.inputShapes[0], [1, 8, 8, 2]);
  assert.ok(model.nodes.every((n) => n.spec.type !== 'unsupported'));
  // One note per declared class, not one per layer.
  assert.equal(model.warnings.filter((w) => /custom layer class MultiplyBeta: declared by the user \(MultiplyBeta=scale:beta\)/.test(w)).length, 1);
});

test('same-shape keeps the row unsupported but gives the next layers their shapes; lipschitz:L is the stated constant', async () => {
  const { json, shards } = upscalerLike();
  const model = await openMemory(json, shards, { customLayers: { MultiplyBeta: 'same-shape', PixelShuffle2x: 'depth-to-space:2' } });
  assert.equal(row(model, 'multiply_beta').spec.type, 'unsupported');
  assert.equal(row(model, 'conv_out').spec.type, 'conv');
  const stated = await openMemory(json, shards, { customLayers: { MultiplyBeta: 'lipschitz:3.5', PixelShuffle2x: 'depth-to-space:2' } });
  const spec = row(stated, 'multiply_beta').spec;
  assert.ok(spec.type === 'fixed' && spec.constant === 3.5);
});

test('a declaration the layer cannot satisfy is a clear error, not a guess', async () => {
  const { json, shards } = upscalerLike();
  await assert.rejects(openMemory(json, shards, { customLayers: { MultiplyBeta: 'scale:gamma' } }), (error: unknown) => error instanceof ModelError && /no numeric field "gamma"/.test(error.message));
  await assert.rejects(openMemory(json, shards, { customLayers: { MultiplyBeta: 'identity', PixelShuffle2x: 'depth-to-space:3' } }), (error: unknown) => error instanceof ModelError && /block 3 does not fit/.test(error.message));
});

test('declaration syntax: kinds, numbers and config fields; errors name what is wrong', () => {
  assert.deepEqual(parseCustomLayer('identity'), { kind: 'identity' });
  assert.deepEqual(parseCustomLayer(' scale:beta '), { kind: 'scale', factor: { field: 'beta' } });
  assert.deepEqual(parseCustomLayer('scale:-0.5'), { kind: 'scale', factor: { value: -0.5 } });
  assert.deepEqual(parseCustomLayer('depth-to-space:2'), { kind: 'depth-to-space', block: { value: 2 } });
  assert.deepEqual(parseCustomLayer('lipschitz:1e3'), { kind: 'lipschitz', constant: { value: 1000 } });
  assert.match(parseCustomLayer('scale') as string, /needs a value/);
  assert.match(parseCustomLayer('identity:2') as string, /takes no value/);
  assert.match(parseCustomLayer('relu') as string, /unknown declaration/);
  assert.match(parseCustomLayer('scale:1:2') as string, /more than one/);
  assert.match(parseCustomLayers({ 'bad name': 'identity' }) as string, /not a layer class name/);
});

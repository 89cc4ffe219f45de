// Times one power step (forward + adjoint, batch 1, float32) of the engine's operators on the wasm
// backend, median and min of 15 after 3 warm-ups, next to a baseline adjoint (tf.conv2dTranspose / a
// transposed matMul). Usage: node --import tsx scripts/bench-operators.ts
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { buildOperator } from '../src/engine/operators';
import type { LinearSpec } from '../src/model/ir';

function random(count: number, scale: number): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = (Math.random() * 2 - 1) * scale;
  return data;
}

function conv(cOut: number, cInPerGroup: number, k: number, stride: number, pad: number, group = 1): LinearSpec {
  return {
    type: 'conv',
    channelsLast: false,
    weight: { dims: [cOut, cInPerGroup, k, k], data: random(cOut * cInPerGroup * k * k, 0.1) },
    strides: [stride, stride],
    dilations: [1, 1],
    padsBegin: [pad, pad],
    padsEnd: [pad, pad],
    group,
  };
}

/** Median and minimum of 15 timed runs after 3 warm-ups (the minimum resists a loaded machine). */
function timeMs(step: () => void): { median: number; min: number } {
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    step();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

const show = (t: { median: number; min: number }): string => `${t.median.toFixed(2)} (min ${t.min.toFixed(2)})`;

const layers: { name: string; spec: LinearSpec; inputShape: number[] }[] = [
  { name: '64→64 3x3 s1 p1 @56', spec: conv(64, 64, 3, 1, 1), inputShape: [1, 64, 56, 56] },
  { name: '3→64 7x7 s2 p3 @224', spec: conv(64, 3, 7, 2, 3), inputShape: [1, 3, 224, 224] },
  { name: '128→128 3x3 s2 p1 @56', spec: conv(128, 128, 3, 2, 1), inputShape: [1, 128, 56, 56] },
  { name: 'depthwise 144 3x3 s1 p1 @56', spec: conv(144, 1, 3, 1, 1, 144), inputShape: [1, 144, 56, 56] },
  { name: 'depthwise 96 3x3 s2 p1 @112', spec: conv(96, 1, 3, 2, 1, 96), inputShape: [1, 96, 112, 112] },
  { name: 'dense 2048→1000', spec: { type: 'dense', weight: { dims: [2048, 1000], data: random(2048 * 1000, 0.02) } }, inputShape: [1, 2048] },
];

async function main(): Promise<void> {
  console.log(await initBackend());
  for (const layer of layers) {
    const op = buildOperator(layer.spec, layer.inputShape);
    const x = tf.randomNormal(op.inputShape);
    const y = tf.randomNormal(op.outputShape);
    const step = timeMs(() => {
      const ax = op.forward(x);
      const aty = op.adjoint(y);
      tf.dispose([ax, aty]);
    });
    const forwardOnly = timeMs(() => op.forward(x).dispose());
    const adjointOnly = timeMs(() => op.adjoint(y).dispose());
    let baseline = '';
    if (layer.spec.type === 'conv' && layer.spec.group === 1) {
      // The adjoint tfjs itself offers: conv2dTranspose with the forward kernel.
      const [cOut, cIn, kh, kw] = layer.spec.weight.dims;
      const hwio = tf.transpose(tf.tensor4d(layer.spec.weight.data, [cOut, cIn, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D;
      const s = layer.spec.strides[0];
      const p = layer.spec.padsBegin[0];
      const ms = timeMs(() =>
        tf.conv2dTranspose(y as tf.Tensor4D, hwio, op.inputShape as [number, number, number, number], s, [[0, 0], [p, p], [p, p], [0, 0]] as never).dispose(),
      );
      baseline = `, conv2dTranspose adjoint ${show(ms)} ms`;
      hwio.dispose();
    } else if (layer.spec.type === 'dense') {
      const w = tf.tensor2d(layer.spec.weight.data, layer.spec.weight.dims as [number, number]);
      const ms = timeMs(() => tf.matMul(y as tf.Tensor2D, w, false, true).dispose());
      baseline = `, transposed-matMul adjoint ${show(ms)} ms`;
      w.dispose();
    }
    console.log(
      `${layer.name}: step ${show(step)} ms; forward ${show(forwardOnly)}, adjoint ${show(adjointOnly)}${baseline}`,
    );
    tf.dispose([x, y]);
    op.dispose();
  }
}

void main();

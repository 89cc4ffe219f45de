// Runs a model with a reference runtime (onnxruntime-node for ONNX; tfjs's own loadGraphModel /
// loadLayersModel for TF.js) and with the graph executor, on the same input, for the executor checks.

import { sigma1 } from '../../helpers/keras-reference';
import { Matrix } from 'ml-matrix';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { openModel } from '../../../src/formats';
import { nodeFileAccess } from '../../../src/host/node-files';
import type { IrModel } from '../../../src/model/ir';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { executionPlan, runGraph } from '../../../src/engine/executor/execute';

export async function openIr(path: string, inputShape?: number[]): Promise<IrModel> {
  return openModel(nodeFileAccess(path), inputShape ? { inputShape } : {});
}

/** Deterministic inputs in [lo, hi) (xorshift). */
export function uniformInput(shape: number[], seed: number, lo = 0, hi = 1): Float32Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = lo + ((state >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/** The executor's outputs, flattened, in model.outputs order. */
export function executorOutputs(model: IrModel, input: Float32Array, forwardOnly = false): Float32Array[] {
  const plan = executionPlan(model);
  return tf.tidy(() => runGraph(model, plan, tf.tensor(input, model.inputs[0].shape), forwardOnly).map((t) => t.dataSync() as Float32Array)).map((d) => Float32Array.from(d));
}

/** onnxruntime's outputs for a model file's path or its bytes, in model.outputs order. */
export async function onnxRuntimeOutputs(source: string | Uint8Array, model: IrModel, input: Float32Array): Promise<Float32Array[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(typeof source === 'string' ? readFileSync(source) : source);
  const feeds = { [model.inputs[0].name]: new ort.Tensor('float32', input, model.inputs[0].shape) };
  const results = await session.run(feeds);
  return model.outputs.map((name) => Float32Array.from(results[name].data as Float32Array));
}

/** The executor, with gradients and forward only, matches onnxruntime to 1e-4 relative. */
export async function assertMatchesOnnxRuntime(label: string, bytes: Uint8Array, model: IrModel, input: Float32Array): Promise<void> {
  const expected = await onnxRuntimeOutputs(bytes, model, input);
  const error = relativeError(executorOutputs(model, input), expected);
  assert.ok(error <= 1e-4, `${label}: relative error ${error}`);
  // The forward-only path (tfjs's depthwise kernel, for one) too.
  const forward = relativeError(executorOutputs(model, input, true), expected);
  assert.ok(forward <= 1e-4, `${label}, forward only: relative error ${forward}`);
}

/** max |a − b| / max |b| over all outputs. */
export function relativeError(actual: Float32Array[], expected: Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, k) => {
    const a = actual[k];
    if (a.length !== e.length) throw new Error(`output ${k}: ${a.length} values, expected ${e.length}`);
    for (let i = 0; i < e.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - e[i]));
      scale = Math.max(scale, Math.abs(e[i]));
    }
  });
  return diff / Math.max(scale, 1e-30);
}

/** tfjs's own runner (tfjs-converter's loadGraphModel, or tfjs-layers' loadLayersModel) on a model.json in this folder. */
export async function tfjsOutputs(path: string, model: IrModel, input: Float32Array): Promise<Float32Array[]> {
  const { dirname, join } = await import('node:path');
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const specs = (json.weightsManifest as { paths: string[]; weights: unknown[] }[]).flatMap((group) => group.weights);
  const buffers = (json.weightsManifest as { paths: string[] }[]).flatMap((group) => group.paths.map((p) => readFileSync(join(dirname(path), p))));
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.length;
  }
  const artifacts = { modelTopology: json.modelTopology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: weightData.buffer, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy };
  const x = tf.tensor(input, model.inputs[0].shape);
  try {
    if (json.format === 'graph-model' || json.modelTopology?.node) {
      const converter = await import('@tensorflow/tfjs-converter');
      const graph = await converter.loadGraphModel(tf.io.fromMemory(artifacts));
      // In the IR's output order (tfjs's own order can differ).
      const out = graph.execute(x, model.outputs);
      const list = Array.isArray(out) ? out : [out];
      const values = list.map((t) => Float32Array.from(t.dataSync()));
      tf.dispose(list);
      graph.dispose();
      return values;
    }
    const layers = await import('@tensorflow/tfjs-layers');
    const net = await layers.loadLayersModel(tf.io.fromMemory(artifacts));
    const out = net.predict(x) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(out) ? out : [out];
    const values = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
    net.dispose();
    return values;
  } finally {
    x.dispose();
  }
}

/** tfjs-converter's loadGraphModel on a hand-built graph (model.json object and its shards in memory), fetching the IR's outputs. */
export async function tfjsMemoryGraphOutputs(json: Record<string, unknown>, shards: Record<string, Uint8Array>, model: IrModel, input: Float32Array): Promise<Float32Array[]> {
  const manifest = json.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  const buffers = manifest.flatMap((group) => group.paths.map((p) => shards[p]));
  const weightData = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.length;
  }
  const converter = await import('@tensorflow/tfjs-converter');
  const graph = await converter.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: manifest.flatMap((g) => g.weights), weightData: weightData.buffer, format: 'graph-model' }));
  const x = tf.tensor(input, model.inputs[0].shape);
  try {
    const out = graph.execute(x, model.outputs);
    const list = Array.isArray(out) ? out : [out];
    const values = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
    return values;
  } finally {
    x.dispose();
    graph.dispose();
  }
}

/** ⟨J(x)ᵀu, v⟩ by autodiff against (f(x + hv) − f(x − hv))·u / 2h, in float64 sums of float32 runs. */
export function gradientError(model: IrModel, input: Float32Array): number {
  const plan = executionPlan(model);
  const shape = model.inputs[0].shape;
  const f = (x: tf.Tensor) => {
    const outs = runGraph(model, plan, tf.reshape(x, shape));
    return tf.concat(outs.map((t) => tf.reshape(t, [-1])));
  };
  const outCount = tf.tidy(() => f(tf.tensor1d(input)).size);
  const u = uniformInput([outCount], 11, -1, 1);
  const v = uniformInput([input.length], 12, -1, 1);
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), tf.tensor1d(u))))(tf.tensor1d(input)).dataSync() as Float32Array);
  let analytic = 0;
  for (let i = 0; i < v.length; i++) analytic += g[i] * v[i];
  const h = 1e-2;
  const at = (sign: number) => tf.tidy(() => f(tf.tensor1d(input.map((x, i) => x + sign * h * v[i]))).dataSync() as Float32Array);
  const [plus, minus] = [at(1), at(-1)];
  let numeric = 0;
  for (let i = 0; i < u.length; i++) numeric += ((plus[i] - minus[i]) * u[i]) / (2 * h);
  return Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-3);
}


/** σ1 of the linear map onnxruntime computes: its output on each basis vector of n inputs, one column each. */
export async function onnxRuntimeExplicitSigma(bytes: Uint8Array, model: IrModel, n: number): Promise<number> {
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = new Float32Array(n);
    e[j] = 1;
    columns.push(Array.from((await onnxRuntimeOutputs(bytes, model, e))[0]));
  }
  return sigma1(new Matrix(columns).transpose());
}

// TF.js models end to end through the bundled CLI (dist/cli.js in a child process), against
// float64 references built here, independently of the engine: weights decoded from the shard
// bytes via the manifest, explicit layer matrices from naive loops with Keras semantics
// (test/helpers/keras-reference.ts), σ1 from ml-matrix's SVD, and network bounds by hand.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LayerResult, Report } from '../../src/protocol/report';
import { activationSpec, SILU_CONSTANT } from '../../src/analysis/constants';
import {
  batchNormConstant,
  conv1dMatrix,
  conv2dMatrix,
  conv2dTransposeMatrix,
  denseMatrix,
  depthwiseMatrix,
  readManifestWeights,
  sigma1,
  type LayerGeometry,
  type Padding,
  type RefTensor,
} from '../helpers/keras-reference';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const fixtures = join(root, 'test', 'fixtures', 'tfjs');

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const reports = new Map<string, Report>();
/** The CLI's --json report (cached per argument list: several tests read the same run). */
function runJson(...args: string[]): Report {
  const key = args.join('\0');
  const cached = reports.get(key);
  if (cached) return cached;
  const { status, stdout, stderr } = run(...args, '--json', '--quiet');
  assert.equal(status, 0, stderr);
  const report = JSON.parse(stdout) as Report;
  reports.set(key, report);
  return report;
}

const exactArgs = ['--tol', '1e-7', '--max-iter', '100'];

function row(report: Report, name: string): LayerResult {
  const found = report.layers.find((layer) => layer.name === name);
  assert.ok(found, `no row named ${name} in ${report.layers.map((l) => l.name).join(', ')}`);
  return found;
}

function relativeError(actual: number, exact: number): number {
  return Math.abs(actual - exact) / Math.abs(exact);
}

before(() => {
  if (!existsSync(cli)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
});

// ---------------------------------------------------------------------------------------------
// Exact per-layer σ for the tfjs-layers fixtures.

type Config = Record<string, unknown>;
interface LayerJson {
  class_name: string;
  config: Config;
}
interface ExpectedLayer {
  name: string;
  className: string;
  inputShape: (number | null)[] | (number | null)[][] | null;
}

/** One row the report must have, with its exact value from the reference. */
interface ExactRow {
  name: string;
  op: string;
  sigma: number;
  /** Input shape the row must report (batch 1), when known from tfjs's own shapes. */
  inputShape?: number[];
  /** Linear rows: σ1 of an explicit matrix; fixed rows: a closed form. */
  linear: boolean;
}

const kerasActivation: Record<string, string> = {
  relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', elu: 'elu', selu: 'selu',
  softplus: 'softplus', softsign: 'softsign', hard_sigmoid: 'hardSigmoid', swish: 'silu', gelu: 'gelu',
};

function pair(value: unknown, name: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  assert.ok(Array.isArray(value) && value.length >= 1, `${name}: ${JSON.stringify(value)}`);
  const v = value as number[];
  return [v[0], v[v.length - 1]];
}

function weight(weights: Map<string, RefTensor>, name: string): RefTensor {
  const w = weights.get(name);
  assert.ok(w, `weight ${name} missing from the manifest`);
  return w;
}

/** Keras layers of a model.json, nested Sequential/Model layers flattened with `outer/inner` names. */
function flatten(layers: LayerJson[], prefix = ''): { rowName: string; layer: LayerJson; nested: boolean }[] {
  const out: { rowName: string; layer: LayerJson; nested: boolean }[] = [];
  for (const layer of layers) {
    const name = String(layer.config.name);
    const inner = layer.config.layers as LayerJson[] | undefined;
    if (inner && (layer.class_name === 'Sequential' || layer.class_name === 'Model' || layer.class_name === 'Functional')) {
      for (const entry of flatten(inner, `${prefix}${name}/`)) out.push({ ...entry, nested: true });
    } else {
      out.push({ rowName: `${prefix}${name}`, layer, nested: prefix !== '' });
    }
  }
  return out;
}

/**
 * The exact rows of one tfjs-layers fixture: every weighted linear layer's σ1 from its explicit
 * float64 matrix on the input shape tfjs itself reports (expected.json), batch norm's
 * max|γ/√(var+ε)|, and each layer's own activation as `<layer>/<activation>`.
 */
function exactRows(folder: string): ExactRow[] {
  const modelPath = join(fixtures, folder, 'model.json');
  const model = JSON.parse(readFileSync(modelPath, 'utf8')) as { modelTopology: { config: { layers: LayerJson[] } | LayerJson[] } };
  const expected = JSON.parse(readFileSync(join(fixtures, folder, 'expected.json'), 'utf8')) as { layers: ExpectedLayer[] };
  const weights = readManifestWeights(modelPath);
  const topology = model.modelTopology.config;
  const layers = Array.isArray(topology) ? topology : topology.layers;
  const rows: ExactRow[] = [];
  for (const { rowName, layer, nested } of flatten(layers)) {
    const c = layer.config;
    const name = String(c.name);
    const tfjsShape = nested ? null : expected.layers.find((l) => l.name === name)?.inputShape;
    const shape = tfjsShape && !Array.isArray(tfjsShape[0]) ? (tfjsShape as (number | null)[]).slice(1).map((d) => d ?? 0) : undefined;
    const channelsFirst = c.data_format === 'channels_first';
    const hwc = (): [number, number, number] => {
      assert.ok(shape && shape.length === 3, `${name}: input shape ${JSON.stringify(tfjsShape)}`);
      return channelsFirst ? [shape[1], shape[2], shape[0]] : [shape[0], shape[1], shape[2]];
    };
    const geometry = (): LayerGeometry => ({
      input: hwc(),
      strides: pair(c.strides, `${name} strides`),
      dilation: pair(c.dilation_rate ?? 1, `${name} dilation`),
      padding: c.padding as Padding,
    });
    const inputShape = shape ? [1, ...shape] : undefined;
    const add = (sigma: number, suffix = '', input = inputShape) =>
      rows.push({ name: rowName + suffix, op: layer.class_name, sigma, inputShape: input, linear: true });
    switch (layer.class_name) {
      case 'Conv2D':
        add(sigma1(conv2dMatrix(weight(weights, `${name}/kernel`), geometry()).matrix));
        break;
      case 'Conv2DTranspose':
        add(sigma1(conv2dTransposeMatrix(weight(weights, `${name}/kernel`), geometry()).matrix));
        break;
      case 'DepthwiseConv2D':
        add(sigma1(depthwiseMatrix(weight(weights, `${name}/depthwise_kernel`), geometry()).matrix));
        break;
      case 'SeparableConv2D': {
        const dw = depthwiseMatrix(weight(weights, `${name}/depthwise_kernel`), geometry());
        add(sigma1(dw.matrix), '/depthwise');
        const pw = conv2dMatrix(weight(weights, `${name}/pointwise_kernel`), { input: dw.outShape, strides: [1, 1], dilation: [1, 1], padding: 'valid' });
        const [h, w, ch] = dw.outShape;
        add(sigma1(pw.matrix), '/pointwise', channelsFirst ? [1, ch, h, w] : [1, h, w, ch]);
        break;
      }
      case 'Conv1D': {
        assert.ok(shape && shape.length === 2 && !channelsFirst, `${name}: input ${JSON.stringify(tfjsShape)}`);
        add(sigma1(conv1dMatrix(weight(weights, `${name}/kernel`), shape[0], pair(c.strides, 'strides')[0], pair(c.dilation_rate ?? 1, 'dilation')[0], c.padding as Padding).matrix));
        break;
      }
      case 'Dense':
        // A Dense on [.., n] acts on the last axis: block diagonal with equal blocks, the same σ1.
        add(sigma1(denseMatrix(weight(weights, `${name}/kernel`))));
        break;
      case 'BatchNormalization': {
        const gamma = c.scale === false ? undefined : weight(weights, `${name}/gamma`);
        rows.push({ name: rowName, op: layer.class_name, sigma: batchNormConstant(gamma, weight(weights, `${name}/moving_variance`), Number(c.epsilon)), inputShape, linear: false });
        break;
      }
      default:
        break;
    }
    const activation = c.activation as string | undefined;
    if (activation !== undefined && activation !== 'linear') {
      const spec = activationSpec(kerasActivation[activation] ?? activation);
      assert.ok(spec && spec.type === 'fixed', `${name}: activation ${activation} has no fixed constant`);
      rows.push({ name: `${rowName}/${activation}`, op: activation, sigma: spec.constant, linear: false });
    }
  }
  return rows;
}

const layersFixtures = ['conv-geometry', 'seq-cnn', 'functional', 'functional-uint8', 'functional-uint16', 'functional-float16', 'channels-first', 'misc-1d-nested'];

describe('tfjs-layers fixtures: every linear layer within 1e-5 of the float64 σ1 of its explicit matrix', () => {
  for (const folder of layersFixtures) {
    test(`${folder}: σ, input shapes, batch norm and activation rows`, () => {
      const expected = exactRows(folder);
      const report = runJson(join(fixtures, folder, 'model.json'), ...exactArgs);
      assert.equal(report.model.format, 'tfjs-layers');
      const failures: string[] = [];
      for (const exact of expected) {
        const actual = row(report, exact.name);
        assert.equal(actual.op, exact.op, `${exact.name} op`);
        if (exact.inputShape) assert.deepEqual(actual.inputShape, exact.inputShape, `${exact.name} input shape`);
        assert.ok(actual.sigma !== null, `${exact.name}: σ null`);
        const error = relativeError(actual.sigma, exact.sigma);
        // Fixed rows are closed forms (float32 weights at most): far tighter than the solver's 1e-5.
        if (error > (exact.linear ? 1e-5 : 1e-6)) failures.push(`${exact.name}: σ ${actual.sigma} vs exact ${exact.sigma} (relative error ${error.toExponential(2)})`);
        if (exact.linear) {
          assert.equal(actual.kind, 'linear', `${exact.name} kind`);
          if (actual.upperBound !== null) assert.ok(actual.upperBound >= exact.sigma * (1 - 1e-6), `${exact.name}: upper bound ${actual.upperBound} below exact ${exact.sigma}`);
        }
      }
      assert.deepEqual(failures, []);
      // Nothing linear goes unchecked: every linear row of the report has its exact σ here.
      const checked = new Set(expected.filter((e) => e.linear).map((e) => e.name));
      assert.ok(checked.size > 0);
      assert.deepEqual(report.layers.filter((l) => l.kind === 'linear' && !checked.has(l.name)).map((l) => l.name), []);
    });
  }

  test('quantised weights: each variant matches its own dequantised σ, and all stay near the float32 model', () => {
    const full = exactRows('functional').filter((r) => r.linear);
    for (const dtype of ['uint8', 'uint16', 'float16']) {
      const quantised = exactRows(`functional-${dtype}`).filter((r) => r.linear);
      const report = runJson(join(fixtures, `functional-${dtype}`, 'model.json'), ...exactArgs);
      for (const q of quantised) {
        const f = full.find((r) => r.name === q.name)!;
        // Dequantisation error bounds how far σ may move: uint8 steps are ~1/255 of the range.
        const allowed = dtype === 'uint8' ? 2e-2 : 2e-3;
        assert.ok(relativeError(q.sigma, f.sigma) < allowed, `${dtype} ${q.name}: reference ${q.sigma} vs float32 ${f.sigma}`);
        assert.ok(relativeError(row(report, q.name).sigma!, q.sigma) < 1e-5);
      }
      // The uint8 and uint16 σ differ from the float32 one: the loader really dequantised (not read raw floats).
      if (dtype !== 'float16') assert.ok(quantised.some((q) => q.sigma !== full.find((r) => r.name === q.name)!.sigma));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Network bounds by hand.

/** √ of the largest number of pooling windows (size k, stride s) covering one input, per axis multiplied. */
function maxPoolConstant(size: [number, number], k: number, s: number): number {
  let worst = 1;
  for (const n of size) {
    const out = Math.floor((n - k) / s) + 1;
    let most = 0;
    for (let x = 0; x < n; x++) {
      let count = 0;
      for (let i = 0; i < out; i++) if (x >= i * s && x < i * s + k) count++;
      most = Math.max(most, count);
    }
    worst *= most;
  }
  return Math.sqrt(worst);
}

describe('network bound, checked by hand (sum at Add, √Σ at Concatenate, product along chains)', () => {
  test('functional: (stem·(1+branch)) ⊕ (stem·side·¼), ELU, Average (1+proj)/2, overlapping max-pool, fc, tanh, logits', () => {
    const s = new Map(exactRows('functional').map((r) => [r.name, r.sigma]));
    const get = (name: string) => s.get(name)!;
    const lrelu = activationSpec('leakyRelu', { alpha: 0.2 });
    const elu = activationSpec('elu', { alpha: 1 });
    assert.ok(lrelu?.type === 'fixed' && elu?.type === 'fixed');
    const residual = get('stem') * (1 + get('branch')) * lrelu.constant;
    const side = get('stem') * get('side') * get('side/sigmoid');
    const cat = Math.hypot(residual, side) * elu.constant;
    const average = (cat + cat * get('proj')) / 2;
    const pool = maxPoolConstant([8, 8], 3, 2);
    assert.equal(pool, 2);
    const byHand = average * pool * get('fc') * get('fc/tanh') * get('logits');
    const report = runJson(join(fixtures, 'functional', 'model.json'), ...exactArgs);
    assert.ok(report.bounds.product !== null);
    assert.ok(relativeError(report.bounds.product, byHand) < 1e-5, `${report.bounds.product} vs ${byHand}`);
    assert.ok(report.bounds.certified === null || report.bounds.certified >= byHand * (1 - 1e-6));
  });

  test('conv-geometry: BN and an Add, a Concatenate with a parallel conv, then a long chain', () => {
    const s = new Map(exactRows('conv-geometry').map((r) => [r.name, r.sigma]));
    const get = (name: string) => {
      assert.ok(s.has(name), name);
      return s.get(name)!;
    };
    const trunk = get('s2_same') * get('s2_same/relu') * get('bn');
    const skip = trunk + trunk * get('dilated');
    const merged = Math.hypot(skip, get('even_kernel'));
    const chain = ['dw_mult2', 'sep_dil/depthwise', 'sep_dil/pointwise', 'sep_dil/relu6', 'up_valid', 'up_same', 'conv1d_s2', 'conv1d_dil', 'conv1d_dil/tanh', 'dense_seq', 'fc', 'fc/swish', 'logits'];
    const byHand = chain.reduce((acc, name) => acc * get(name), merged);
    assert.equal(get('fc/swish'), SILU_CONSTANT);
    const report = runJson(join(fixtures, 'conv-geometry', 'model.json'), ...exactArgs);
    assert.ok(report.bounds.product !== null);
    assert.ok(relativeError(report.bounds.product, byHand) < 1e-5, `${report.bounds.product} vs ${byHand}`);
    assert.ok(report.bounds.certified === null || report.bounds.certified >= byHand * (1 - 1e-6));
  });
});

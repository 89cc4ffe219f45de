// Bounds on an input domain (--input-range, docs/op-coverage.md "Bounds on an input domain"): each
// range rule against its exact answer, the ranges of a real squeeze-and-excitation export against
// values sampled from inputs in the box, its network bound against sampled difference quotients,
// and the CLI flag.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linearRange, nodeRange, type Range } from '../../../src/analysis/ranges';
import { resolveProducts } from '../../../src/analysis/products';
import { compose } from '../../../src/analysis/compose';
import { closedForm } from '../../../src/analysis/closed-form';
import { onnxFormat } from '../../../src/formats/onnx';
import { nodeFileAccess } from '../../../src/host/node-files';
import { parseArgs } from '../../../src/cli/args';
import { openOptions } from '../../../src/host/session';
import { formatTable } from '../../../src/cli/table';
import { graphProblems } from '../../../src/engine/estimate-bounds';
import type { IrModel, IrNode, OpSpec } from '../../../src/model/ir';
import type { Report } from '../../../src/protocol/report';

const OPS = join(__dirname, '..', '..', 'fixtures', 'onnx', 'ops');

function node(op: string, spec: OpSpec, execution?: IrNode['execution']): IrNode {
  return { name: op, op, inputs: ['x'], outputs: ['y'], inputShapes: [[1]], outputShapes: [[1]], spec, weightShape: null, ...(execution ? { execution } : {}) };
}

const conv = (data: number[], cOut: number, pads: number): OpSpec => ({
  type: 'conv', channelsLast: false, weight: { dims: [cOut, 1, data.length / cOut], data: Float32Array.from(data) },
  strides: [1], dilations: [1], padsBegin: [pads], padsEnd: [pads], group: 1,
});

function close(actual: Range | undefined, expected: Range): void {
  assert.ok(actual, `expected ${expected}, got no range`);
  for (const k of [0, 1]) assert.ok(Math.abs(actual[k] - expected[k]) <= 1e-7 * Math.max(1, Math.abs(expected[k])), `${actual} vs ${expected}`);
  assert.ok(actual[0] <= expected[0] && actual[1] >= expected[1], `${actual} does not contain ${expected} (rounded inward)`);
}

test('range rules, exactly: dense and conv with biases, zero padding, transposed conv, batch norm shifts, plain multiplies', () => {
  // Dense [in 2, out 2]: y0 = 2x0 − x1 + 1, y1 = 3x1 − 4; x ∈ [−1, 2]: y0 ∈ [−2 − 2 + 1, 4 + 1 + 1] = [−3, 6], y1 ∈ [−7, 2].
  const dense: OpSpec = { type: 'dense', weight: { dims: [2, 2], data: Float32Array.of(2, 0, -1, 3) } };
  close(nodeRange(node('Gemm', dense, { kind: 'affine', bias: Float32Array.of(1, -4) }), [[-1, 2]]), [-7, 6]);
  // Without the reader's bias record the range is unknown (the bias could be anything).
  assert.equal(nodeRange(node('Gemm', dense), [[-1, 2]]), undefined);
  // Conv taps [1, −2] and [0.5], x ∈ [1, 3]: no padding [1 − 6, 3 − 2] ∪ [0.5, 1.5]; padding lets 0 in: x ∈ [0, 3].
  close(linearRange(node('Conv', conv([1, -2, 0.5, 0], 2, 0), { kind: 'affine' }), conv([1, -2, 0.5, 0], 2, 0) as never, [1, 3]), [-5, 1.5]);
  close(nodeRange(node('Conv', conv([1, -2, 0.5, 0], 2, 1), { kind: 'affine', bias: Float32Array.of(10, 0) }), [[1, 3]]), [0, 13]);
  // ConvTranspose [cIn 1, cOut 1, k 2] taps [1, 1]: an output reads one or two taps, so 0 joins: x ∈ [1, 3] → [0, 6].
  const transposed: OpSpec = { type: 'convTranspose', channelsLast: false, weight: { dims: [1, 1, 2], data: Float32Array.of(1, 1) }, strides: [2], dilations: [1], padsBegin: [0], padsEnd: [0], outputPadding: [0], group: 1 };
  close(nodeRange(node('ConvTranspose', transposed, { kind: 'affine' }), [[1, 3]]), [0, 6]);
  // Batch norm y_c = s_c·x + b_c: per channel, then the hull. s = [2, −1], b = [0, 5], x ∈ [0, 1]: [0, 2] ∪ [4, 5].
  const bn: OpSpec = { type: 'diagonal', scale: Float32Array.of(2, -1), axis: 1 };
  close(nodeRange(node('BatchNormalization', bn, { kind: 'affine', bias: Float32Array.of(0, 5) }), [[0, 1]]), [0, 5]);
  assert.equal(nodeRange(node('BatchNormalization', bn), [[0, 1]]), undefined, 'a batch norm whose shift was not recorded');
  // A plain multiply without a record: ±max|s| (its recorded multipliers may be sizes only).
  close(nodeRange(node('Mul', bn), [[0, 1]]), [-2, 2]);
  // Monotone maps of intervals: hard-sigmoid clip(x/6 + 1/2, 0, 1) on [−6, 0] is [0, 0.5].
  close(nodeRange(node('HardSigmoid', { type: 'fixed', kind: 'activation', constant: 1 / 6, values: { kind: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 } }), [[-6, 0]]), [0, 0.5]);
  close(nodeRange(node('Relu', { type: 'fixed', kind: 'activation', constant: 1, values: { kind: 'clip', min: 0, max: Infinity } }), [[-3, 2]]), [0, 2]);
});

/** The squeeze-excitation export, its product left unresolved by the reader (no domain), and its layers' exact σ. */
async function squeezeExcite(): Promise<{ model: IrModel; sigmas: Map<string, number> }> {
  const path = join(OPS, 'squeeze_excite.onnx');
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
  const reference = JSON.parse(readFileSync(join(OPS, 'squeeze_excite.json'), 'utf8')) as { convs: { module: string; sigma: number }[] };
  return { model, sigmas: new Map(reference.convs.map((c) => [`/${c.module}/Conv`, c.sigma])) };
}

/** A forward run of the export's rows, written independently of the range rules: NCHW conv, global mean, hard-sigmoid, broadcast product. */
function forward(model: IrModel, input: Float64Array): Map<string, Float64Array> {
  const values = new Map<string, Float64Array>([[model.inputs[0].name, input]]);
  for (const n of model.nodes) {
    const [cIn, h, w] = n.inputShapes[0].slice(1);
    const x = values.get(n.inputs[0]) as Float64Array;
    let y: Float64Array;
    if (n.op === 'Conv' && n.spec.type === 'conv') {
      const { dims, data } = n.spec.weight;
      const [cOut, , kh, kw] = dims;
      const [ph, pw] = n.spec.padsBegin;
      const [oh, ow] = n.outputShapes[0].slice(2);
      const bias = n.execution?.kind === 'affine' ? n.execution.bias : undefined;
      y = new Float64Array(cOut * oh * ow);
      for (let o = 0; o < cOut; o++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        let sum = bias ? bias[o] : 0;
        for (let c = 0; c < cIn; c++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
          const [r, s] = [i + a - ph, j + b - pw];
          if (r >= 0 && r < h && s >= 0 && s < w) sum += data[((o * cIn + c) * kh + a) * kw + b] * x[(c * h + r) * w + s];
        }
        y[(o * oh + i) * ow + j] = sum;
      }
    } else if (n.op === 'GlobalAveragePool') {
      y = Float64Array.from({ length: cIn }, (_, c) => x.subarray(c * h * w, (c + 1) * h * w).reduce((s, v) => s + v, 0) / (h * w));
    } else if (n.op === 'HardSigmoid') {
      y = x.map((v) => Math.min(Math.max(v / 6 + 0.5, 0), 1));
    } else if (n.op === 'Mul') {
      const gate = values.get(n.inputs[1]) as Float64Array;
      y = x.map((v, k) => v * gate[Math.floor(k / (h * w))]);
    } else throw new Error(`no forward for ${n.op}`);
    values.set(n.outputs[0], y);
  }
  return values;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const BOX: [number, number] = [-2.2, 2.7];

/** An input in the box: entries at the box's corners (where linear maps reach their extremes) or inside it. */
function sampleInput(random: () => number, size: number): Float64Array {
  return Float64Array.from({ length: size }, () => {
    const u = random();
    return u < 0.3 ? BOX[0] : u < 0.6 ? BOX[1] : BOX[0] + random() * (BOX[1] - BOX[0]);
  });
}

test('squeeze-excitation export: every value sampled from inputs in the box lies in its certified range', async () => {
  const { model } = await squeezeExcite();
  const ranges = resolveProducts(model, BOX);
  const random = lcg(7);
  const size = model.inputs[0].shape.reduce((a, b) => a * b, 1);
  const names = model.nodes.flatMap((n) => n.outputs);
  assert.ok(names.every((name) => ranges.has(name)), `a value without a range: ${names.filter((n) => !ranges.has(n))}`);
  const reached = new Map([model.inputs[0].name, ...names].map((name) => [name, [Infinity, -Infinity]]));
  for (let trial = 0; trial < 300; trial++) {
    for (const [name, value] of forward(model, sampleInput(random, size))) {
      const range = ranges.get(name);
      if (!range) continue;
      for (const v of value) {
        assert.ok(v >= range[0] && v <= range[1], `${name}: ${v} outside [${range}]`);
        const seen = reached.get(name) as number[];
        seen[0] = Math.min(seen[0], v);
        seen[1] = Math.max(seen[1], v);
      }
    }
  }
  // Not vacuous: the conv's range is reached within a factor (scalar intervals over-approximate).
  const [lo, hi] = ranges.get('/conv/Conv_output_0') as Range;
  const seen = reached.get('/conv/Conv_output_0') as number[];
  assert.ok(seen[1] > hi / 3 && seen[0] < lo / 3, `conv range [${lo}, ${hi}] far from sampled [${seen}]`);
});

test('squeeze-excitation export: finite on the box, ≥ every sampled difference quotient there; unbounded without it', async () => {
  const { model, sigmas } = await squeezeExcite();
  const constants = () => model.nodes.map((n) => sigmas.get(n.name) ?? closedForm(n)?.compositionConstant);
  assert.equal(compose(model, constants()).network, Infinity, 'globally: unbounded');
  resolveProducts(model, BOX);
  const mul = model.nodes.find((n) => n.op === 'Mul') as IrNode;
  assert.ok(mul.spec.type === 'add' && mul.spec.domain, JSON.stringify(mul.spec));
  assert.match(mul.spec.detail ?? '', /bounded only for inputs in \[-2\.2, 2\.7\]/);
  assert.deepEqual(model.domain, { inputRange: BOX });
  const bound = compose(model, constants()).network as number;
  assert.ok(Number.isFinite(bound) && bound > 0, `bound ${bound}`);

  const random = lcg(11);
  const size = model.inputs[0].shape.reduce((a, b) => a * b, 1);
  const output = model.outputs[0];
  let largest = 0;
  for (let trial = 0; trial < 400; trial++) {
    const x = sampleInput(random, size);
    const scale = [1e-3, 0.05, 0.5, 2][trial % 4];
    const x2 = x.map((v) => Math.min(Math.max(v + scale * (random() - 0.5), BOX[0]), BOX[1]));
    const [y, y2] = [forward(model, x).get(output) as Float64Array, forward(model, x2).get(output) as Float64Array];
    const dy = Math.hypot(...y.map((v, k) => v - y2[k]));
    const dx = Math.hypot(...x.map((v, k) => v - x2[k]));
    if (dx > 0) largest = Math.max(largest, dy / dx);
  }
  assert.ok(largest > 0.1, `sampled quotients all tiny (${largest}): the check would be vacuous`);
  assert.ok(bound >= largest, `bound ${bound} below a sampled quotient ${largest}`);
});

test('--input-range: parsed, passed to the reader, malformed values refused; the table says where the bound holds', () => {
  const parsed = parseArgs(['m.onnx', '--input-range', '-2.2,2.7']);
  assert.ok(parsed.kind === 'run');
  assert.deepEqual(parsed.options.settings.inputRange, [-2.2, 2.7]);
  assert.deepEqual(openOptions(parsed.options.settings), { inputRange: [-2.2, 2.7] });
  for (const bad of ['1', '2,1', 'a,b', '0,1,2']) assert.throws(() => parseArgs(['m.onnx', '--input-range', bad]), /--input-range must be LO,HI/);
  const report: Report = {
    model: { path: 'm.onnx', format: 'onnx', inputShape: [1, 3] },
    layers: [],
    bounds: { product: 2, certified: 3, unsupported: [], domain: { inputRange: [-2.2, 2.7] } },
    seconds: 0,
  };
  assert.match(formatTable(report), /network bound: +L ≤ 3 on inputs in \[-2\.2, 2\.7\]/);
  assert.doesNotMatch(formatTable({ ...report, bounds: { product: 2, certified: 3, unsupported: [] } }), /on inputs in/);
});

test('the reader takes the domain from its options: PaddleOCR\'s direction classifier (9 squeeze-excitation products) lose every unbounded row', async () => {
  const open = async (path: string, inputRange?: [number, number]) => onnxFormat.open(readFileSync(path), nodeFileAccess(path), { inputShape: [1, 3, 48, 192], ...(inputRange ? { inputRange } : {}) });
  const paddle = join(__dirname, '..', '..', 'fixtures', 'onnx', 'paddle', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const unboundedRows = (model: IrModel) => model.nodes.filter((n) => n.spec.type === 'unbounded').length;
  assert.equal(unboundedRows(await open(paddle)), 9);
  const onBox = await open(paddle, BOX);
  assert.equal(unboundedRows(onBox), 0);
  assert.equal(onBox.nodes.filter((n) => n.spec.type === 'add' && n.spec.domain).length, 9);
  assert.deepEqual(graphProblems(onBox).domain, { inputRange: BOX });
  assert.equal(graphProblems(await open(paddle)).domain, undefined);
});

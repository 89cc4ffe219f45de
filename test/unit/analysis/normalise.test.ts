// Normalisations with ε > 0, products of two data matrices (attention), inputs held fixed with a
// given range, and the STFT magnitude (docs/op-coverage.md, "Normalisation layers", "Products of two
// data matrices", "Inputs held fixed"). The constants are checked against finite-difference
// Jacobians (their exact value at the worst point), and every network bound against PyTorch's
// float64 Jacobian norms at the worst point and at sampled points (scripts/fixtures/export_normalise.py).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix } from 'ml-matrix';
import { normalisationConstant, normalisedEntryBound, layerNormBound, type Spread } from '../../../src/analysis/layer-norm';
import { runSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';
import { onnxFormat } from '../../../src/formats/onnx';
import { parseArgs } from '../../../src/cli/args';
import { formatTable } from '../../../src/cli/table';
import { DEFAULT_SETTINGS, type EstimateSettings, type Report } from '../../../src/protocol/report';
import { largestSingularValue } from '../../helpers/explicit-matrix';

const DIR = join(__dirname, '..', '..', 'fixtures', 'onnx', 'normalise');
const reference = JSON.parse(readFileSync(join(DIR, 'normalise.json'), 'utf8'));

/** y / h(‖y‖) for the spread's h. */
function normalise(spread: Spread, y: number[]): number[] {
  const r2 = y.reduce((s, v) => s + v * v, 0);
  let inner = spread.c * r2;
  if (spread.inner) inner = spread.inner.kind === 'add' ? inner + spread.inner.epsilon : Math.max(inner, spread.inner.epsilon);
  let h = Math.sqrt(inner);
  if (spread.outer) h = spread.outer.kind === 'add' ? h + spread.outer.epsilon : Math.max(h, spread.outer.epsilon);
  return y.map((v) => v / h);
}

/** ‖J‖₂ of y ↦ normalise(y) at y by central differences. */
function jacobianNorm(spread: Spread, y: number[]): number {
  const n = y.length;
  const jacobian = new Matrix(n, n);
  const step = 1e-7 * Math.max(1e-3, Math.hypot(...y));
  for (let j = 0; j < n; j++) {
    const plus = normalise(spread, y.map((v, i) => (i === j ? v + step : v)));
    const minus = normalise(spread, y.map((v, i) => (i === j ? v - step : v)));
    for (let i = 0; i < n; i++) jacobian.set(i, j, (plus[i] - minus[i]) / (2 * step));
  }
  return largestSingularValue(jacobian);
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

test('y/h(‖y‖): the constant 1/h(0) is reached at y = 0 and bounds the Jacobian everywhere, for every ε form', () => {
  const forms: Spread[] = [
    { c: 1 / 6, inner: { kind: 'add', epsilon: 1e-2 } },
    { c: 1 / 6, inner: { kind: 'max', epsilon: 1e-2 } },
    { c: 1, outer: { kind: 'add', epsilon: 0.05 } },
    { c: 1, outer: { kind: 'max', epsilon: 0.05 } },
    { c: 1 / 6, inner: { kind: 'add', epsilon: 1e-2 }, outer: { kind: 'add', epsilon: 0.03 } },
    { c: 1, inner: { kind: 'max', epsilon: 4e-4 }, outer: { kind: 'max', epsilon: 0.01 } },
  ];
  const next = random(7);
  for (const spread of forms) {
    const constant = normalisationConstant(spread);
    const atZero = jacobianNorm(spread, [0, 0, 0, 0, 0, 0]);
    assert.ok(Math.abs(atZero - constant) < 1e-5 * constant, `${JSON.stringify(spread)}: ‖J(0)‖ ${atZero} vs ${constant}`);
    let largestEntry = 0;
    for (let k = 0; k < 300; k++) {
      const scale = 10 ** (3 * next() * 2 - 2);
      const y = Array.from({ length: 6 }, () => next() * scale);
      // Off the kinks of the max forms (the derivative is one-sided there).
      const slope = jacobianNorm(spread, y);
      assert.ok(slope <= constant * (1 + 1e-5), `${JSON.stringify(spread)}: ‖J‖ ${slope} > ${constant} at scale ${scale}`);
      largestEntry = Math.max(largestEntry, ...normalise(spread, y).map(Math.abs));
    }
    assert.ok(largestEntry <= normalisedEntryBound(spread, 6, false), `entries ${largestEntry}`);
  }
  assert.equal(normalisationConstant({ c: 1 / 6 }), Infinity, 'ε = 0: unbounded');
  // Centred vectors: |y_i| ≤ √((n − 1)/n)·‖y‖, reached at (n − 1, −1, …, −1); the layer norm's entries tend to √(n − 1).
  const spread: Spread = { c: 1 / 6, inner: { kind: 'add', epsilon: 1e-12 } };
  const extreme = normalise(spread, [5, -1, -1, -1, -1, -1]);
  assert.ok(Math.abs(extreme[0] - normalisedEntryBound(spread, 6, true)) < 1e-9 && normalisedEntryBound(spread, 6, true) - Math.sqrt(5) < 1e-12);
  // With γ and β: β ± √(n − 1)·|γ| per entry, hulled; the constant max|γ|/√ε.
  const { constant, range } = layerNormBound(1e-4, 6, [0.5, -2], [1, -1]);
  assert.ok(Math.abs(constant - 200) < 1e-9);
  // Entry 0 in 1 ± 0.5·√5, entry 1 in −1 ± 2·√5: the hull is the second.
  assert.ok(range && Math.abs(range[0] - (-1 - 2 * Math.sqrt(5))) < 1e-6 && Math.abs(range[1] - (-1 + 2 * Math.sqrt(5))) < 1e-6, `${range}`);
});

const SETTINGS: EstimateSettings = { ...DEFAULT_SETTINGS, threads: 1, bracket: 'off' };

async function run(file: string, settings: Partial<EstimateSettings> = {}): Promise<Report> {
  return runSession(nodeFileAccess(join(DIR, file)), { ...SETTINGS, ...settings });
}

function near(actual: number | null, expected: number, relative = 1e-6): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= relative * expected, `${actual} vs ${expected}`);
}

test('normalisation layers get max|γ|/√ε: written out (layer, RMS, L2) and as ops (LayerNormalization, InstanceNormalization, group norm)', async () => {
  const ln = reference.layerNorm;
  for (const file of ['layer_norm_written.onnx', 'layer_norm_op.onnx']) {
    const report = await run(file);
    assert.equal(report.bounds.unbounded, undefined, `${file}: ${JSON.stringify(report.bounds.unbounded)}`);
    // Certified: max|γ|/√ε; PyTorch's Jacobian norm where the input has no spread, ‖diag(γ)P‖/√ε, is below it.
    near(report.bounds.certified, ln.maxAbsGamma / Math.sqrt(ln.epsilon));
    assert.ok((report.bounds.certified as number) >= ln.jacobianAtNoSpread && ln.jacobianAtNoSpread >= ln.sampled);
    const row = report.layers.find((l) => /^layer norm.*≤/.test(l.note ?? ''));
    assert.match(row?.note ?? '', /≤ (max\|γ\|\/)?1?\/?√ε.*ε = 1e-5/, file);
  }
  const written = await onnxFormat.open(readFileSync(join(DIR, 'layer_norm_written.onnx')), nodeFileAccess(join(DIR, 'layer_norm_written.onnx')), {});
  const divide = written.nodes.find((n) => n.op === 'Div');
  assert.ok(divide?.spec.type === 'fixed' && divide.inputs.length === 1 && divide.inputs[0] === 'x', JSON.stringify(divide?.spec));
  assert.ok(written.nodes.filter((n) => n.op === 'Pow' || n.op === 'Sqrt').every((n) => n.spec.type === 'fixed' && n.spec.constant === 0 && /counted there/.test(n.spec.detail ?? '')));

  // RMS norm and L2 normalisation are not centred: the bound is reached exactly at 0.
  const rms = await run('rms_norm_written.onnx');
  near(rms.bounds.certified, reference.rmsNorm.jacobianAtZero);
  assert.match(rms.layers.map((l) => l.note).join('\n'), /RMS norm written out/);
  const l2 = await run('l2_normalise_written.onnx');
  near(l2.bounds.certified, reference.l2Normalise.jacobianAtZero);
  assert.match(l2.layers.map((l) => l.note).join('\n'), /L2 normalisation written out.*1\/ε/);

  const instance = await run('instance_norm.onnx');
  near(instance.bounds.certified, reference.instanceNorm.jacobianAtNoSpread);
  const group = await run('group_norm.onnx');
  near(group.bounds.certified, reference.groupNorm.jacobianAtNoSpread);
  for (const r of [rms, l2, instance, group]) assert.equal(r.bounds.unbounded, undefined);
});

test('attention: softmax(qkᵀ)v of layer-normed projections is bounded for all inputs; straight from the input only on a box', async () => {
  const attention = await run('attention.onnx');
  assert.equal(attention.bounds.unbounded, undefined, JSON.stringify(attention.bounds.unbounded));
  assert.ok(attention.bounds.certified !== null && Number.isFinite(attention.bounds.certified) && attention.bounds.certified >= reference.attention.sampled, `${attention.bounds.certified}`);
  const matmuls = attention.layers.filter((l) => l.op === 'MatMul' && /bounded data matrices/.test(l.note ?? ''));
  assert.equal(matmuls.length, 2);
  assert.ok(matmuls.some((l) => /softmax rows: ≤ √4/.test(l.note ?? '')), 'the softmax factor is bounded by its rows');

  const bare = await run('bare_attention.onnx');
  assert.equal(bare.bounds.certified, null);
  assert.ok(bare.bounds.unbounded?.some((u) => /MatMul of two data-dependent tensors.*no bounded range/.test(u.reason)), JSON.stringify(bare.bounds.unbounded));
  const onBox = await run('bare_attention.onnx', { inputRange: [-1, 1] });
  assert.ok(onBox.bounds.certified !== null && onBox.bounds.certified >= reference.bareAttention.sampled, `${onBox.bounds.certified}`);
  assert.deepEqual(onBox.bounds.domain, { inputRange: [-1, 1] });
});

test('an LSTM whose initial states are inputs held fixed: unbounded naming the input and the flag, finite with its range', async () => {
  const held = await run('held_state.onnx', { inputShape: [5, 1, 3] });
  assert.equal(held.bounds.certified, null);
  const reason = held.bounds.unbounded?.map((u) => u.reason).join('\n') ?? '';
  assert.match(reason, /"c0".*--input-range c0=LO,HI/);
  const given = await run('held_state.onnx', { inputShape: [5, 1, 3], inputRanges: { c0: [-1, 1], h0: [-1, 1] } });
  assert.ok(given.bounds.certified !== null && given.bounds.certified >= reference.heldState.sampled, `${given.bounds.certified}`);
  assert.deepEqual(given.bounds.fixedInputRanges, { c0: [-1, 1], h0: [-1, 1] });
  assert.match(formatTable(given), /with c0 in \[-1, 1\], h0 in \[-1, 1\] held fixed/);
  // A larger state gives a larger bound (the cell state's size enters every step).
  const wider = await run('held_state.onnx', { inputShape: [5, 1, 3], inputRanges: { c0: [-3, 3] } });
  assert.ok((wider.bounds.certified as number) > (given.bounds.certified as number));
  // Named and unnamed ranges on the CLI; an input the model does not have is an error.
  const parsed = parseArgs(['m.onnx', '--input-range', 'c0=-1,1', '--input-range=-2,2']);
  assert.ok(parsed.kind === 'run');
  assert.deepEqual([parsed.options.settings.inputRanges, parsed.options.settings.inputRange], [{ c0: [-1, 1] }, [-2, 2]]);
  assert.throws(() => parseArgs(['m.onnx', '--input-range', 'c0=1,-1']), /LO ≤ HI/);
  await assert.rejects(run('held_state.onnx', { inputShape: [5, 1, 3], inputRanges: { state: [0, 1] } }), /no input "state"/);
});

test('an STFT magnitude √(re² + im²) is 1-Lipschitz jointly, and log(1024·m + 1) has slope ≤ 1', async () => {
  const report = await run('stft_log.onnx');
  assert.equal(report.bounds.unbounded, undefined, JSON.stringify(report.bounds.unbounded));
  assert.ok(report.bounds.certified !== null && report.bounds.certified >= reference.stftLog.sampled, `${report.bounds.certified}`);
  assert.match(report.layers.map((l) => l.note).join('\n'), /modulus/);
  assert.match(report.layers.map((l) => l.note).join('\n'), /log of values ≥ 1\.000/);
});

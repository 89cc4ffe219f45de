// The bracket in the pipeline: the per-node certified constants it expands are exactly the ones
// bounds.certified composes; the session adds lower ≤ certifiedTight ≤ certified; chains and slopes;
// the CLI options; the .npy reader.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compose } from '../../../src/analysis/compose';
import { certifiedConstants } from '../../../src/engine/bracket';
import { findChains, slopesOf } from '../../../src/engine/bracket/chains';
import { runSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';
import { parseNpy } from '../../../src/host/samples';
import { parseArgs } from '../../../src/cli/args';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import { openIr } from './reference-runtimes';

const RESIDUAL = join(__dirname, '../../fixtures/onnx/torch/residual.onnx');

test('the session brackets a small model: measured lower ≤ certifiedTight ≤ certified, and the expanded constants compose to bounds.certified', async () => {
  const report = await runSession(nodeFileAccess(RESIDUAL), { ...DEFAULT_SETTINGS, bracket: 'auto' });
  const { lower, certifiedTight, certified, bracket } = report.bounds;
  assert.ok(typeof lower === 'number' && lower > 0, `lower ${lower}`);
  assert.ok(typeof certifiedTight === 'number' && certified !== null);
  assert.ok(lower <= certifiedTight && certifiedTight <= certified, `${lower} ≤ ${certifiedTight} ≤ ${certified}`);
  assert.ok(bracket && bracket.width !== null && Math.abs(bracket.width - certifiedTight / lower) < 1e-12 * bracket.width);
  const model = await openIr(RESIDUAL);
  const network = compose(model, certifiedConstants(model, report.layers)).network as number;
  assert.ok(Math.abs(network - certified) <= 1e-12 * certified, `${network} vs ${certified}`);
  // The residual block's branch is a chain; the add and what follows are composed by the graph rules.
  assert.ok(bracket.upper.chains.length >= 1);
});

test('without the bracket the report has none of its fields', async () => {
  const report = await runSession(nodeFileAccess(RESIDUAL), { ...DEFAULT_SETTINGS, bracket: 'off' });
  assert.equal(report.bounds.lower, undefined);
  assert.equal(report.bounds.certifiedTight, undefined);
  assert.equal(report.bounds.bracket, undefined);
});

test('chains split at merges into linear groups and non-linear maps; slopes from the activation', async () => {
  const model = await openIr(RESIDUAL);
  const constants = model.nodes.map(() => 1);
  const chains = findChains(model, constants);
  for (const chain of chains) {
    assert.equal(chain.linear.length, chain.nonlinear.length + 1);
    for (const index of chain.nodes) assert.ok(!['add', 'concat'].includes(model.nodes[index].spec.type));
  }
  const relu = model.nodes.find((node) => node.execution?.kind === 'activation' && node.execution.name === 'relu');
  assert.ok(relu);
  assert.deepEqual({ ...slopesOf(relu, 1), source: '' }, { c: 0.5, rho: 0.5, source: '' });
  const leaky = { ...relu, execution: { kind: 'activation' as const, name: 'leakyRelu', alpha: 0.2 } };
  const s = slopesOf(leaky, 1);
  assert.ok(Math.abs(s.c - 0.6) < 1e-15 && Math.abs(s.rho - 0.4) < 1e-15);
  assert.deepEqual({ ...slopesOf({ ...relu, execution: undefined }, 2), source: '' }, { c: 0, rho: 2, source: '' });
});

test('CLI: --bracket, --input-range, --samples and --fail-above-measured', () => {
  const run = (...args: string[]) => {
    const parsed = parseArgs(['m.onnx', ...args]);
    assert.equal(parsed.kind, 'run');
    return parsed.kind === 'run' ? parsed.options : undefined;
  };
  assert.equal(run()?.settings.bracket, 'auto');
  assert.equal(run('--bracket')?.settings.bracket, 'on');
  assert.equal(run('--bracket=off')?.settings.bracket, 'off');
  assert.deepEqual(run('--input-range', '-1,1')?.settings.inputRange, [-1, 1]);
  assert.equal(run('--fail-above-measured', '3')?.failAboveMeasured, 3);
  assert.equal(run('--fail-above-measured', '3')?.settings.bracket, 'on');
  assert.equal(run('--samples', 'dir')?.samples, 'dir');
  assert.throws(() => parseArgs(['m.onnx', '--input-range', '1,0']), /LO < HI/);
  assert.throws(() => parseArgs(['m.onnx', '--bracket=maybe']), /on, auto or off/);
});

test('.npy samples: float32 and float64, C order', () => {
  const npy = (descr: string, values: ArrayLike<number>, Type: Float32ArrayConstructor | Float64ArrayConstructor) => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${values.length},), }`;
    while ((10 + header.length + 1) % 64 !== 0) header += ' ';
    header += '\n';
    const head = new Uint8Array(10 + header.length);
    head.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), 1, 0]);
    new DataView(head.buffer).setUint16(8, header.length, true);
    head.set(new TextEncoder().encode(header), 10);
    const data = new Uint8Array(Type.from(values).buffer);
    const out = new Uint8Array(head.length + data.length);
    out.set(head);
    out.set(data, head.length);
    return out;
  };
  assert.deepEqual(Array.from(parseNpy(npy('<f4', [1, 2.5, -3], Float32Array))), [1, 2.5, -3]);
  assert.deepEqual(Array.from(parseNpy(npy('<f8', [0.5, 4], Float64Array))), [0.5, 4]);
  assert.throws(() => parseNpy(npy('<i4', [1], Float32Array)), /float32 or float64/);
});

// "Broken and hostile model files": a mutation test set generated from the real and built models.
// Every case must end, within the time limit, in a one-line ModelError naming the file or in a
// report; never another exception, never a hang, never an allocation its bytes do not justify.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../../../src/host/start-backend';
import { readFileSync, writeFileSync } from 'node:fs';
import { nodeFileAccess } from '../../../src/host/node-files';
import { runSession } from '../../../src/host/session';
import { memoryFileAccess } from '../../../src/model/memory-files';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import { countAllocations, runFamily, setScratchRoot, writeFolder, type Case } from './harness';
import { ensureCli, runCli, spread } from './cli-sample';
import { ONNX_SOURCES, onnxBitFlips, onnxDeclaredSizes, onnxFoldBombs, onnxGraphs, onnxLyingLengths, onnxMagic, onnxTruncation, single, sourceBytes } from './onnx-cases';
import { tfjsBitFlips, tfjsBombs, tfjsHostileJson, tfjsManifest, tfjsShardTruncation, tfjsTruncation } from './tfjs-cases';
import { fileCases, nonFiniteCases, unreadableCases } from './special-cases';

const families: [string, () => Case[]][] = [
  ['onnx truncation', onnxTruncation],
  ['onnx bit flips', onnxBitFlips],
  ['onnx wrong magic', onnxMagic],
  ['onnx lying protobuf lengths', onnxLyingLengths],
  ['onnx declared sizes, huge / negative / zero dims, external data', onnxDeclaredSizes],
  ['onnx graph structure', onnxGraphs],
  ['onnx constant folding and shape bombs', onnxFoldBombs],
  ['tfjs model.json truncation', tfjsTruncation],
  ['tfjs shard truncation', tfjsShardTruncation],
  ['tfjs bit flips', tfjsBitFlips],
  ['tfjs manifest', tfjsManifest],
  ['tfjs hostile JSON', tfjsHostileJson],
  ['tfjs inline constants and shape bombs', tfjsBombs],
  ['files: empty, directories, FIFOs, devices, symlink loops, size limit', fileCases],
  ['NaN / Inf weights make the layer and the bound invalid', nonFiniteCases],
];

const only = process.env.LL_ROBUSTNESS_FAMILY;
let total = 0;
/** Cases that ended in a ModelError in-process, per family, for the CLI sample. */
const refused = new Map<string, Case[]>();
const started = performance.now();
let scratch = '';

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'll-robustness-'));
  setScratchRoot(scratch);
  await startBackend();
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
  console.log(`robustness: ${total} cases in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

test('robustness: unreadable files (chmod 000)', async (t) => {
  const { cases, skip } = unreadableCases();
  if (skip) {
    t.skip(skip);
    return;
  }
  const result = await runFamily(cases);
  total += result.cases;
  console.log(`robustness: unreadable files: ${result.cases} cases`);
  assert.deepEqual(result.failures, []);
});

for (const [name, make] of families) {
  if (only && !name.includes(only)) continue;
  test(`robustness: ${name}`, { timeout: 120_000 }, async (t) => {
    const cases = make();
    const result = await runFamily(cases);
    total += result.cases;
    refused.set(name, result.refused);
    const line = `${name}: ${result.cases} cases (${result.errors} ModelErrors, ${result.reports} reports)`;
    t.diagnostic(line);
    console.log(`robustness: ${line}`);
    assert.ok(result.cases >= 5, `${name} generated only ${result.cases} cases`);
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.cases} cases failed:\n${result.failures.join('\n')}`);
  });
}

test('robustness: the allocation counter sees an eager allocation (so the huge-dims checks can fail)', async () => {
  const counted = await countAllocations(async () => Float32Array.from(new Float64Array(2 ** 20)));
  assert.equal(counted.largest, 8 * 2 ** 20);
  const thrown = await countAllocations(async () => {
    new ArrayBuffer(3_000_000);
    throw new Error('refused');
  });
  assert.equal(thrown.largest, 3_000_000);
  assert.ok(thrown.error instanceof Error);
  assert.ok(new Float32Array(1) instanceof Float32Array, 'constructors restored');
});

test('robustness: a model file rewritten during the run marks the report stale', { timeout: 120_000 }, async () => {
  const bytes = sourceBytes(ONNX_SOURCES[0]);
  const settings = { ...DEFAULT_SETTINGS, maxIter: 3, tol: 0.1 };
  const rewrite = async (change: (path: string) => void) => {
    const path = writeFolder(single('stale.onnx', bytes), 'stale');
    let rewritten = 0;
    const report = await runSession(nodeFileAccess(path), settings, {
      onLayer: () => {
        if (rewritten++ === 0) change(path);
      },
    });
    assert.ok(rewritten > 0, 'onLayer ran');
    return { path, stale: (report.warnings ?? []).filter((w) => /changed during the run/.test(w)) };
  };
  const untouched = await rewrite(() => undefined);
  assert.deepEqual(untouched.stale, [], 'an untouched file is not stale');
  const shorter = await rewrite((path) => writeFileSync(path, bytes.subarray(0, bytes.length - 100)));
  assert.equal(shorter.stale.length, 1, 'a rewritten (shorter) file is stale');
  assert.ok(shorter.stale[0].startsWith(shorter.path), shorter.stale[0]);
  const sameSize = await rewrite((path) => {
    const changed = readFileSync(path);
    changed[changed.length - 1] ^= 1;
    writeFileSync(path, changed);
  });
  assert.equal(sameSize.stale.length, 1, 'a rewritten file of the same size is stale (by its modification time)');
  // Bytes already in memory cannot change under the run: no stat, no warning, no crash.
  const memory = await runSession(memoryFileAccess('stale.onnx', { 'stale.onnx': bytes }), settings);
  assert.ok(!(memory.warnings ?? []).some((w) => /changed during the run/.test(w)));
});

test('robustness: a sample of refused cases through the CLI: exit 2, empty stdout, one stderr line', { timeout: 180_000 }, async (t) => {
  ensureCli();
  const sample = [...refused.values()].flatMap((cases) => spread(cases, 2));
  if (only && sample.length === 0) {
    t.skip('no refused cases in the families run');
    return;
  }
  if (!only) assert.ok(sample.length >= 20, `only ${sample.length} refused cases to sample`);
  const failures = await runCli(sample);
  total += sample.length;
  console.log(`robustness: CLI sample: ${sample.length} cases`);
  assert.deepEqual(failures, [], failures.join('\n'));
});

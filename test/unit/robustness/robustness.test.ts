// "Broken and hostile model files": a mutation test set generated from the real and built models.
// Every case must end, within the time limit, in a one-line ModelError naming the file or in a
// report; never another exception, never a hang, never an allocation its bytes do not justify.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../../../src/host/session';
import { runFamily, setScratchRoot, type Case } from './harness';
import { onnxBitFlips, onnxDeclaredSizes, onnxGraphs, onnxLyingLengths, onnxMagic, onnxTruncation } from './onnx-cases';
import { tfjsBitFlips, tfjsHostileJson, tfjsManifest, tfjsShardTruncation, tfjsTruncation } from './tfjs-cases';

const families: [string, () => Case[]][] = [
  ['onnx truncation', onnxTruncation],
  ['onnx bit flips', onnxBitFlips],
  ['onnx wrong magic', onnxMagic],
  ['onnx lying protobuf lengths', onnxLyingLengths],
  ['onnx declared sizes, huge / negative / zero dims, external data', onnxDeclaredSizes],
  ['onnx graph structure', onnxGraphs],
  ['tfjs model.json truncation', tfjsTruncation],
  ['tfjs shard truncation', tfjsShardTruncation],
  ['tfjs bit flips', tfjsBitFlips],
  ['tfjs manifest', tfjsManifest],
  ['tfjs hostile JSON', tfjsHostileJson],
];

const only = process.env.LL_ROBUSTNESS_FAMILY;
let total = 0;
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

for (const [name, make] of families) {
  if (only && !name.includes(only)) continue;
  test(`robustness: ${name}`, { timeout: 120_000 }, async (t) => {
    const cases = make();
    const result = await runFamily(cases);
    total += result.cases;
    const line = `${name}: ${result.cases} cases (${result.errors} ModelErrors, ${result.reports} reports)`;
    t.diagnostic(line);
    console.log(`robustness: ${line}`);
    assert.ok(result.cases >= 5, `${name} generated only ${result.cases} cases`);
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.cases} cases failed:\n${result.failures.join('\n')}`);
  });
}

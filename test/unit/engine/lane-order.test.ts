// Which layer each lane takes next: with several lanes, lane 0 takes the cheapest during the quick
// start (first results at once), then every lane takes the costliest, so the run ends on small
// layers; one lane goes cheapest first throughout. The numbers never depend on the order.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { estimateModel, type LayerRunner } from '../../../src/engine/estimate';
import { solveLinearProblem } from '../../../src/engine/solve-layer';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import { floats, node, open, seeded } from '../../helpers/onnx-builder';

before(async () => {
  await initBackend();
});

const widths = [4, 6, 9, 13, 20, 30];

/** A chain of MatMuls whose costs grow along the chain. */
function chain() {
  return open({
    opset: 13,
    inputs: [{ name: 'x0', shape: [1, widths[0]] }],
    outputs: [`x${widths.length - 1}`],
    initializers: widths.slice(1).map((width, i) => floats(`w${i}`, [widths[i], width], seeded(widths[i] * width, 20 + i))),
    nodes: widths.slice(1).map((_, i) => node('MatMul', [`x${i}`, `w${i}`], [`x${i + 1}`], [], `mm${i}`)),
  });
}

/** Two lanes in this thread, recording the weight size of each problem as it starts. */
function recordingRunner(started: number[]): LayerRunner {
  return {
    concurrency: 2,
    solve: async (problem, settings) => {
      started.push(problem.spec.type === 'dense' ? problem.spec.weight.data.length : -1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return solveLinearProblem(problem, settings);
    },
  };
}

test('after the quick start both lanes take the costliest layer: the run ends on the cheapest', async () => {
  const model = await chain();
  const started: number[] = [];
  const costliestFirst = await estimateModel(model, DEFAULT_SETTINGS, {}, { runner: recordingRunner(started), quickStartMs: 0 });
  const sizes = [...started].sort((a, b) => b - a);
  assert.deepEqual(started, sizes, `start order ${started}`);

  const startedQuick: number[] = [];
  const quick = await estimateModel(model, DEFAULT_SETTINGS, {}, { runner: recordingRunner(startedQuick), quickStartMs: 60_000 });
  // Lane 0 starts on the cheapest, lane 1 on the costliest.
  assert.equal(startedQuick[0], Math.min(...startedQuick));
  assert.equal(startedQuick[1], Math.max(...startedQuick));

  // The same numbers either way.
  assert.deepEqual(
    quick.layers.map((layer) => layer.sigma),
    costliestFirst.layers.map((layer) => layer.sigma),
  );
});

test('one lane goes cheapest first', async () => {
  const model = await chain();
  const started: number[] = [];
  const runner: LayerRunner = { ...recordingRunner(started), concurrency: 1 };
  await estimateModel(model, DEFAULT_SETTINGS, {}, { runner, quickStartMs: 0 });
  assert.deepEqual(started, [...started].sort((a, b) => a - b));
});

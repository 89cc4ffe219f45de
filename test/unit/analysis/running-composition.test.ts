// The incremental composition (what the engine updates as each layer finishes) against compose()
// over the whole graph: after every single constant, in any finishing order, every running bound
// and the network bound are the same numbers (NaN and ∞ included).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compose, RunningComposition } from '../../../src/analysis/compose';
import type { IrModel } from '../../../src/model/ir';
import { fixed, irModel, irNode } from '../../helpers/ir-builder';
import { openBytes } from '../../helpers/onnx-builder';

const root = resolve(__dirname, '..', '..', '..');

/** A deterministic generator in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffled<T>(items: T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Sets a constant per node in a random order, checking the whole state against compose() after each. */
function checkAgainstCompose(model: IrModel, seed: number, special: boolean): number {
  const next = random(seed);
  const running = new RunningComposition(model);
  const constants: (number | undefined)[] = new Array(model.nodes.length).fill(undefined);
  let checks = 0;
  for (const index of shuffled(model.nodes.map((_, i) => i), next)) {
    const roll = next();
    // Mostly ordinary constants; with `special`, also the invalid (NaN), unbounded (∞) and zero ones.
    const constant = special && roll < 0.03 ? NaN : special && roll < 0.06 ? Infinity : special && roll < 0.08 ? 0 : 0.25 + 2 * next();
    constants[index] = constant;
    running.set(index, constant);
    const whole = compose(model, constants);
    for (let i = 0; i < model.nodes.length; i++) {
      assert.ok(Object.is(running.running(i), whole.running[i]), `seed ${seed}, after node ${index}: node ${i} is ${running.running(i)}, compose says ${whole.running[i]}`);
    }
    assert.ok(Object.is(running.network, whole.network), `seed ${seed}, after node ${index}: network ${running.network}, compose says ${whole.network}`);
    checks += 1;
  }
  assert.deepEqual(running.snapshot(), compose(model, constants));
  return checks;
}

test('hand-built graph (residual add, concat, several outputs, a constant input, an unused input): same as compose after every constant', () => {
  const model = irModel(
    [
      irNode('stem', fixed(1), ['x']),
      irNode('a', fixed(1), ['stem']),
      irNode('b', fixed(1), ['a']),
      irNode('add', { type: 'add' }, ['b', 'stem']),
      irNode('c', fixed(1), ['add', 'weights']),
      irNode('cat', { type: 'concat', axis: 1 }, ['c', 'a', 'add']),
      irNode('side', fixed(1), ['stem']),
      irNode('never', fixed(1), ['unknown']),
    ],
    ['cat', 'side', 'x'],
  );
  for (let seed = 1; seed <= 40; seed++) checkAgainstCompose(model, seed, seed % 2 === 0);
});

test('real graphs (PyTorch residual, concat and gated exports, the 215-node Paddle classifier): same as compose after every constant', async () => {
  const cases: [string, number[]?][] = [
    ['test/fixtures/onnx/torch/residual.onnx'],
    ['test/fixtures/onnx/torch/concat.onnx'],
    ['test/fixtures/onnx/torch/gated.onnx'],
    ['test/fixtures/onnx/paddle/ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
  ];
  let checks = 0;
  for (const [path, inputShape] of cases) {
    const model = await openBytes(new Uint8Array(readFileSync(join(root, path))), inputShape ? { inputShape } : {});
    for (let seed = 1; seed <= 4; seed++) checks += checkAgainstCompose(model, seed * 7919, seed > 2);
  }
  assert.ok(checks > 800, `${checks} checks`);
});

test('a node waiting for one input is NaN as soon as another input is invalid, and stays so', () => {
  const model = irModel([irNode('a', fixed(1), ['x']), irNode('b', fixed(1), ['x']), irNode('add', { type: 'add' }, ['a', 'b'])], ['add']);
  const running = new RunningComposition(model);
  running.set(2, 1);
  assert.equal(running.running(2), undefined);
  assert.equal(running.network, undefined);
  running.set(0, NaN);
  assert.ok(Number.isNaN(running.running(2)));
  running.set(1, 3);
  assert.ok(Number.isNaN(running.running(2)));
  assert.ok(Number.isNaN(running.network));
});

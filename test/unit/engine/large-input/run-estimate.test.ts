// The run's expected duration: per-layer seconds from the cost model (closed forms and repeated
// layers cost nothing), and the countdown scaled by the observed rate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvSpec, IrModel, IrNode } from '../../../../src/model/ir';
import { symbolPathSeconds } from '../../../../src/engine/large-input/index';
import { circularBoundSeconds, iterativeSeconds, warmStartFor, WASM_FLOPS } from '../../../../src/engine/large-input/solve';
import { symbolSetupSeconds } from '../../../../src/engine/large-input/conv-symbol';
import { useNativeProducts } from '../../../../src/engine/native/onnxruntime';
import { BOUND_BUDGET_FLOPS } from '../../../../src/engine/bounds';
import { expectedLayerSeconds, formatSeconds, remainingSeconds } from '../../../../src/engine/large-input/run-estimate';
import { randomValues } from '../bounds/reference';

function convNode(name: string, size: number, data: Float32Array): IrNode {
  return {
    name,
    op: 'Conv',
    inputs: ['x'],
    outputs: [name],
    inputShapes: [[1, 64, size, size]],
    outputShapes: [[1, 64, size, size]],
    spec: { type: 'conv', channelsLast: false, weight: { dims: [64, 64, 3, 3], data }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
    weightShape: [64, 64, 3, 3],
  };
}

test('expected seconds: linear layers by the cost model, repeats and closed forms at zero', () => {
  const a = randomValues(64 * 64 * 9, 1);
  const b = randomValues(64 * 64 * 9, 2);
  const relu: IrNode = { name: 'relu', op: 'Relu', inputs: ['c1'], outputs: ['r'], inputShapes: [[1, 64, 56, 56]], outputShapes: [[1, 64, 56, 56]], spec: { type: 'fixed', kind: 'activation', constant: 1 } as IrNode['spec'], weightShape: null };
  const model = { nodes: [convNode('c1', 56, a), relu, convNode('c2', 56, a), convNode('c3', 80, b)] } as unknown as IrModel;
  const seconds = expectedLayerSeconds(model, 1e-4);
  assert.equal(seconds.length, 4);
  assert.ok(seconds[0] > 0);
  assert.equal(seconds[1], 0, 'closed form');
  assert.equal(seconds[2], 0, 'identical to c1: solved once');
  assert.ok(seconds[3] > seconds[0], 'a 2x larger map costs more on the iterative path (both below the symbol path\'s sizes)');
});

test('remaining seconds follow the observed rate once 5 % is done', () => {
  assert.equal(remainingSeconds(100, 0, 0), 100);
  assert.equal(remainingSeconds(100, 50, 100), 100, 'twice as slow as expected');
  assert.equal(remainingSeconds(100, 100, 30), 0);
  assert.equal(formatSeconds(3.14), '3.1 s');
  assert.equal(formatSeconds(185), '3 min 5 s');
});

test("the symbol path's cost model is not below the CPU seconds measured on this machine (session 7), wide layers included", (t) => {
  const conv = (cout: number, cin: number, k: number): ConvSpec => ({ type: 'conv', channelsLast: false, weight: { dims: [cout, cin, k, k], data: new Float32Array(cout * cin * k * k) }, strides: [1, 1], dilations: [1, 1], padsBegin: [(k - 1) / 2, (k - 1) / 2], padsEnd: [(k - 1) / 2, (k - 1) / 2], group: 1 });
  // [cout, cin, k, measured seconds of symbolSupInterval on one quiet core]
  const measured: [number, number, number, number][] = [[64, 64, 3, 0.56], [64, 64, 5, 1.3], [64, 64, 7, 3.9], [128, 512, 3, 2.3], [512, 128, 3, 3.1]];
  // Those runs formed the symbol in JS: priced that way here.
  const previous = useNativeProducts(false);
  t.after(() => useNativeProducts(previous));
  for (const [cout, cin, k, seconds] of measured) {
    const modelled = symbolPathSeconds(conv(cout, cin, k));
    assert.ok(modelled >= seconds, `${cin}→${cout} ${k}x${k}: modelled ${modelled} s below the measured ${seconds} s`);
    assert.ok(modelled <= 3 * seconds, `${cin}→${cout} ${k}x${k}: modelled ${modelled} s, more than 3× the measured ${seconds} s`);
  }
  // A wider inner dimension at the same block size costs more (flatter symbols, more cells).
  assert.ok(symbolPathSeconds(conv(128, 512, 3)) > symbolPathSeconds(conv(128, 128, 3)));
});

test("the circular bound's cost grows with the map and stops at its budget", () => {
  const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [64, 64, 3, 3], data: new Float32Array(64 * 64 * 9) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
  const at = (size: number): number => circularBoundSeconds(spec, [1, 64, size, size]);
  assert.ok(at(32) > 0);
  assert.ok(at(64) > 3 * at(32));
  assert.equal(at(4096), BOUND_BUDGET_FLOPS / WASM_FLOPS);
});

test("the warm start's price: the symbol on the path it will take, plus the peak search", () => {
  const conv = (cout: number, cin: number): ConvSpec => ({ type: 'conv', channelsLast: false, weight: { dims: [cout, cin, 3, 3], data: randomValues(cout * cin * 9, 5) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 });
  const wide = conv(512, 512);
  const native = symbolSetupSeconds(wide);
  const previous = useNativeProducts(false);
  const js = symbolSetupSeconds(wide);
  useNativeProducts(previous);
  assert.ok(js > 4 * native, `JS ${js} s against native ${native} s`);
  // A 512→512 layer at 16²: a solve of a few seconds, but a symbol and peak search over 512 × 512
  // blocks of about as long, so it stays cold.
  const shape = [1, 512, 16, 16];
  assert.ok(iterativeSeconds(wide, shape) > 1, 'costly enough to be considered');
  assert.equal(warmStartFor(wide, shape, { input: [1, 16, 16, 512], output: [1, 16, 16, 512] }, 1e-4), null);
});

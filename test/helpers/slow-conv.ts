// A model whose run lasts minutes on purpose, for the tests of what a user sees while a long layer
// runs (cancel, heartbeat): one 16→16 3x3 conv at 40x40. The whole forward pass is 3.7 M
// multiply-adds (a small model), and its solve at tol 1e-12 with a high iteration cap runs for minutes.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attr, buildModel, floats, node, seeded } from './onnx-builder';

/** The solver flags that make the one layer run for minutes. */
export const SLOW_SOLVE_ARGS = ['--tol', '1e-12', '--max-iter', '100000'];

/** Writes the model to a fresh temporary folder and returns its path; `layerName` names the conv. */
export function writeSlowConvModel(layerName: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'll-slow-conv-')), 'one-conv.onnx');
  const c = 16;
  const n = 40;
  writeFileSync(path, buildModel({
    opset: 13,
    inputs: [{ name: 'x', shape: [1, c, n, n] }],
    outputs: [{ name: 'y', shape: [1, c, n, n] }],
    initializers: [floats('w', [c, c, 3, 3], seeded(c * c * 9, 7).map((v) => v * 0.1))],
    nodes: [node('Conv', ['x', 'w'], ['y'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])], layerName)],
  }));
  return path;
}

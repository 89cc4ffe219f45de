// What the ONNX and TF.js readers share: topological order, broadcasting, the norm of copying pads
// (checked against the SVD of the explicit matrix), and the sub-network selection (signal input,
// fixed inputs, chosen outputs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { GraphOrderError, topologicalOrder } from '../../../src/analysis/topological';
import { broadcastCopies, broadcastShapes } from '../../../src/analysis/broadcast';
import { largestCopies, padSourceIndex, type CopyingPadMode } from '../../../src/analysis/padding';
import { selectSubgraph } from '../../../src/analysis/subgraph';
import type { IrModel } from '../../../src/model/ir';
import { fixed, irModel, irNode } from '../../helpers/ir-builder';
import { sigma1 } from '../../helpers/keras-reference';

const problems = {
  producedTwice: (v: string) => `twice ${v}`,
  dangling: (i: number, v: string) => `dangling ${i} ${v}`,
  cycle: (i: number) => `cycle ${i}`,
};

test('topological order: dependencies first, the file order among ready nodes, a chain kept together', () => {
  const nodes = [
    { inputs: ['b'], outputs: ['c'] },
    { inputs: ['x'], outputs: ['a'] },
    { inputs: ['a'], outputs: ['b'] },
    { inputs: ['x'], outputs: ['d'] },
  ];
  assert.deepEqual(topologicalOrder(nodes, (v) => v === 'x', problems), [1, 2, 0, 3]);
  assert.throws(() => topologicalOrder([{ inputs: ['y'], outputs: ['a'] }], () => false, problems), (e: unknown) => e instanceof GraphOrderError && e.message === 'dangling 0 y');
  assert.throws(() => topologicalOrder([{ inputs: ['b'], outputs: ['a'] }, { inputs: ['a'], outputs: ['b'] }], () => false, problems), /cycle 0/);
  assert.throws(() => topologicalOrder([{ inputs: [], outputs: ['x'] }], (v) => v === 'x', problems), /twice x/);
  assert.deepEqual(topologicalOrder([{ inputs: ['', 'x'], outputs: ['', 'a'] }], (v) => v === 'x', problems), [0], 'empty names are skipped');
});

test('broadcasting: NumPy rules over any number of shapes, and the copies of one entry', () => {
  assert.deepEqual(broadcastShapes([1, 3, 1], [4, 1, 5], [5]), [4, 3, 5]);
  assert.deepEqual(broadcastShapes([2, 1], [3]), [2, 3]);
  assert.deepEqual(broadcastShapes(), []);
  assert.equal(broadcastShapes([2, 3], [4, 3]), undefined);
  assert.equal(broadcastCopies([1, 3], [4, 3]), 4);
  assert.equal(broadcastCopies([0, 3], [0, 3]), 0);
});

test('copying pads: √(largest copies) is the σ of the explicit padding matrix, per mode and per axis', () => {
  const cases: [CopyingPadMode, number, number, number][] = [
    ['reflect', 4, 3, 2], ['reflect', 2, 3, 3], ['symmetric', 3, 4, 1], ['symmetric', 1, 2, 2], ['edge', 3, 4, 0], ['wrap', 3, 5, 4], ['reflect', 5, -1, 2],
  ];
  for (const [mode, n, before, after] of cases) {
    const out = n + before + after;
    const matrix = new Matrix(out, n);
    for (let p = -before; p < n + after; p++) matrix.set(p + before, padSourceIndex(mode, p, n), 1);
    const copies = largestCopies(mode, n, before, after);
    assert.ok(Math.abs(sigma1(matrix) - Math.sqrt(copies)) < 1e-12, `${mode} n=${n} pads ${before},${after}: σ ${sigma1(matrix)} vs √${copies}`);
  }
  // TF's SYMMETRIC repeats the edge, REFLECT does not: [a b c] padded by 2 on the left.
  assert.deepEqual([-2, -1].map((p) => padSourceIndex('symmetric', p, 3)), [1, 0]);
  assert.deepEqual([-2, -1].map((p) => padSourceIndex('reflect', p, 3)), [2, 1]);
});

function twoInputModel(): IrModel {
  const model = irModel(
    [
      irNode('conv', fixed(2), ['x'], ['a'], { in: [[1, 4]], out: [[1, 4]] }),
      irNode('state', fixed(3), ['h'], ['s'], { in: [[1, 4]], out: [[1, 4]] }),
      irNode('sum', { type: 'add' }, ['a', 's'], ['y'], { in: [[1, 4], [1, 4]], out: [[1, 4]] }),
      irNode('head', fixed(5), ['y'], ['z'], { in: [[1, 4]], out: [[1, 4]] }),
      irNode('side', fixed(7), ['a'], ['w'], { in: [[1, 4]], out: [[1, 4]] }),
    ],
    ['z', 'w'],
  );
  return { ...model, inputs: [{ name: 'x', shape: [1, 4], declaredShape: [1, 4] }, { name: 'h', shape: [1, 4], declaredShape: [1, 4] }], signalInput: 'x' };
}

test('the sub-network: rows that depend on fixed inputs alone go, fixed operands leave the rows\' inputs', () => {
  const selected = selectSubgraph(twoInputModel());
  assert.deepEqual(selected.nodes.map((n) => [n.name, n.inputs, n.inputShapes]), [
    ['conv', ['x'], [[1, 4]]],
    ['sum', ['a'], [[1, 4]]],
    ['head', ['y'], [[1, 4]]],
    ['side', ['a'], [[1, 4]]],
  ]);
  assert.deepEqual([selected.outputs, selected.outputsChosen, selected.signalInput], [['z', 'w'], undefined, 'x']);
});

test('chosen outputs keep only the rows that lead to them, and an unknown name is refused with close names', () => {
  const selected = selectSubgraph(twoInputModel(), ['y']);
  assert.deepEqual(selected.nodes.map((n) => n.name), ['conv', 'sum']);
  assert.deepEqual([selected.outputs, selected.outputsChosen, selected.metadata.outputShapes], [['y'], true, [{ name: 'y', shape: [1, 4] }]]);
  assert.ok(selected.warnings.some((w) => /bounding the sub-network from "x" to "y"; 3 row\(s\) outside it are left out/.test(w)));
  assert.throws(() => selectSubgraph(twoInputModel(), ['Y2']), /has no value "Y2" that depends on the input; the graph's outputs are "z", "w"/);
  assert.throws(() => selectSubgraph(twoInputModel(), ['Y']), /has no value "Y" that depends on the input; values with a similar name: "y"$/);
  const single = irModel([irNode('r', fixed(1), ['input'], ['out'])], ['out']);
  assert.equal(selectSubgraph(single).nodes.length, 1, 'one input, no chosen outputs: unchanged');
});

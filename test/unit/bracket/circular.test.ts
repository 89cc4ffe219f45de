// The circular extension of a chain segment (circular.ts) against explicit circulant matrices: each
// window's certified bound is ≥ σ1 of the explicitly built product of circular convolutions (with the
// midpoints c between them) and within 1e-6 of it; and which groups form a segment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { findChains } from '../../../src/engine/bracket/chains';
import { circularSegments, segmentWindowBounds } from '../../../src/engine/bracket/circular';
import type { ConvSpec, IrModel, IrNode, OpSpec } from '../../../src/model/ir';
import { largestSingularValue, seededNormals } from '../../helpers/explicit-matrix';

const H = 4;
const W = 5;

function node(name: string, input: string, spec: OpSpec, cIn: number, cOut: number, execution: IrNode['execution']): IrNode {
  return { name, op: spec.type, inputs: [input], outputs: [name], inputShapes: [[1, cIn, H, W]], outputShapes: [[1, cOut, H, W]], spec, weightShape: null, execution };
}

const conv1: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [3, 2, 3, 3], data: seededNormals(54, 1) }, strides: [1, 1], dilations: [1, 2], padsBegin: [1, 2], padsEnd: [1, 2], group: 1 };
const scale = Float32Array.from([0.5, 2, 1.5]);
const conv2: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [3, 1, 3, 3], data: seededNormals(27, 2) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 3 };
const conv3: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [2, 3, 1, 1], data: seededNormals(6, 3) }, strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1 };
const relu = (name: string, input: string, c: number): IrNode => node(name, input, { type: 'fixed', kind: 'activation', constant: 1 }, c, c, { kind: 'activation', name: 'relu' });

const model: IrModel = {
  format: 'onnx',
  path: 'circular.onnx',
  inputs: [{ name: 'x', shape: [1, 2, H, W], declaredShape: [1, 2, H, W] }],
  outputs: ['c3'],
  nodes: [
    node('c1', 'x', conv1, 2, 3, { kind: 'affine', bias: new Float32Array(3) }),
    node('bn', 'c1', { type: 'diagonal', scale, axis: 1 }, 3, 3, { kind: 'affine', bias: new Float32Array(3) }),
    relu('r1', 'bn', 3),
    node('c2', 'r1', conv2, 3, 3, { kind: 'affine', bias: new Float32Array(3) }),
    relu('r2', 'c2', 3),
    node('c3', 'r2', conv3, 3, 2, { kind: 'affine', bias: new Float32Array(2) }),
  ],
  metadata: { nodeCount: 6, parameterCount: 0 },
  warnings: [],
};

/** The circular convolution y[o, p] = Σ_{i,t} W[o, i, t]·x[i, (p + t·d − padBegin) mod N] on the grid, as a matrix (column-vector convention). */
function circulant(spec: ConvSpec, cIn: number, grid: number[]): Matrix {
  const [cOut, cpg, kh, kw] = spec.weight.dims;
  const points = grid[0] * grid[1];
  const m = Matrix.zeros(cOut * points, cIn * points);
  for (let o = 0; o < cOut; o++) {
    const g = Math.floor(o / (cOut / spec.group));
    for (let i = 0; i < cpg; i++) {
      for (let ty = 0; ty < kh; ty++) {
        for (let tx = 0; tx < kw; tx++) {
          const weight = spec.weight.data[((o * cpg + i) * kh + ty) * kw + tx];
          for (let py = 0; py < grid[0]; py++) {
            for (let px = 0; px < grid[1]; px++) {
              const sy = (((py + ty * spec.dilations[0] - spec.padsBegin[0]) % grid[0]) + grid[0]) % grid[0];
              const sx = (((px + tx * spec.dilations[1] - spec.padsBegin[1]) % grid[1]) + grid[1]) % grid[1];
              const row = o * points + py * grid[1] + px;
              const col = (g * cpg + i) * points + sy * grid[1] + sx;
              m.set(row, col, m.get(row, col) + weight);
            }
          }
        }
      }
    }
  }
  return m;
}

function channelScaling(values: Float32Array, points: number): Matrix {
  return Matrix.diag(Array.from({ length: values.length * points }, (_, i) => values[Math.floor(i / points)]));
}

test('a chain of same-size convolutions forms one segment, on the grid of its largest pads', () => {
  const [chain] = findChains(model, model.nodes.map(() => 1));
  const { segments, slopes } = circularSegments(model, chain);
  assert.equal(segments.length, 1);
  assert.deepEqual([segments[0].first, segments[0].last], [1, 3]);
  assert.deepEqual(segments[0].grid, [H + 1, W + 2]);
  // ReLU after a 3x3 conv: the cut-off padding is folded in; slopes [0, 1] already contain 0.
  assert.deepEqual(slopes.map((s) => [s.c, s.rho]), [[0.5, 0.5], [0.5, 0.5]]);
});

test('every window bound is certified against the explicit circulant product, and within 1e-6 of it', () => {
  const [chain] = findChains(model, model.nodes.map(() => 1));
  const { segments, slopes } = circularSegments(model, chain);
  const segment = segments[0];
  const bounds = segmentWindowBounds(segment, (m) => slopes[m - 1].c, { window: 3, maxCost: Infinity, outOfTime: () => false });
  assert.ok(bounds);
  const grid = segment.grid;
  const points = grid[0] * grid[1];
  const groups = [
    channelScaling(scale, points).mmul(circulant(conv1, 2, grid)),
    circulant(conv2, 3, grid),
    circulant(conv3, 3, grid),
  ];
  for (let j = 0; j < 3; j++) {
    for (let k = j + 1; k <= 3; k++) {
      let product = groups[j];
      for (let i = j + 1; i < k; i++) product = groups[i].mmul(product).mul(0.5);
      const exact = largestSingularValue(product);
      const bound = bounds.get(`${k},${j}`) as number;
      assert.ok(bound >= exact, `window (${k}, ${j}): bound ${bound} below σ1 ${exact}`);
      assert.ok(bound <= exact * (1 + 1e-6), `window (${k}, ${j}): bound ${bound} far above σ1 ${exact}`);
    }
  }
});

test('a strided conv or a size change ends the segment', () => {
  const strided: IrNode = { ...model.nodes[3], spec: { ...conv2, strides: [2, 2] }, outputShapes: [[1, 3, 2, 3]] };
  const broken: IrModel = { ...model, nodes: [model.nodes[0], model.nodes[1], model.nodes[2], strided], outputs: ['c2'] };
  const [chain] = findChains(broken, broken.nodes.map(() => 1));
  const { segments } = circularSegments(broken, chain);
  assert.deepEqual(segments.map((s) => [s.first, s.last]), [[1, 1]]);
});

test('cells: every window bound covers the circulant product on any grid (it bounds the sup over all frequencies), at most ~10 % above', () => {
  const [chain] = findChains(model, model.nodes.map(() => 1));
  const { segments, slopes } = circularSegments(model, chain);
  const segment = segments[0];
  const cells = segmentWindowBounds(segment, (m) => slopes[m - 1].c, { window: 3, maxCost: Infinity, outOfTime: () => false, sampling: 'cells' });
  const onGrid = segmentWindowBounds(segment, (m) => slopes[m - 1].c, { window: 3, maxCost: Infinity, outOfTime: () => false, sampling: 'grid' });
  assert.ok(cells && onGrid);
  let ratioSum = 0;
  for (const grid of [segment.grid, [6, 9], [8, 8], [7, 12]]) {
    const points = grid[0] * grid[1];
    const groups = [channelScaling(scale, points).mmul(circulant(conv1, 2, grid)), circulant(conv2, 3, grid), circulant(conv3, 3, grid)];
    for (let j = 0; j < 3; j++) {
      for (let k = j + 1; k <= 3; k++) {
        let product = groups[j];
        for (let i = j + 1; i < k; i++) product = groups[i].mmul(product).mul(0.5);
        const exact = largestSingularValue(product);
        const bound = cells.get(`${k},${j}`) as number;
        assert.ok(bound >= exact, `grid ${grid}, window (${k}, ${j}): cell bound ${bound} below σ1 ${exact}`);
        if (grid === segment.grid) ratioSum += bound / (onGrid.get(`${k},${j}`) as number);
      }
    }
  }
  // The sup's cover costs at most 1/√f ≈ 1.05 plus the sup's own excess over this small grid's max.
  assert.ok(ratioSum / 6 <= 1.15, `cells ${ratioSum / 6}× the grid bounds on average`);
});

// The cells of the symbol sup's search (docs/large-inputs.md §2) on their own: axis boxes and
// diamonds against the domain they must cover and the spread their curvature factor f assumes, and
// the certified sup with unequal degrees (a 3x5 kernel) against a brute-force sup.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvSpec } from '../../../../src/model/ir';
import { convSymbol } from '../../../../src/engine/large-input/conv-symbol';
import { cellSpread, certifiedSymbolSup, frameOf, gridCells, splitCell, type Cell, type Frame } from '../../../../src/engine/large-input/symbol-sup';
import { randomValues } from '../bounds/reference';
import { bruteForceSup } from './brute-force-sup';

function symbolFor(kernel: number[], strides: number[], cIn = 2, cOut = 3): NonNullable<ReturnType<typeof convSymbol>> {
  const taps = kernel.reduce((a, b) => a * b, 1);
  const spec: ConvSpec = {
    type: 'conv',
    channelsLast: false,
    weight: { dims: [cOut, cIn, ...kernel], data: randomValues(cOut * cIn * taps, 7) },
    strides,
    dilations: kernel.map(() => 1),
    padsBegin: kernel.map((k) => (k - 1) >> 1),
    padsEnd: kernel.map((k) => (k - 1) >> 1),
    group: 1,
  };
  const symbol = convSymbol(spec, kernel.map(() => 40));
  assert.ok(symbol);
  return symbol;
}

/** The cell's own coordinates t of ω (ω − centre = Σ_k t_k·directions[k], active axes only). */
function cellCoordinates(frame: Frame, active: number[], cell: Cell, omega: number[]): number[] {
  const delta = active.map((a) => omega[a] - cell.center[a]);
  if (active.length === 1) return [delta[0] / frame.directions[0][active[0]]];
  const [a1, a2] = active;
  const [p, q] = frame.directions;
  const det = p[a1] * q[a2] - q[a1] * p[a2];
  return [(delta[0] * q[a2] - q[a1] * delta[1]) / det, (p[a1] * delta[1] - delta[0] * p[a2]) / det];
}

function contains(frame: Frame, active: number[], cell: Cell, omega: number[]): boolean {
  return cellCoordinates(frame, active, cell, omega).every((t, k) => Math.abs(t) <= cell.half[k] * (1 + 1e-12) + 1e-15);
}

/** Points of the fundamental domain [0, π] × [0, 2π]: its corners, edge points and a random spread. */
function domainPoints(count: number): number[][] {
  const points: number[][] = [];
  for (const x of [0, Math.PI / 2, Math.PI]) for (const y of [0, Math.PI, 2 * Math.PI]) points.push([x, y]);
  const r = randomValues(2 * count, 99);
  for (let i = 0; i < count; i++) points.push([Math.PI * (0.5 + 0.5 * Math.tanh(r[2 * i])), 2 * Math.PI * (0.5 + 0.5 * Math.tanh(r[2 * i + 1]))]);
  return points;
}

describe('cells of the sup search', () => {
  // Degrees (2, 2) for 3x3, (2, 4) for 3x5, (1, 1) for 3x3 stride 2 (polyphase taps 0..1).
  const cases: [string, number[], number[]][] = [
    ['3x3', [3, 3], [1, 1]],
    ['3x5', [3, 5], [1, 1]],
    ['3x3 stride 2', [3, 3], [2, 2]],
  ];
  for (const [label, kernel, strides] of cases) {
    for (const diamond of [true, false]) {
      test(`${label}, ${diamond ? 'diamonds' : 'axis boxes'}: the grid covers the domain, every cell's spread is at most the grid's, and is an upper bound on Σ d_a|Δ_a| inside it`, () => {
        const symbol = symbolFor(kernel, strides);
        const active = [0, 1];
        assert.ok(symbol.degrees.every((d) => d > 0));
        const frame = frameOf(symbol, diamond);
        assert.equal(frame.diamond, diamond);
        for (const spread of [0.5, 0.23]) {
          const cells = gridCells(symbol, spread, frame);
          for (const cell of cells) assert.ok(cellSpread(symbol.degrees, frame, cell.half) <= spread * (1 + 1e-12), `a cell of spread ${cellSpread(symbol.degrees, frame, cell.half)} > ${spread}`);
          for (const omega of domainPoints(3000)) {
            assert.ok(cells.some((cell) => contains(frame, active, cell, omega)), `${omega} is in no cell`);
          }
          // Σ_a d_a|Δ_a| at points inside a cell never exceeds the cell's spread (f rests on it).
          const r = randomValues(400, 5);
          for (let i = 0; i < 100; i++) {
            const cell = cells[i % cells.length];
            const t = [Math.tanh(r[2 * i]) * cell.half[0], Math.tanh(r[2 * i + 1]) * cell.half[1]];
            const corner = [cell.half[0] * Math.sign(r[2 * i + 200] || 1), cell.half[1] * Math.sign(r[2 * i + 201] || 1)];
            for (const point of [t, corner]) {
              const delta = active.map((a) => point[0] * frame.directions[0][a] + point[1] * frame.directions[1][a]);
              const sum = active.reduce((s, a, j) => s + symbol.degrees[a] * Math.abs(delta[j]), 0);
              assert.ok(sum <= cellSpread(symbol.degrees, frame, cell.half) * (1 + 1e-12));
            }
          }
        }
      });
    }
  }

  test('diamonds need about half the cells of axis boxes for the same spread', () => {
    const symbol = symbolFor([3, 3], [1, 1]);
    const boxes = gridCells(symbol, 0.25, frameOf(symbol, false)).length;
    const diamonds = gridCells(symbol, 0.25, frameOf(symbol, true)).length;
    assert.ok(diamonds < 0.6 * boxes, `${diamonds} diamonds against ${boxes} boxes`);
  });

  test('a split cell: its children cover it, with half the spread', () => {
    const symbol = symbolFor([3, 5], [1, 1]);
    for (const diamond of [true, false]) {
      const frame = frameOf(symbol, diamond);
      const parent = gridCells(symbol, 0.5, frame)[3];
      const children = splitCell(parent, frame);
      assert.equal(children.length, 4);
      const parentSpread = cellSpread(symbol.degrees, frame, parent.half);
      for (const child of children) assert.ok(Math.abs(cellSpread(symbol.degrees, frame, child.half) - parentSpread / 2) <= 1e-12 * parentSpread);
      const r = randomValues(2000, 11);
      for (let i = 0; i < 1000; i++) {
        const t = [Math.tanh(r[2 * i]) * parent.half[0], Math.tanh(r[2 * i + 1]) * parent.half[1]];
        const omega = parent.center.map((c, a) => c + t[0] * frame.directions[0][a] + t[1] * frame.directions[1][a]);
        assert.ok(children.some((child) => contains(frame, [0, 1], child, omega)), `child cells miss ${omega}`);
      }
    }
  });

  test('1-D symbols use intervals on [0, π] that cover it', () => {
    const symbol = symbolFor([5], [1]);
    const frame = frameOf(symbol, true);
    assert.equal(frame.diamond, false);
    const cells = gridCells(symbol, 0.5, frame);
    for (let i = 0; i <= 1000; i++) {
      const omega = [(Math.PI * i) / 1000];
      assert.ok(cells.some((cell) => contains(frame, [0], cell, omega)));
    }
  });
});

describe('the certified sup with diamond cells and unequal degrees', () => {
  test('3x5 (degrees 2 and 4): certified above the brute-force sup, within the tolerance of it', () => {
    for (const seed of [3, 4, 5]) {
      const weight = randomValues(3 * 2 * 15, seed);
      const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [3, 2, 3, 5], data: weight }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 2], padsEnd: [1, 2], group: 1 };
      const symbol = convSymbol(spec, [20, 20]);
      assert.ok(symbol);
      assert.deepEqual(symbol.degrees, [2, 4]);
      const relTol = 1e-5;
      const sup = certifiedSymbolSup(symbol, { relTol, maxCells: 20_000 });
      assert.ok(sup, 'no certificate');
      const truth = bruteForceSup(weight, 3, 3, 5);
      assert.ok(sup.lambdaUpper >= truth * (1 - 1e-12), `certified ${sup.lambdaUpper} below the sup ${truth}`);
      assert.ok(sup.lambdaUpper <= truth * (1 + relTol) * (1 + 1e-9), `certified ${sup.lambdaUpper} more than tol above ${truth}`);
    }
  });
});

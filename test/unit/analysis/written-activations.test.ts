// GELU's tanh approximation and the sigmoid written out op by op (jax2tf's form in UpscalerJS's
// MAXIM models), src/analysis/written-activations.ts: the head row reads x and carries the certified
// constant, the rows it replaces are counted there, the executor still runs the graph as tfjs does,
// and variants that are not these functions stay unbounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { openMemory, row } from '../formats/tfjs/helpers';
import { graphModel, placeholder, type ConstSpec } from '../formats/tfjs/graph-builder';
import { executorOutputs, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../bracket/reference-runtimes';
import { GELU_TANH_A, GELU_TANH_ARGMIN, GELU_TANH_K, geluTanh, geluTanhConstant, geluTanhRange, geluTanhSlopeBound, geluTanhSlopeEnclosure } from '../../../src/analysis/written-activations';
import { SILU_CONSTANT } from '../../../src/analysis/constants';
import { byName, node, open, tensor } from '../../helpers/onnx-builder';

const SHAPE = [1, 2, 3, 4];

/** G'(z) of 0.5·z·(1 + tanh(K(z + A z³))), by its formula. */
function slope(z: number, a = GELU_TANH_A): number {
  const t = Math.tanh(GELU_TANH_K * (z + a * z ** 3));
  return 0.5 * (1 + t) + 0.5 * GELU_TANH_K * z * (1 + 3 * a * z * z) * (1 - t * t);
}

test('the certified GELU-tanh constant is above |G\'| on a dense grid (and finite differences of G), and within 2e-6 of its sup', () => {
  const constant = geluTanhConstant();
  let largest = 0;
  let differences = 0;
  const G = (z: number) => 0.5 * z * (1 + Math.tanh(GELU_TANH_K * (z + GELU_TANH_A * z ** 3)));
  for (let i = 0; i <= 400000; i++) {
    const z = -20 + i * 1e-4;
    largest = Math.max(largest, Math.abs(slope(z)), Math.abs(slope(z, GELU_TANH_A * (1 + 1e-5))), Math.abs(slope(z, GELU_TANH_A * (1 - 1e-5))));
    differences = Math.max(differences, Math.abs(G(z + 1e-4) - G(z)) / 1e-4);
  }
  assert.ok(largest <= constant && differences <= constant, `${largest}, ${differences} > ${constant}`);
  assert.ok(constant - largest < 2e-6, `${constant} vs ${largest}`);
  assert.ok(Math.abs(largest - 1.12899) < 1e-5, String(largest));
  // Each enclosure holds the point values inside its box.
  for (const [z0, z1] of [[-3, -2.5], [0.5, 0.6], [2.4, 2.45], [-0.01, 0.01]]) {
    const [lo, hi] = geluTanhSlopeEnclosure(z0, z1, GELU_TANH_A, GELU_TANH_A);
    for (let k = 0; k <= 100; k++) {
      const g = slope(z0 + ((z1 - z0) * k) / 100);
      assert.ok(g >= lo && g <= hi, `${g} outside [${lo}, ${hi}]`);
    }
  }
  // A coarser search gives a larger, never a smaller, bound.
  assert.ok(geluTanhSlopeBound(1e-5, 1e-2, 1e-2) >= constant);
});

interface GeluOptions {
  coefficient?: number;
  /** Cube x·(relu x)² instead of x·x². */
  otherCube?: boolean;
  /** A scale on x first (a root through an affine map). */
  inner?: number;
  /** Rows after y. */
  then?: object[];
}

/** MAXIM's GELU: Square, Mul by 0.044715, Mul, AddV2, Mul by √(2/π), Tanh, AddV2 1, Mul by 0.5, Mul. */
function geluGraph(options: GeluOptions = {}) {
  const consts: ConstSpec[] = [
    { name: 'a', shape: [], values: [options.coefficient ?? GELU_TANH_A] },
    { name: 'k', shape: [], values: [GELU_TANH_K] },
    { name: 'one', shape: [], values: [1] },
    { name: 'half', shape: [], values: [0.5] },
    { name: 'inner', shape: [], values: [options.inner ?? 1] },
  ];
  const x = options.inner !== undefined ? 'xs' : 'x';
  return graphModel(
    [
      placeholder('x', SHAPE),
      ...(options.inner !== undefined ? [{ name: 'xs', op: 'Mul', input: ['x', 'inner'] }] : []),
      ...(options.otherCube ? [{ name: 'r', op: 'Relu', input: [x] }] : []),
      { name: 'sq', op: 'Square', input: [options.otherCube ? 'r' : x] },
      { name: 'ax', op: 'Mul', input: ['a', x] },
      { name: 'cube', op: 'Mul', input: ['ax', 'sq'] },
      { name: 'sum', op: 'AddV2', input: [x, 'cube'] },
      { name: 'arg', op: 'Mul', input: ['k', 'sum'] },
      { name: 't', op: 'Tanh', input: ['arg'] },
      { name: 'gate', op: 'AddV2', input: ['t', 'one'] },
      { name: 'hx', op: 'Mul', input: ['half', x] },
      { name: 'y', op: 'Mul', input: ['hx', 'gate'] },
      ...(options.then ?? []),
    ],
    consts,
  );
}

/** The largest |Δy/Δx| over entries, x moved entry by entry by `step` (tfjs's own run). */
async function sampledSlope(json: Record<string, unknown>, shards: Record<string, Uint8Array>, model: Awaited<ReturnType<typeof openMemory>>, lo: number, hi: number, step: number): Promise<number> {
  let largest = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const x = uniformInput(SHAPE, seed, lo, hi);
    const moved = x.map((v) => v + step);
    const [y0, y1] = [(await tfjsMemoryGraphOutputs(json, shards, model, x))[0], (await tfjsMemoryGraphOutputs(json, shards, model, moved))[0]];
    y0.forEach((v, i) => (largest = Math.max(largest, Math.abs(y1[i] - v) / step)));
  }
  return largest;
}

test('GELU (tanh approximation) written out as MAXIM does: one row reading x with the certified constant, executed as tfjs runs it', async () => {
  const { json, shards } = geluGraph();
  const model = await openMemory(json, shards);
  const y = row(model, 'y');
  assert.ok(y.spec.type === 'fixed' && y.spec.constant === geluTanhConstant(), JSON.stringify(y.spec));
  assert.match(y.spec.type === 'fixed' ? y.spec.detail ?? '' : '', /^GELU in its tanh approximation/);
  assert.deepEqual(y.inputs, ['x']);
  for (const name of ['sq', 'ax', 'cube', 'sum', 'arg', 't', 'gate', 'hx']) {
    const spec = row(model, name).spec;
    assert.ok((spec.type === 'fixed' && spec.constant === 0) || (spec.type === 'add' && spec.weights?.every((w) => w === 0)), name);
    assert.match(spec.type === 'fixed' || spec.type === 'add' ? spec.detail ?? '' : '', /written-out GELU at Mul "y", counted there/, name);
  }
  const input = uniformInput(SHAPE, 3, -4, 4);
  const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
  assert.ok(error <= 1e-5, `relative error ${error}`);
  // Slopes around the maximum (z ≈ 1.5) stay below the constant and come close to it.
  const sampled = await sampledSlope(json, shards, model, 1.3, 1.8, 1e-2);
  assert.ok(sampled <= (y.spec.type === 'fixed' ? y.spec.constant : 0) * (1 + 1e-4), String(sampled));
  assert.ok(sampled > 1.12, String(sampled));
});

test('GELU of 3x, read only by it: counted in its row, 3·1.1289 on x', async () => {
  const { json, shards } = geluGraph({ inner: 3 });
  const model = await openMemory(json, shards);
  const y = row(model, 'y');
  assert.ok(y.spec.type === 'fixed' && Math.abs(y.spec.constant - 3 * geluTanhConstant()) < 1e-6, JSON.stringify(y.spec));
  assert.match(y.spec.type === 'fixed' ? y.spec.detail ?? '' : '', /^1·GELU\(3·x\) in its tanh approximation/);
  assert.deepEqual(y.inputs, ['x']);
  const xs = row(model, 'xs').spec;
  assert.ok(xs.type === 'fixed' && xs.constant === 0, JSON.stringify(xs));
  const input = uniformInput(SHAPE, 5, -2, 2);
  assert.ok(relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input)) <= 1e-5);
});

test('not GELU: another cubic coefficient, or a cube of another value, stays unbounded', async () => {
  for (const options of [{ coefficient: 0.05 }, { coefficient: 0.0447 }, { otherCube: true }]) {
    const { json, shards } = geluGraph(options);
    const model = await openMemory(json, shards);
    assert.equal(row(model, 'y').spec.type, 'unbounded', JSON.stringify(options));
    assert.equal(row(model, 'sq').spec.type, 'unbounded', JSON.stringify(options));
  }
});

/** 1/(1 + exp(−k·x)) as jax2tf writes it (Neg, Exp, AddV2 1, Reciprocal), and what reads it. */
function sigmoidGraph(k: number, shift = 1, then: object[] = []) {
  const consts: ConstSpec[] = [{ name: 'one', shape: [], values: [shift] }, { name: 'k', shape: [], values: [k] }];
  return graphModel(
    [
      placeholder('x', SHAPE),
      ...(k === 1 ? [{ name: 'neg', op: 'Neg', input: ['x'] }] : [{ name: 'kx', op: 'Mul', input: ['x', 'k'] }, { name: 'neg', op: 'Neg', input: ['kx'] }]),
      { name: 'e', op: 'Exp', input: ['neg'] },
      { name: 'den', op: 'AddV2', input: ['one', 'e'] },
      { name: 's', op: 'Reciprocal', input: ['den'] },
      ...then,
    ],
    consts,
  );
}

test('sigmoid written out as 1/(1 + exp(−x)): 1/4, its values sigmoid\'s, so x·it is SiLU and tanh(x)·it a product of bounded factors', async () => {
  const { json, shards } = sigmoidGraph(1, 1, [
    { name: 'silu', op: 'Mul', input: ['x', 's'] },
    { name: 'th', op: 'Tanh', input: ['x'] },
    { name: 'both', op: 'Mul', input: ['th', 's'] },
    { name: 'out', op: 'AddV2', input: ['silu', 'both'] },
  ]);
  const model = await openMemory(json, shards);
  const s = row(model, 's');
  assert.ok(s.spec.type === 'fixed' && s.spec.constant === 0.25, JSON.stringify(s.spec));
  assert.deepEqual(s.spec.type === 'fixed' && s.spec.values, { kind: 'sigmoid' });
  assert.deepEqual(s.inputs, ['x']);
  for (const name of ['neg', 'e', 'den']) assert.match(JSON.stringify(row(model, name).spec), /written-out sigmoid at Reciprocal \\"s\\", counted there/, name);
  const silu = row(model, 'silu');
  assert.ok(silu.spec.type === 'fixed' && silu.spec.constant === SILU_CONSTANT, JSON.stringify(silu.spec));
  const both = row(model, 'both');
  assert.ok(both.spec.type === 'add' && both.spec.weights?.every((w) => w <= 1 + 1e-9), JSON.stringify(both.spec));
  const input = uniformInput(SHAPE, 2, -6, 6);
  assert.ok(relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input)) <= 1e-5);
});

test('1/(1 + exp(−2.5x)) is 2.5/4 with values in [0, 1]; 1/(exp(−x) − 1) is no sigmoid and stays unbounded', async () => {
  {
    const { json, shards } = sigmoidGraph(2.5);
    const model = await openMemory(json, shards);
    const s = row(model, 's');
    assert.ok(s.spec.type === 'fixed' && Math.abs(s.spec.constant - 2.5 / 4) < 1e-7, JSON.stringify(s.spec));
    assert.deepEqual(s.spec.type === 'fixed' && s.spec.values, { kind: 'bounded', min: 0, max: 1 });
    // Secant slopes of float32 runs: within float32 rounding (~1e-7 / 1e-2) of the reals'.
    const sampled = await sampledSlope(json, shards, model, -0.3, 0.3, 1e-2);
    assert.ok(sampled <= s.spec.constant * (1 + 1e-4) && sampled > 0.6, String(sampled));
  }
  const { json, shards } = sigmoidGraph(1, -1);
  const model = await openMemory(json, shards);
  assert.equal(row(model, 's').spec.type, 'unbounded');
});

test('G decreases before its one critical point and increases after; its range over an interval holds sampled values', () => {
  // (Below about −7, float64's 1 + tanh rounds to 0 and so does G'.)
  for (let i = 0; i <= 14000; i++) {
    const z = -6 + i * 1e-3;
    if (Math.abs(z - GELU_TANH_ARGMIN) > 1e-6) assert.equal(Math.sign(slope(z)), z < GELU_TANH_ARGMIN ? -1 : 1, String(z));
  }
  assert.ok(Math.abs(GELU_TANH_ARGMIN + 0.7518) < 1e-3, String(GELU_TANH_ARGMIN));
  for (const [a, b] of [[-3, 2], [-0.5, 0.4], [-4, -1], [1, 3]]) {
    const r = geluTanhRange(a, b) as [number, number];
    let [lo, hi] = [Infinity, -Infinity];
    for (let k = 0; k <= 1000; k++) {
      const g = geluTanh(a + ((b - a) * k) / 1000);
      [lo, hi] = [Math.min(lo, g), Math.max(hi, g)];
    }
    assert.ok(r[0] <= lo && r[1] >= hi && lo - r[0] < 1e-5 && r[1] - hi < 1e-5, `${r} vs [${lo}, ${hi}]`);
  }
});

test('a GELU times tanh(x): unbounded for all inputs, a product of bounded factors on inputs in [−1, 2] (GELU\'s range there)', async () => {
  const then = [{ name: 'th', op: 'Tanh', input: ['x'] }, { name: 'p', op: 'Mul', input: ['y', 'th'] }];
  const { json, shards } = geluGraph({ then });
  assert.equal(row(await openMemory(json, shards), 'p').spec.type, 'unbounded');
  const model = await openMemory(json, shards, { inputRange: [-1, 2] });
  const p = row(model, 'p').spec;
  // sup|tanh| = tanh(2) weighs the GELU's bound, sup|G| on [−1, 2] = G(2) weighs tanh's.
  assert.ok(p.type === 'add' && p.weights && Math.abs(p.weights[0] - Math.tanh(2)) < 1e-6 && Math.abs(p.weights[1] - geluTanh(2)) < 1e-6, JSON.stringify(p));
});

test('ONNX: GELU tanh as torch exports it (Pow 3, Mul, Add, Mul, Tanh, Add 1, Mul 0.5, Mul) is the same row; Pow 2.5 is not', async () => {
  for (const exponent of [3, 2.5]) {
    const scalar = (name: string, v: number) => tensor(name, [], [v]);
    const model = await open({
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: ['y'],
      initializers: [scalar('three', exponent), scalar('a', GELU_TANH_A), scalar('k', GELU_TANH_K), scalar('one', 1), scalar('half', 0.5)],
      nodes: [
        node('Pow', ['x', 'three'], ['cube'], [], 'pow'),
        node('Mul', ['cube', 'a'], ['acube'], [], 'mul_a'),
        node('Add', ['x', 'acube'], ['sum'], [], 'add'),
        node('Mul', ['sum', 'k'], ['arg'], [], 'mul_k'),
        node('Tanh', ['arg'], ['t'], [], 'tanh'),
        node('Add', ['t', 'one'], ['gate'], [], 'add_1'),
        node('Mul', ['x', 'half'], ['hx'], [], 'mul_half'),
        node('Mul', ['hx', 'gate'], ['y'], [], 'mul_y'),
      ],
    });
    const y = byName(model, 'mul_y');
    if (exponent === 3) {
      assert.ok(y.spec.type === 'fixed' && y.spec.constant === geluTanhConstant(), JSON.stringify(y.spec));
      assert.deepEqual(y.inputs, ['x']);
      assert.match(JSON.stringify(byName(model, 'pow').spec), /counted there/);
    } else assert.equal(y.spec.type, 'unbounded');
  }
});

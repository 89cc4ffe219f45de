// MAXIM's layer norm (jax2tf, UpscalerJS's maxim-* models): the variance written E[x²] − E[x]²
// with keep_dims-less Sum·(1/n) means, clamped by max(0, ·), reshaped back, + ε, Rsqrt, times γ,
// times x − mean, + β (docs/op-coverage.md, "Normalisation layers"). Read as a layer norm: the
// product row carries max|γ|/√ε and reads x; the Jacobian of tfjs's own run at an input with no
// spread (where the bound is reached) matches it, the bound is above sampled slopes, and the graph
// executor runs the row as tfjs's loadGraphModel does. Variants that are not a variance stay unbounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { largestSingularValue } from '../../helpers/explicit-matrix';
import { openMemory, row } from '../formats/tfjs/helpers';
import { graphModel, placeholder, type ConstSpec } from '../formats/tfjs/graph-builder';
import { executorOutputs, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../bracket/reference-runtimes';

const C = 8;
const SHAPE = [1, 2, 3, C];
const GAMMA = [0.5, -1.5, 0.25, 1, 2.5, -0.75, 1.25, 0.1];
const BETA = [0.1, -0.2, 0.3, 0, 0.05, -0.1, 0.2, 0.4];
const EPSILON = 1e-2;

/** The MAXIM layer norm of x; `squaredMeanOf`: the value whose mean's square is subtracted (x for the real thing). */
function maximGraph(squaredMeanOf: 'x' | 'other' = 'x') {
  const sum = (name: string, input: string) => ({ name, op: 'Sum', input: [input, 'axis'], attr: { keep_dims: { b: false } } });
  const consts: ConstSpec[] = [
    { name: 'axis', shape: [1], values: [3], dtype: 'int32' },
    { name: 'recip', shape: [], values: [1 / C] },
    { name: 'zero', shape: [], values: [0] },
    { name: 'eps', shape: [], values: [EPSILON] },
    { name: 'keep', shape: [4], values: [1, 2, 3, 1], dtype: 'int32' },
    { name: 'gamma', shape: [C], values: GAMMA },
    { name: 'beta', shape: [C], values: BETA },
    { name: 'two', shape: [], values: [2] },
  ];
  return graphModel(
    [
      placeholder('x', SHAPE),
      sum('sum', 'x'),
      { name: 'mean', op: 'Mul', input: ['sum', 'recip'] },
      { name: 'sq', op: 'Square', input: ['x'] },
      sum('sumsq', 'sq'),
      { name: 'meansq', op: 'Mul', input: ['sumsq', 'recip'] },
      ...(squaredMeanOf === 'x' ? [] : [{ name: 'other', op: 'Mul', input: ['x', 'two'] }, sum('sum2', 'other'), { name: 'mean2', op: 'Mul', input: ['sum2', 'recip'] }]),
      { name: 'sqmean', op: 'Square', input: [squaredMeanOf === 'x' ? 'mean' : 'mean2'] },
      { name: 'var', op: 'Sub', input: ['meansq', 'sqmean'] },
      { name: 'clamped', op: 'Maximum', input: ['zero', 'var'] },
      { name: 'var4', op: 'Reshape', input: ['clamped', 'keep'] },
      { name: 'plus', op: 'AddV2', input: ['var4', 'eps'] },
      { name: 'rsqrt', op: 'Rsqrt', input: ['plus'] },
      { name: 'scaled', op: 'Mul', input: ['rsqrt', 'gamma'] },
      { name: 'mean4', op: 'Reshape', input: ['mean', 'keep'] },
      { name: 'centred', op: 'Sub', input: ['x', 'mean4'] },
      { name: 'normalised', op: 'Mul', input: ['centred', 'scaled'] },
      { name: 'ln', op: 'AddV2', input: ['normalised', 'beta'] },
    ],
    consts,
  );
}

/** ‖J‖₂ of tfjs's own run of the graph at x, by central differences. */
async function jacobianNorm(json: Record<string, unknown>, shards: Record<string, Uint8Array>, model: Awaited<ReturnType<typeof openMemory>>, x: Float32Array, step: number): Promise<number> {
  const columns: Float32Array[] = [];
  for (let j = 0; j < x.length; j++) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[j] += step;
    minus[j] -= step;
    const [p, m] = [(await tfjsMemoryGraphOutputs(json, shards, model, plus))[0], (await tfjsMemoryGraphOutputs(json, shards, model, minus))[0]];
    columns.push(p.map((v, i) => (v - m[i]) / (2 * step)));
  }
  const jacobian = new Matrix(columns[0].length, x.length);
  columns.forEach((column, j) => column.forEach((v, i) => jacobian.set(i, j, v)));
  return largestSingularValue(jacobian);
}

test('MAXIM\'s layer norm (E[x²] − E[x]², max with 0, reshape, + ε, Rsqrt, ·γ, ·(x − mean), + β): max|γ|/√ε, reached at no spread, executed as tfjs runs it', async () => {
  const { json, shards } = maximGraph();
  const model = await openMemory(json, shards);
  const norm = row(model, 'normalised');
  const constant = Math.max(...GAMMA.map(Math.abs)) / Math.sqrt(Math.fround(EPSILON));
  assert.ok(norm.spec.type === 'fixed' && Math.abs(norm.spec.constant - constant) < 1e-9 * constant, JSON.stringify(norm.spec));
  assert.match(norm.spec.type === 'fixed' ? norm.spec.detail ?? '' : '', /layer norm written out \(x − mean, E\[x²\] − E\[x\]², \+ ε, √, multiply by the reciprocal, times γ/);
  assert.deepEqual(norm.inputs, ['x']);
  for (const name of ['sq', 'sumsq', 'meansq', 'sqmean', 'var', 'clamped', 'var4', 'plus', 'rsqrt', 'scaled']) assert.match(JSON.stringify(row(model, name).spec), /counted there/, name);
  // The executor runs the row (two-pass variance) to tfjs's one-pass values.
  const input = uniformInput(SHAPE, 7, -2, 2);
  const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
  assert.ok(error <= 1e-4, `relative error ${error}`);
  // At an input with no spread in any group: J = diag(γ)·P/√ε per group (P = I − 11ᵀ/n).
  const flat = Float32Array.from({ length: input.length }, (_, i) => 0.3 * Math.floor(i / C) - 0.5);
  const projection = Matrix.eye(C).sub(new Matrix(C, C).fill(1 / C));
  const exact = largestSingularValue(Matrix.diag(GAMMA).mmul(projection)) / Math.sqrt(EPSILON);
  const atFlat = await jacobianNorm(json, shards, model, flat, 1e-3);
  assert.ok(Math.abs(atFlat - exact) < 2e-3 * exact, `‖J‖ at no spread ${atFlat} vs ${exact}`);
  assert.ok(exact <= constant);
  for (const seed of [1, 2, 3]) {
    const x = uniformInput(SHAPE, seed, -1, 1);
    const slope = await jacobianNorm(json, shards, model, x, 1e-3);
    assert.ok(slope <= constant, `${slope} > ${constant}`);
  }
});

test('E[x²] minus the square of a mean of another value is no variance: the product stays unbounded', async () => {
  const { json, shards } = maximGraph('other');
  const model = await openMemory(json, shards);
  assert.equal(row(model, 'normalised').spec.type, 'unbounded');
  assert.equal(row(model, 'rsqrt').spec.type, 'unbounded');
});

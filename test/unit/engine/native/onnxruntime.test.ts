import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph, nativeLoadError, nativeMatMul, nativeProductsNote, nativeRuntime, useNativeProducts } from '../../../../src/engine/native/onnxruntime';
import { seededNormals } from '../../../helpers/explicit-matrix';

describe('native products (onnxruntime-node)', () => {
  const previous = useNativeProducts(true);
  after(() => {
    useNativeProducts(previous);
  });

  test('the runtime loads here (an installed dependency) and names itself for the report', () => {
    assert.ok(nativeRuntime(), `onnxruntime-node did not load: ${nativeLoadError()}`);
    assert.match(nativeProductsNote() ?? '', /^convolution products on onnxruntime-node \d+\.\d+/);
  });

  test('nativeMatMul is within the float32 rounding bound γ_k Σ|products| of the float64 product', () => {
    const [rows, inner, width] = [37, 130, 23];
    const left = seededNormals(rows * inner, 3);
    const right = seededNormals(inner * width, 4);
    const product = nativeMatMul(left, right, rows, inner, width);
    assert.ok(product);
    assert.equal(product.length, rows * width);
    const u = 2 ** -24;
    const gamma = (inner * u) / (1 - inner * u);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < width; j++) {
        let exact = 0;
        let absolute = 0;
        for (let k = 0; k < inner; k++) {
          exact += left[i * inner + k] * right[k * width + j];
          absolute += Math.abs(left[i * inner + k] * right[k * width + j]);
        }
        const error = Math.abs(product[i * width + j] - exact);
        assert.ok(error <= gamma * absolute + u * Math.abs(exact), `entry (${i}, ${j}) off by ${error}`);
      }
    }
  });

  test('a graph with symbolic dims takes each run its own sizes, and refuses wrong inputs', () => {
    const runtime = nativeRuntime();
    assert.ok(runtime);
    const graph = compileGraph(runtime, {
      nodes: [{ opType: 'Transpose', inputs: ['x'], output: 'y', ints: { perm: [1, 0] } }],
      initializers: [],
      inputs: [{ name: 'x', dims: ['a', 'b'] }],
      output: { name: 'y', dims: ['b', 'a'] },
    });
    try {
      assert.deepEqual(Array.from(graph.run({ data: Float32Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3] })), [1, 4, 2, 5, 3, 6]);
      assert.deepEqual(Array.from(graph.run({ data: Float32Array.of(1, 2), dims: [1, 2] })), [1, 2]);
      assert.throws(() => graph.run({ data: Float32Array.of(1, 2, 3), dims: [2, 2] }), /does not match its dims/);
      assert.throws(() => graph.run(), /takes 1 inputs/);
    } finally {
      graph.dispose();
    }
    assert.throws(() => graph.run({ data: Float32Array.of(1), dims: [1, 1] }), /after dispose/);
  });

  test('turned off, nothing runs natively and the report does not claim it', () => {
    useNativeProducts(false);
    try {
      assert.equal(nativeRuntime(), null);
      assert.equal(nativeMatMul(Float32Array.of(1), Float32Array.of(1), 1, 1, 1), null);
      assert.equal(nativeProductsNote(), undefined);
    } finally {
      useNativeProducts(true);
    }
  });
});

// An orthonormal basis of flat vectors kept in the backend, for the Krylov solvers.
//
// Stored as blocks of at most BLOCK_ROWS rows rather than one [rows, n] matrix: tensors are
// immutable, so appending to a single matrix copies the whole basis every step (30 ms for 64
// vectors of 200k floats on wasm, more than the reorthogonalisation itself); appending to the last
// block copies at most BLOCK_ROWS rows.

import * as tf from '@tensorflow/tfjs-core';

const BLOCK_ROWS = 8;

export interface Orthogonalised {
  vector: tf.Tensor1D;
  /** The basis coefficients removed (both passes summed), one per row. */
  coefficients: number[];
  /** ||vector||² after orthogonalisation. */
  squaredNorm: number;
}

export class Basis {
  private blocks: tf.Tensor2D[] = [];

  get rows(): number {
    return this.blocks.reduce((total, block) => total + block.shape[0], 0);
  }

  /** Appends a row (the basis takes its own reference; the caller still owns `row`). */
  append(row: tf.Tensor1D): void {
    const last = this.blocks[this.blocks.length - 1];
    if (last && last.shape[0] < BLOCK_ROWS) {
      const grown = tf.tidy(() => tf.concat([last, tf.reshape(row, [1, -1])]) as tf.Tensor2D);
      last.dispose();
      this.blocks[this.blocks.length - 1] = grown;
    } else {
      this.blocks.push(tf.tidy(() => tf.reshape(row, [1, -1]) as tf.Tensor2D));
    }
  }

  /**
   * w minus its projection on the basis, by classical Gram–Schmidt twice ("twice is enough":
   * the second pass removes what float32 rounding left after the first). Reads back only the
   * coefficients and the squared norm, in one transfer.
   */
  orthogonalise(w: tf.Tensor1D): Orthogonalised {
    const rows = this.rows;
    const { vector, scalars } = tf.tidy(() => {
      let rest: tf.Tensor1D = tf.clone(w);
      const parts: tf.Tensor1D[] = [];
      if (rows > 0) {
        let total: tf.Tensor1D | undefined;
        for (let pass = 0; pass < 2; pass++) {
          const coefficients = this.coefficientsOf(rest);
          rest = tf.sub(rest, this.combination(coefficients)) as tf.Tensor1D;
          total = total ? (tf.add(total, coefficients) as tf.Tensor1D) : coefficients;
        }
        parts.push(total as tf.Tensor1D);
      }
      parts.push(tf.reshape(tf.sum(tf.square(rest)), [1]) as tf.Tensor1D);
      return { vector: rest, scalars: tf.concat(parts) };
    });
    const values = Array.from(scalars.dataSync());
    scalars.dispose();
    const squaredNorm = values.pop() as number;
    return { vector, coefficients: values, squaredNorm };
  }

  /** The combinations Σ_i weights[t][i]·row_i, as new flat vectors (caller owns them). */
  combinations(weights: number[][]): tf.Tensor1D[] {
    return weights.map((row) => tf.tidy(() => this.combination(tf.tensor1d(row, 'float32'))));
  }

  /** Replaces the rows by the given vectors (the basis takes its own references). */
  reset(vectors: tf.Tensor1D[] = []): void {
    this.dispose();
    for (const vector of vectors) this.append(vector);
  }

  dispose(): void {
    tf.dispose(this.blocks);
    this.blocks = [];
  }

  /**
   * Basis · w, one coefficient per row. Elementwise products and sums rather than matMul: the wasm
   * backend's matMul gave wrong products inside the Krylov loop when its right operand changed
   * from call to call (seen as Ritz values above the true σ1), so no matMul here takes a
   * changing right operand.
   */
  private coefficientsOf(w: tf.Tensor1D): tf.Tensor1D {
    const row = tf.reshape(w, [1, -1]);
    return tf.concat(this.blocks.map((block) => tf.sum(tf.mul(block, row), 1))) as tf.Tensor1D;
  }

  /** Σ_i c_i·row_i as a flat vector. */
  private combination(c: tf.Tensor1D): tf.Tensor1D {
    let offset = 0;
    const parts = this.blocks.map((block) => {
      const rows = block.shape[0];
      const column = tf.reshape(tf.slice(c, [offset], [rows]), [rows, 1]);
      offset += rows;
      return tf.sum(tf.mul(block, column), 0);
    });
    return tf.reshape(parts.length === 1 ? parts[0] : tf.addN(parts), [-1]) as tf.Tensor1D;
  }
}

// An orthonormal basis of flat vectors kept in the backend, for the Krylov solvers.
//
// Layout. Rows are grouped in blocks of BLOCK_ROWS. A block that is full never changes again, so
// it is stored twice, as rows [B, n] and as columns [n, B], and both projections use matMul with
// that FIXED block as the right operand:
//   coefficients  c = w · columns   (a [1, n] row times [n, B]),
//   combination   Σ c_i row_i = c · rows   (a [1, B] row times [B, n]).
// The wasm backend hands a right operand to XNNPACK's fully-connected op and caches the packed
// copy by the tensor's id, so a fixed right operand is packed once and then streamed at memory
// speed: about 10x faster than the elementwise mul+sum sweep, which writes and rereads a [B, n]
// temporary. No matMul here ever takes a right operand that changes from call to call: that
// form gave wrong products inside the Krylov loop (Ritz values above the true σ1), so the last,
// partly filled block (re-created on every append) keeps the elementwise form.
// Memory: a full block costs four copies (rows, columns, and XNNPACK's packed copy of each); the
// solver sizes the basis for that (see basisCapacity in lanczos.ts).
//
// Passes. Classical Gram–Schmidt twice by default ("twice is enough"). A selective second pass
// (only when ||w|| > ratio·||w − projection||, the Daniel–Gragg–Kaufman–Stewart test) is available
// through the constructor but is NOT the default, because it was measured to cost accuracy in
// float32 on real layers: with the pass skipped at ratio 2, a 3→64 7x7 stride-2 conv at 224x224
// (basis 17) returned a Ritz value 5x ABOVE σ1, and at ratio √2 a 128→128 3x3 stride-2 conv at
// 56x56 needed 300 product pairs instead of 98 (its measured residual checks kept failing). One
// float32 pass over vectors of 10^5–10^6 values leaves too much behind; two passes matched the
// elementwise implementation's iterations and σ exactly.

import * as tf from '@tensorflow/tfjs-core';

const BLOCK_ROWS = 8;
/**
 * A second Gram–Schmidt pass runs when ||w|| > ratio·||w − projection||; the default ratio 1
 * means always (see Passes above).
 */
export const SECOND_PASS_RATIO = 1;
/** The DGKS ratio of orthogonaliseAfterRecurrence (its input has the recurrence's bulk removed). */
export const RECURRENCE_SECOND_PASS = Math.SQRT2;

export interface Orthogonalised {
  vector: tf.Tensor1D;
  /** The basis coefficients removed (all passes summed), one per row. */
  coefficients: number[];
  /** ||vector||² after orthogonalisation. */
  squaredNorm: number;
  /** Gram–Schmidt passes taken (0 for an empty basis). */
  passes: number;
}

interface FullBlock {
  rows: tf.Tensor2D; // [B, n]
  columns: tf.Tensor2D; // [n, B]
}

export class Basis {
  private full: FullBlock[] = [];
  /** The last block while it has fewer than BLOCK_ROWS rows. */
  private partial: tf.Tensor2D | undefined;
  /** Passes taken by orthogonalise() since construction (for measurements and tests). */
  passCount = 0;

  /** @param secondPassRatio see SECOND_PASS_RATIO: 1 (default) always takes two passes, Infinity one. */
  constructor(private readonly secondPassRatio = SECOND_PASS_RATIO) {}

  get rows(): number {
    return this.full.length * BLOCK_ROWS + (this.partial?.shape[0] ?? 0);
  }

  /** Appends a row (the basis takes its own reference; the caller still owns `row`). */
  append(row: tf.Tensor1D): void {
    const last = this.partial;
    const grown = tf.tidy(() => {
      const asRow = tf.reshape(row, [1, -1]);
      return (last ? tf.concat([last, asRow]) : tf.clone(asRow)) as tf.Tensor2D;
    });
    last?.dispose();
    if (grown.shape[0] === BLOCK_ROWS) {
      this.full.push({ rows: grown, columns: tf.tidy(() => tf.transpose(grown) as tf.Tensor2D) });
      this.partial = undefined;
    } else {
      this.partial = grown;
    }
  }

  /**
   * w minus its projection on the basis (see Passes above). Reads back only the coefficients and
   * two squared norms, in one transfer per pass.
   */
  orthogonalise(w: tf.Tensor1D): Orthogonalised {
    if (this.rows === 0) {
      const vector = tf.clone(w);
      const sum = tf.tidy(() => tf.sum(tf.square(vector)));
      const squaredNorm = sum.dataSync()[0];
      sum.dispose();
      return { vector, coefficients: [], squaredNorm, passes: 0 };
    }
    return this.secondPassIfNeeded(this.pass(w), this.secondPassRatio);
  }

  /**
   * The Lanczos recurrence's local step, then full Gram–Schmidt: for G v_c with v_c the last row
   * and v_{c−1} the one before it (both passed in, as the caller holds them), removes the known
   * β_{c−1}·v_{c−1} and the measured α·v_c first, then takes ONE pass over the whole basis, and a
   * second only when that pass removed more than half of what was left (||w||² > RECURRENCE_SECOND_PASS²·||rest||²,
   * the Daniel–Gragg–Kaufman–Stewart test). In exact arithmetic G v_c lies in span(v_{c−1}, v_c,
   * v_{c+1}), so the local step takes the bulk and its cancellation; the full pass then meets only
   * rounding-sized components, which is why one pass suffices here and not on the raw G v_c (see
   * Passes above). Coefficients returned are the totals per row, local parts included.
   */
  orthogonaliseAfterRecurrence(w: tf.Tensor1D, previous: tf.Tensor1D, previousCoefficient: number, current: tf.Tensor1D): Orthogonalised {
    const rows = this.rows;
    const { local, alpha } = tf.tidy(() => {
      const shifted = tf.sub(w, tf.mul(previous, previousCoefficient));
      const alphaTensor = tf.sum(tf.mul(shifted, current));
      return { local: tf.sub(shifted, tf.mul(current, alphaTensor)) as tf.Tensor1D, alpha: tf.reshape(alphaTensor, [1]) as tf.Tensor1D };
    });
    const first = this.pass(local, alpha);
    local.dispose();
    alpha.dispose();
    const result = this.secondPassIfNeeded(first, RECURRENCE_SECOND_PASS);
    result.coefficients[rows - 1] += first.extra[0];
    result.coefficients[rows - 2] += previousCoefficient;
    return result;
  }

  /** A second pass when the first removed too much (||w||² > ratio²·||rest||²); totals per row. */
  private secondPassIfNeeded(first: ReturnType<Basis['pass']>, ratio: number): Orthogonalised {
    let { vector, coefficients, restSquared } = first;
    let passes = 1;
    if (first.inputSquared > ratio ** 2 * restSquared) {
      const second = this.pass(vector);
      vector.dispose();
      vector = second.vector;
      coefficients = coefficients.map((value, i) => value + second.coefficients[i]);
      restSquared = second.restSquared;
      passes = 2;
    }
    this.passCount += passes;
    return { vector, coefficients, squaredNorm: restSquared, passes };
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
    tf.dispose(this.full.flatMap((block) => [block.rows, block.columns]));
    this.full = [];
    this.partial?.dispose();
    this.partial = undefined;
  }

  /**
   * One classical Gram–Schmidt pass; `extra` scalars ride along in the same read-back. ||w||² is
   * not measured but taken as Σc² + ||rest||² (Pythagoras on an orthonormal basis): it only feeds
   * the second-pass test, and one reduction over w costs as much as a small block's projection.
   */
  private pass(w: tf.Tensor1D, extra?: tf.Tensor1D): { vector: tf.Tensor1D; coefficients: number[]; restSquared: number; inputSquared: number; extra: number[] } {
    const { vector, scalars } = tf.tidy(() => {
      const coefficients = this.coefficientsOf(w);
      const rest = tf.sub(w, this.combination(coefficients)) as tf.Tensor1D;
      const restSquared = tf.reshape(tf.sum(tf.square(rest)), [1]);
      return { vector: rest, scalars: tf.concat([coefficients, restSquared, ...(extra ? [extra] : [])]) };
    });
    const values = Array.from(scalars.dataSync());
    scalars.dispose();
    const extraValues = extra ? values.splice(values.length - extra.size) : [];
    const restSquared = values.pop() as number;
    const inputSquared = values.reduce((sum, c) => sum + c * c, restSquared);
    return { vector, coefficients: values, restSquared, inputSquared, extra: extraValues };
  }

  /** Basis · w, one coefficient per row. */
  private coefficientsOf(w: tf.Tensor1D): tf.Tensor1D {
    const row = tf.reshape(w, [1, -1]) as tf.Tensor2D;
    const parts: tf.Tensor[] = this.full.map((block) => tf.reshape(tf.matMul(row, block.columns), [-1]));
    if (this.partial) parts.push(tf.sum(tf.mul(this.partial, row), 1));
    return (parts.length === 1 ? parts[0] : tf.concat(parts)) as tf.Tensor1D;
  }

  /** Σ_i c_i·row_i as a flat vector. */
  private combination(c: tf.Tensor1D): tf.Tensor1D {
    const parts: tf.Tensor[] = this.full.map((block, b) =>
      tf.matMul(tf.reshape(tf.slice(c, [b * BLOCK_ROWS], [BLOCK_ROWS]), [1, BLOCK_ROWS]), block.rows),
    );
    if (this.partial) {
      const rows = this.partial.shape[0];
      const column = tf.reshape(tf.slice(c, [this.full.length * BLOCK_ROWS], [rows]), [rows, 1]);
      parts.push(tf.sum(tf.mul(this.partial, column), 0));
    }
    return tf.reshape(parts.length === 1 ? parts[0] : tf.addN(parts.map((part) => tf.reshape(part, [-1]))), [-1]) as tf.Tensor1D;
  }
}

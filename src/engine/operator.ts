// A layer as a linear map: forward (the layer's own op, bias dropped) and its exact adjoint.
// Tensors carry batch 1: a batch of N identical blocks has the same σ.

import type * as tf from '@tensorflow/tfjs-core';

export interface LinearOperator {
  /** Shape of the tensors `forward` takes (the operator's internal layout, batch 1). */
  readonly inputShape: number[];
  /** Shape of the tensors `forward` returns and `adjoint` takes. */
  readonly outputShape: number[];
  /** y = A x. Must not dispose x. */
  forward(x: tf.Tensor): tf.Tensor;
  /** x = Aᵀ y, the exact transpose of forward. Must not dispose y. */
  adjoint(y: tf.Tensor): tf.Tensor;
  /** Set when the products run on ONNX Runtime rather than tfjs (operators/native-conv.ts). */
  readonly native?: true;
  /** Frees the operator's own tensors (weights, flipped kernels). */
  dispose(): void;
}

export interface SolverOptions {
  /** Target relative accuracy on σ. */
  tol: number;
  maxIter: number;
  seed: number;
  /** Polled between products; true stops the solver at once (cancellation). */
  shouldStop?: () => boolean;
}

export interface SolverResult {
  sigma: number;
  iterations: number;
  converged: boolean;
  /** ||AᵀA v − σ² v|| / σ² at the returned vector. */
  residual: number;
  method: string;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

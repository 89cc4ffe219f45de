// Normalisations and moduli for the graph executor (docs/bracket.md, "Executed normalisations"):
// layer / instance / group norm, RMS norm, L2 normalisation, their written-out forms, and √(a² + b²).
// Written with differentiable tfjs ops only, in the order the file computes them (ε placement matters).

import * as tf from '@tensorflow/tfjs-core';
import type { EpsilonStep, NodeExecution, WeightTensor } from '../../model/ir';

type Normalise = Extract<NodeExecution, { kind: 'normalise' }>;

function step(t: tf.Tensor, s: EpsilonStep | undefined): tf.Tensor {
  if (!s) return t;
  return s.kind === 'add' ? tf.add(t, s.epsilon) : tf.maximum(t, s.epsilon);
}

function constant(t: WeightTensor): tf.Tensor {
  return tf.tensor(t.data, t.dims.length ? t.dims : []);
}

/** scale·y / outer(√(inner(c·Σ y²))) over `axes`, y = x or x − mean(x); then ·γ + β. */
export function normalise(x: tf.Tensor, e: Normalise): tf.Tensor {
  const shape = x.shape;
  const t = e.groups ? tf.reshape(x, [shape[0], e.groups, -1]) : x;
  const y = e.centred ? tf.sub(t, tf.mean(t, e.axes, true)) : t;
  const spread = step(tf.mul(tf.sum(tf.square(y), e.axes, true), e.c), e.inner);
  const h = step(tf.sqrt(spread), e.outer);
  let out = tf.div(y, h);
  if (e.scale !== 1) out = tf.mul(out, e.scale);
  if (e.groups) out = tf.reshape(out, shape);
  if (e.gamma) out = tf.mul(out, constant(e.gamma));
  if (e.beta) out = tf.add(out, constant(e.beta));
  return out;
}

/** √(Σ aᵢ² + ε) entrywise. */
export function modulus(inputs: tf.Tensor[], epsilon: number): tf.Tensor {
  const squares = inputs.map((t) => tf.square(t)).reduce((a, b) => tf.add(a, b));
  return tf.sqrt(epsilon !== 0 ? tf.add(squares, epsilon) : squares);
}

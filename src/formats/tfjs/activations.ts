// Keras / TF.js activation identifiers (both spellings: Python's snake_case, tfjs's camelCase) and
// TF graph op names mapped onto the shared activation constants.

import type { ActivationName } from '../../analysis/constants';

export interface ActivationRef {
  name: ActivationName | string;
  alpha?: number;
}

/** A Keras activation identifier (string, or Keras 3's serialised object) as the file spells it. */
export function kerasActivationIdentifier(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as { class_name?: unknown; config?: unknown };
    if (typeof v.config === 'string') return v.config;
    if (v.config && typeof v.config === 'object' && typeof (v.config as { name?: unknown }).name === 'string') return (v.config as { name: string }).name;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return undefined;
}

/** Maps a Keras / tfjs activation identifier to a shared activation name; undefined for 'linear' / none. */
export function kerasActivation(identifier: string): ActivationRef | null {
  const key = identifier.replace(/[_\s]/g, '').toLowerCase();
  switch (key) {
    case 'linear':
    case 'none':
      return null;
    case 'relu': return { name: 'relu' };
    case 'relu6': return { name: 'relu6' };
    case 'elu': return { name: 'elu', alpha: 1 };
    case 'selu': return { name: 'selu' };
    case 'softplus': return { name: 'softplus' };
    case 'softsign': return { name: 'softsign' };
    case 'sigmoid': return { name: 'sigmoid' };
    case 'hardsigmoid': return { name: 'hardSigmoid', alpha: 0.2 };
    case 'tanh': return { name: 'tanh' };
    case 'softmax': return { name: 'softmax' };
    case 'logsoftmax': return { name: 'logSoftmax' };
    case 'swish':
    case 'silu': return { name: 'silu' };
    case 'gelu':
    case 'gelunew': return { name: 'gelu' };
    case 'mish': return { name: 'mish' };
    case 'exponential': return { name: 'exp' };
    case 'leakyrelu': return { name: 'leakyRelu', alpha: 0.2 };
    case 'hardswish':
    case 'hardsilu': return { name: 'hardSwish' };
    default: return { name: identifier };
  }
}

/** TF graph op names of pointwise activations (standalone ops and `fused_ops` entries). */
export function graphActivation(op: string, alpha?: number): ActivationRef | undefined {
  switch (op) {
    case 'Relu': return { name: 'relu' };
    case 'Relu6': return { name: 'relu6' };
    case 'Elu': return { name: 'elu', alpha: 1 };
    case 'Selu': return { name: 'selu' };
    case 'Sigmoid': return { name: 'sigmoid' };
    case 'Tanh': return { name: 'tanh' };
    case 'Softmax': return { name: 'softmax' };
    case 'LogSoftmax': return { name: 'logSoftmax' };
    case 'Softplus': return { name: 'softplus' };
    case 'Softsign': return { name: 'softsign' };
    case 'LeakyRelu': return { name: 'leakyRelu', alpha: alpha ?? 0.2 };
    case 'Swish': return { name: 'silu' };
    case 'Exp': return { name: 'exp' };
    case 'Abs': return { name: 'abs' };
    case 'Neg': return { name: 'neg' };
    default: return undefined;
  }
}

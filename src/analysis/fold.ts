// Finds batch norms (per-channel diagonal maps) that can be folded into the convolution before
// them: diag(a)·Conv(W) = Conv(diag(a)·W), whose σ is usually well below σ(Conv)·max|a|, so the
// network bound uses the folded layer and counts the batch norm as 1.

import type { IrModel, IrNode } from '../model/ir';

export interface BatchNormFold {
  /** Index of the diagonal node folded into the convolution. */
  diagonalIndex: number;
  /** One multiplier per output channel of the convolution (or one for all). */
  scale: Float32Array;
}

/** Convolution index → the diagonal that follows it, where folding is exact. */
export function findBatchNormFolds(model: IrModel): Map<number, BatchNormFold> {
  const consumers = new Map<string, number[]>();
  model.nodes.forEach((node, index) => {
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), index]);
  });
  const outputs = new Set(model.outputs);
  const folds = new Map<number, BatchNormFold>();
  model.nodes.forEach((node, index) => {
    const spec = node.spec;
    if (spec.type !== 'conv' || node.outputs.length !== 1) return;
    let value = node.outputs[0];
    let users = consumers.get(value) ?? [];
    // The convolution's own output must feed nothing but the diagonal, or folding would change it.
    if (users.length !== 1 || outputs.has(value)) return;
    let next = model.nodes[users[0]];
    // Identity rows in between (a Cast of a quantised convolution's accumulator) change nothing.
    while (isIdentity(next) && next.outputs.length === 1) {
      value = next.outputs[0];
      users = consumers.get(value) ?? [];
      if (users.length !== 1 || outputs.has(value)) return;
      next = model.nodes[users[0]];
    }
    if (next.spec.type !== 'diagonal' || next.inputs.length !== 1) return;
    const rank = next.inputShapes[0]?.length ?? 0;
    const channelAxis = spec.channelsLast ? rank - 1 : 1;
    const axis = next.spec.axis < 0 ? next.spec.axis + rank : next.spec.axis;
    const cOut = spec.weight.dims[0];
    const scale = next.spec.scale;
    const perChannel = scale.length === cOut && axis === channelAxis;
    if (!(perChannel || scale.length === 1) || !scale.every(Number.isFinite)) return;
    folds.set(index, { diagonalIndex: users[0], scale });
  });
  return folds;
}

/**
 * |a| when every multiplier has the same magnitude (one for all channels, as in a per-tensor
 * quantisation rescale), else null. Then diag(a) = |a|·D with D diagonal ±1, an isometry, so
 * σ(diag(a)·W) = |a|·σ(W) exactly: the folded layer needs no solve of its own.
 */
export function uniformMagnitude(scale: Float32Array): number | null {
  if (scale.length === 0) return null;
  const magnitude = Math.abs(scale[0]);
  for (const value of scale) if (Math.abs(value) !== magnitude) return null;
  return magnitude;
}

/** A row that is exactly the identity on values (Cast between float types, Identity, Dropout). */
function isIdentity(node: IrNode): boolean {
  const spec = node.spec;
  if (spec.type !== 'fixed' || spec.constant !== 1 || spec.values?.kind !== 'affine' || node.inputs.length !== 1) return false;
  const { scale, shift } = spec.values;
  return scale[0] === 1 && scale[1] === 1 && shift[0] === 0 && shift[1] === 0;
}

// Folds a per-output-channel diagonal that follows a convolution (batch norm at inference, a Mul by
// a per-channel constant) into the convolution's weight: diag(a)·Conv(W) = Conv(diag(a)·W). The
// folded layer's σ is usually much smaller than σ(Conv)·max|a|.

import type { ConvSpec } from '../../model/ir';

/** `scale` has one entry per output channel (or a single entry for a scalar). */
export function foldScaleIntoConv(spec: ConvSpec, scale: Float32Array): ConvSpec {
  const cOut = spec.weight.dims[0];
  if (scale.length !== cOut && scale.length !== 1) {
    throw new Error(`scale has ${scale.length} entries; the conv has ${cOut} output channels`);
  }
  const perChannel = spec.weight.data.length / cOut;
  const data = new Float32Array(spec.weight.data.length);
  for (let co = 0; co < cOut; co++) {
    const factor = scale.length === 1 ? scale[0] : scale[co];
    for (let i = co * perChannel; i < (co + 1) * perChannel; i++) data[i] = spec.weight.data[i] * factor;
  }
  return { ...spec, weight: { dims: [...spec.weight.dims], data } };
}

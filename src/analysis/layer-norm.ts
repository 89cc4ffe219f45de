// Layer norm written out op by op (mean, subtract, square, mean, add ε, √, divide: what exporters
// emit for LayerNorm below opset 17, PaddleOCR's SVTR among them) is recognised and reported as one
// layer norm: the Div row says so, and the rows only its denominator uses name it. It stays
// unbounded, like the LayerNormalization op (docs/op-coverage.md, "Layer norm written out").

import type { IrModel, IrNode } from '../model/ir';

/** Rewrites the reasons of every written-out layer norm's rows in place. */
export function recogniseLayerNorms(model: IrModel): void {
  const producers = new Map<string, IrNode>();
  for (const node of model.nodes) for (const output of node.outputs) producers.set(output, node);

  for (const divide of model.nodes) {
    if (divide.spec.type !== 'unbounded' || !/Div$/.test(divide.op) || divide.inputs.length !== 2) continue;
    const [centred, spread] = divide.inputs;
    // Numerator: x − mean(x).
    const subtract = producers.get(centred);
    if (subtract?.spec.type !== 'add' || subtract.spec.signs?.join() !== '1,-1') continue;
    const [x, mean] = subtract.inputs;
    const meanNode = producers.get(mean);
    if (meanNode?.spec.type !== 'reduceMean' || meanNode.inputs[0] !== x) continue;
    // Denominator: √(mean((x − mean)²) + ε), single-input rows back to the numerator.
    const chain: IrNode[] = [];
    let value = spread;
    for (let node = producers.get(value); node && chain.length < 6; node = producers.get(value)) {
      chain.push(node);
      const own = node.inputs.filter((v) => v !== centred);
      if (own.length === 0) break;
      if (own.length !== 1 || node.inputs.length > 2) break;
      value = own[0];
    }
    const reachesNumerator = chain.length > 0 && chain[chain.length - 1].inputs.includes(centred);
    const hasRoot = chain.some((n) => /^(Sqrt|Rsqrt)$/.test(n.op));
    const hasMean = chain.some((n) => n.spec.type === 'reduceMean');
    if (!reachesNumerator || !hasRoot || !hasMean) continue;
    const shift = chain.find((n) => n.spec.type === 'fixed' && n.spec.values?.kind === 'affine' && n.spec.values.shift[0] > 0);
    const epsilon = shift?.spec.type === 'fixed' && shift.spec.values?.kind === 'affine' ? shift.spec.values.shift[0] : undefined;
    const slope = epsilon ? ` (its slope is bounded only by 1/√ε = ${(1 / Math.sqrt(epsilon)).toPrecision(4)}, reached where the input has no spread)` : '';
    divide.spec = {
      type: 'unbounded',
      reason: `layer norm written out (mean, subtract, square, mean, add ε${epsilon ? ` = ${epsilon.toExponential(2)}` : ''}, √, divide) divides by a data-dependent standard deviation: reported unbounded, like LayerNormalization${slope}`,
    };
    for (const node of chain) {
      if (node.spec.type === 'unbounded') node.spec = { type: 'unbounded', reason: `part of the layer norm written out at ${divide.op} "${divide.name}"` };
    }
  }
}

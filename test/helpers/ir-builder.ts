// Small hand-built IR graphs for tests of the analysis and the engine pipeline.

import type { IrModel, IrNode, OpSpec } from '../../src/model/ir';

export function irNode(name: string, spec: OpSpec, inputs: string[], outputs: string[] = [name], shapes: { in?: number[][]; out?: number[][] } = {}): IrNode {
  return {
    name,
    op: spec.type,
    inputs,
    outputs,
    inputShapes: shapes.in ?? inputs.map(() => [1, 4]),
    outputShapes: shapes.out ?? outputs.map(() => [1, 4]),
    spec,
    weightShape: null,
  };
}

export function irModel(nodes: IrNode[], outputs: string[], inputShape: number[] = [1, 4]): IrModel {
  return {
    format: 'onnx',
    path: 'test.onnx',
    inputs: [{ name: 'x', shape: inputShape, declaredShape: inputShape }],
    outputs,
    nodes,
    metadata: { nodeCount: nodes.length, parameterCount: 0 },
    warnings: [],
  };
}

export const fixed = (constant: number): OpSpec => ({ type: 'fixed', kind: 'activation', constant });

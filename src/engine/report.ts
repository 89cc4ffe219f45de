// Assembles the report (docs/report.md) from the model and the engine's results.

import type { IrModel } from '../model/ir';
import type { EstimateSettings, ModelInfo, Report } from '../protocol/report';
import type { EstimateResult } from './estimate';

export function describeModel(model: IrModel): ModelInfo {
  return {
    path: model.path,
    format: model.format,
    inputShape: model.inputs[0]?.shape ?? [],
    ...(model.metadata.producer !== undefined ? { producer: model.metadata.producer } : {}),
    ...(model.metadata.producerVersion !== undefined ? { producerVersion: model.metadata.producerVersion } : {}),
    ...(model.metadata.opset !== undefined ? { opset: model.metadata.opset } : {}),
    inputs: model.inputs.map((input) => ({ name: input.name, shape: input.declaredShape })),
    outputs: model.metadata.outputShapes ?? model.outputs.map((name) => ({ name, shape: [] })),
    nodeCount: model.metadata.nodeCount,
    parameterCount: model.metadata.parameterCount,
    ...(model.signalInput !== undefined && model.inputs.length > 1 ? { signalInput: model.signalInput } : {}),
    outputsUsed: [...model.outputs],
  };
}

export function buildReport(
  model: IrModel,
  result: EstimateResult,
  seconds: number,
  settings: EstimateSettings,
  backend: string,
  warnings: string[],
): Report {
  return {
    model: describeModel(model),
    layers: result.layers,
    bounds: result.bounds,
    seconds,
    settings,
    backend,
    ...(warnings.length ? { warnings } : {}),
  };
}

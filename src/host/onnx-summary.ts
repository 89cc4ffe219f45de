// The summary of an ONNX model read from its header alone: inputs and outputs as declared
// (symbolic dimensions kept), opset, producer, node and parameter counts. It needs no input shape,
// so the .onnx editor can show it for a model whose input shape cannot be guessed.

import type { FileAccess } from '../model/files';
import { decodeModel, onnx, toNumber, type Int64 } from '../formats/onnx/proto';
import type { ModelInfo } from '../protocol/report';

function declaredShape(info: onnx.IValueInfoProto): (number | string)[] {
  const dims = info.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue as Int64) > 0 ? toNumber(d.dimValue as Int64) : '?'));
}

/** `inputShape` is [] (none resolved). Throws the loader's ModelError when the file is not ONNX. */
export async function summarizeOnnx(files: FileAccess): Promise<ModelInfo> {
  const name = files.mainPath.split(/[\\/]/).pop() ?? files.mainPath;
  const model = decodeModel(await files.readFile(name), files.mainPath);
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  // Weights are initializers, or Constant nodes' tensors (Paddle's exporter writes them so).
  const elements = (t: onnx.ITensorProto | null | undefined) => (t?.dims ?? []).reduce((n: number, d) => n * toNumber(d as Int64), 1);
  const constants = (graph.node ?? []).filter((n) => n.opType === 'Constant').map((n) => n.attribute?.find((a) => a.name === 'value')?.t);
  const parameterCount = [...(graph.initializer ?? []), ...constants.filter((t) => t)].reduce((sum, t) => sum + elements(t), 0);
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  return {
    path: files.mainPath,
    format: 'onnx',
    inputShape: [],
    ...(model.producerName ? { producer: model.producerName } : {}),
    ...(model.producerVersion ? { producerVersion: model.producerVersion } : {}),
    ...(opset !== undefined && opset !== null ? { opset: toNumber(opset as Int64) } : {}),
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map((i) => ({ name: i.name ?? '', shape: declaredShape(i) })),
    outputs: (graph.output ?? []).map((o) => ({ name: o.name ?? '', shape: declaredShape(o) })),
    nodeCount: (graph.node ?? []).length,
    parameterCount,
  };
}

// The ONNX format reader: detect a ModelProto by name and first bytes, then decode (onnx-proto) and
// walk the graph into the format-neutral IR.

import type { IrModel } from '../../model/ir';
import type { ModelFormatReader } from '../format';
import { ModelError, asModelError } from '../../model/errors';
import { resolveSharedPatterns } from '../../analysis/products';
import { walkGraph } from './graph';
import { QUANTISATION_STEPS, QUANTISED_WARNING } from './ops/quantized';
import { decodeModel, toNumber } from './proto';

/** Oldest opset whose attribute and input forms the loader knows. */
export const MIN_OPSET = 7;

function looksLikeModelProto(head: Uint8Array): boolean {
  // A ModelProto starts with ir_version (field 1, varint: 0x08) or, rarely, another small field
  // (opset_import 0x42, producer_name 0x12, graph 0x3a).
  return head.length > 1 && [0x08, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42].includes(head[0]);
}

export const onnxFormat: ModelFormatReader = {
  formats: ['onnx'],
  detect(fileName, head) {
    return /\.onnx$/i.test(fileName) && looksLikeModelProto(head);
  },
  async open(bytes, files, options): Promise<IrModel> {
    const file = files.mainPath;
    try {
      const model = decodeModel(bytes, file);
      if (!model.graph || (model.graph.node ?? []).length === 0) throw new ModelError(file, 'is not an ONNX model with a graph (no nodes found)');
      const imports = model.opsetImport ?? [];
      const main = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
      const warnings: string[] = [];
      let opset = main ? toNumber(main.version) : MIN_OPSET;
      if (!main) warnings.push(`the model imports no default opset; assuming opset ${MIN_OPSET}`);
      if (opset < MIN_OPSET) {
        warnings.push(`opset ${opset} is older than ${MIN_OPSET}; its ops are read with opset-${MIN_OPSET} semantics`);
        opset = MIN_OPSET;
      }
      const walked = await walkGraph(model, files, options, opset);
      const ir: IrModel = {
        format: 'onnx',
        path: file,
        inputs: walked.inputs,
        signalInput: walked.signal,
        outputs: (model.graph.output ?? []).map((o) => o.name ?? ''),
        nodes: walked.nodes,
        metadata: {
          producer: model.producerName || undefined,
          producerVersion: model.producerVersion || undefined,
          opset: main ? toNumber(main.version) : undefined,
          nodeCount: (model.graph.node ?? []).length,
          parameterCount: walked.parameterCount,
          outputShapes: (model.graph.output ?? []).map((o) => ({ name: o.name ?? '', shape: outputShape(o) })),
        },
        warnings: [...warnings, ...walked.warnings],
      };
      // Products of two data tensors (gated activations, bounded factors, or unbounded) and written-out layer norms, shared with TF.js.
      resolveSharedPatterns(ir, options.inputRange, options.inputRanges);
      if (ir.nodes.some((n) => QUANTISATION_STEPS.has(n.op))) ir.warnings.push(QUANTISED_WARNING);
      return ir;
    } catch (error) {
      if (error instanceof RangeError && /allocation|Array buffer|Invalid typed array length/i.test(error.message)) {
        throw new ModelError(file, `a tensor is too large to load (${error.message})`);
      }
      throw asModelError(error, file);
    }
  },
};

function outputShape(info: { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }): (number | string)[] {
  return (info.type?.tensorType?.shape?.dim ?? []).map((d) => {
    const v = toNumber(d.dimValue as number);
    return v !== 0 ? v : d.dimParam || '?';
  });
}

// Hand-built TF.js graph models (GraphDef JSON as the converter writes it) with their weight shard.

export interface ConstSpec {
  name: string;
  shape: number[];
  values: number[];
  dtype?: 'float32' | 'int32';
}

export const list = (...values: number[]) => ({ list: { i: values.map(String) } });
export const s = (text: string) => ({ s: btoa(text) });
export const sList = (...texts: string[]) => ({ list: { s: texts.map((t) => btoa(t)) } });

export function placeholder(name: string, dims: number[]) {
  return { name, op: 'Placeholder', attr: { shape: { shape: { dim: dims.map((d) => ({ size: String(d) })) } }, dtype: { type: 'DT_FLOAT' } } };
}

export function graphModel(nodes: object[], consts: ConstSpec[]): { json: Record<string, unknown>; shards: Record<string, Uint8Array> } {
  const constNodes = consts.map((c) => ({
    name: c.name,
    op: 'Const',
    attr: {
      value: { tensor: { dtype: c.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: c.shape.map((d) => ({ size: String(d) })) } } },
      dtype: { type: c.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' },
    },
  }));
  const total = consts.reduce((a, c) => a + c.values.length, 0);
  const buffer = new ArrayBuffer(4 * total);
  const view = new DataView(buffer);
  let at = 0;
  for (const c of consts) {
    for (const v of c.values) {
      if (c.dtype === 'int32') view.setInt32(at, v, true);
      else view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return {
    json: {
      format: 'graph-model',
      generatedBy: '2.x',
      convertedBy: 'hand-built test graph',
      modelTopology: { node: [...constNodes, ...nodes], versions: { producer: 1 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: consts.map((c) => ({ name: c.name, shape: c.shape, dtype: c.dtype ?? 'float32' })) }],
    },
    shards: { 'weights.bin': new Uint8Array(buffer) },
  };
}

export function range(count: number, scale = 0.1, offset = 0): number[] {
  return Array.from({ length: count }, (_, i) => ((i * 7) % 11) * scale - 0.5 + offset);
}

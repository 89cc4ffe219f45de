// Small random ReLU / LeakyReLU networks on 2–4 inputs, as IR (with the executor's data) and as a
// float64 reference that returns f(x) and the Jacobian J(x), for the bracket's property tests. The
// exact Lipschitz constant of such a piecewise-linear net is the largest ||J|| over its linear
// regions; `sampledConstant` finds it by dense sampling (a box around the data, a wide box, and the
// bias-free net, which is the net far from the origin).

import type { IrModel, IrNode, NodeExecution, OpSpec } from '../../../src/model/ir';
import { symmetricEigensystem } from '../../../src/engine/solvers/symmetric-eigen';

export type Kind = 'chain' | 'residual' | 'pool' | 'bn' | 'conv';

interface RefValue {
  v: Float64Array;
  /** d × n, row-major: J[i][k] = ∂v_k/∂x_i. */
  J: Float64Array;
}

type RefOp = (inputs: RefValue[], d: number) => RefValue;

export interface RandomNet {
  model: IrModel;
  d: number;
  kind: Kind;
  /** f(x) and J(x) in float64; `biasFree` drops every bias and shift. */
  reference(x: Float64Array, biasFree?: boolean): RefValue;
}

function rng(seed: number): () => number {
  let state = ((seed + 7) * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

export function randomNet(seed: number, kind: Kind): RandomNet {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const d = 2 + Math.floor(random() * 3);
  const width = 6 + 2 * Math.floor(random() * 4);
  const activations = 3 + Math.floor(random() * 5);
  const leaky = random() < 0.5 ? 0.05 + 0.3 * random() : 0;
  const nodes: IrNode[] = [];
  const ops: { op: RefOp; inputs: string[]; output: string; biasOp: RefOp }[] = [];
  let counter = 0;
  const add = (spec: OpSpec, execution: NodeExecution, inputs: string[], inShape: number[], outShape: number[], op: RefOp, biasFree: RefOp = op): string => {
    const name = `n${counter++}`;
    nodes.push({ name, op: spec.type, inputs, outputs: [name], inputShapes: inputs.map(() => inShape), outputShapes: [outShape], spec, weightShape: null, execution });
    ops.push({ op, inputs, output: name, biasOp: biasFree });
    return name;
  };
  const dense = (input: string, nIn: number, nOut: number): string => {
    const w = Float32Array.from({ length: nIn * nOut }, () => (gauss() * 1.3) / Math.sqrt(nIn));
    const b = Float32Array.from({ length: nOut }, () => 0.5 * gauss());
    const apply = (withBias: boolean): RefOp => ([x], dd) => {
      const v = new Float64Array(nOut);
      const J = new Float64Array(dd * nOut);
      for (let o = 0; o < nOut; o++) {
        let s = withBias ? b[o] : 0;
        for (let i = 0; i < nIn; i++) s += x.v[i] * w[i * nOut + o];
        v[o] = s;
        for (let r = 0; r < dd; r++) {
          let t = 0;
          for (let i = 0; i < nIn; i++) t += x.J[r * nIn + i] * w[i * nOut + o];
          J[r * nOut + o] = t;
        }
      }
      return { v, J };
    };
    return add({ type: 'dense', weight: { dims: [nIn, nOut], data: w } }, { kind: 'affine', bias: b }, [input], [1, nIn], [1, nOut], apply(true), apply(false));
  };
  const activation = (input: string, n: number): string => {
    const slope = leaky;
    const apply: RefOp = ([x]) => {
      const v = x.v.map((t) => (t >= 0 ? t : slope * t));
      const J = x.J.map((t, idx) => (x.v[idx % n] >= 0 ? t : slope * t));
      return { v, J };
    };
    const spec: OpSpec = { type: 'fixed', kind: 'activation', constant: 1, detail: slope ? `LeakyReLU(${slope})` : 'ReLU' };
    return add(spec, slope ? { kind: 'activation', name: 'leakyRelu', alpha: slope } : { kind: 'activation', name: 'relu' }, [input], [1, n], [1, n], apply);
  };
  const batchNorm = (input: string, n: number): string => {
    const scale = Float32Array.from({ length: n }, () => 0.5 + 1.5 * random());
    const shift = Float32Array.from({ length: n }, () => 0.3 * gauss());
    const apply = (withShift: boolean): RefOp => ([x]) => ({
      v: x.v.map((t, i) => t * scale[i] + (withShift ? shift[i] : 0)),
      J: x.J.map((t, idx) => t * scale[idx % n]),
    });
    return add({ type: 'diagonal', scale, axis: 1 }, { kind: 'affine', bias: shift }, [input], [1, n], [1, n], apply(true), apply(false));
  };
  const sum = (a: string, b: string, n: number): string => {
    const apply: RefOp = ([x, y]) => ({ v: x.v.map((t, i) => t + y.v[i]), J: x.J.map((t, i) => t + y.J[i]) });
    return add({ type: 'add' }, { kind: 'sum', signs: [1, 1] }, [a, b], [1, n], [1, n], apply);
  };
  /** [1, n] → [1, 2, n/2] → pool (kernel 2, stride 2 along the last axis) → [1, n/2]. */
  const pool = (input: string, n: number, max: boolean): string => {
    const half = n / 2;
    const reshaped = add({ type: 'fixed', kind: 'structural', constant: 1 }, { kind: 'reshape' }, [input], [1, n], [1, 2, half], ([x]) => x);
    const window = half / 2;
    const apply: RefOp = ([x], dd) => {
      const v = new Float64Array(2 * window);
      const J = new Float64Array(dd * 2 * window);
      for (let c = 0; c < 2; c++) {
        for (let p = 0; p < window; p++) {
          const a = c * half + 2 * p;
          const b = a + 1;
          const o = c * window + p;
          const pick = x.v[a] >= x.v[b] ? a : b;
          v[o] = max ? x.v[pick] : (x.v[a] + x.v[b]) / 2;
          for (let r = 0; r < dd; r++) {
            const row = r * x.v.length;
            J[r * 2 * window + o] = max ? x.J[row + pick] : (x.J[row + a] + x.J[row + b]) / 2;
          }
        }
      }
      return { v, J };
    };
    const spec: OpSpec = max
      ? { type: 'maxPool', channelsLast: false, kernel: [2], strides: [2], dilations: [1], padsBegin: [0], padsEnd: [0] }
      : { type: 'avgPool', channelsLast: false, kernel: [2], strides: [2], padsBegin: [0], padsEnd: [0], countIncludePad: false };
    const pooled = add(spec, { kind: 'spec' }, [reshaped], [1, 2, half], [1, 2, window], apply);
    return add({ type: 'fixed', kind: 'structural', constant: 1 }, { kind: 'reshape' }, [pooled], [1, 2, window], [1, half], ([x]) => x);
  };

  if (kind === 'conv') return convNet(seed, d, activations, leaky, random, gauss, add, ops, nodes);

  let value = dense('x', d, width);
  let n = width;
  for (let a = 0; a < activations; a++) {
    if (kind === 'residual' && a % 2 === 1) {
      const branch = dense(activation(value, n), n, n);
      value = sum(value, branch, n);
      continue;
    }
    value = activation(value, n);
    if (kind === 'bn' && a % 2 === 0) value = batchNorm(value, n);
    if (kind === 'pool' && a === 1 && n % 4 === 0) {
      value = pool(value, n, random() < 0.5);
      n /= 2;
    }
    value = dense(value, n, a === activations - 1 ? 1 + Math.floor(random() * 3) : width);
    if (a === activations - 1) n = nodes[nodes.length - 1].outputShapes[0][1];
    else n = width;
  }
  return finishNet(`random-${kind}-${seed}.onnx`, [1, d], kind, d, nodes, ops, value);
}

/** ||J||₂ of a d × m Jacobian (d ≤ 4): √λmax(J Jᵀ) of the d × d Gram matrix (Jacobi, solvers/symmetric-eigen.ts). */
export function jacobianNorm(J: Float64Array, d: number): number {
  const m = J.length / d;
  const G = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += J[a * m + k] * J[b * m + k];
    G[a * d + b] = s;
  }
  return Math.sqrt(Math.max(0, symmetricEigensystem(G, d).values[0]));
}

/** The largest ||J(x)|| found by dense sampling: the unit box, a wide box, and the bias-free net on the sphere (the regions at infinity). */
export function sampledConstant(net: RandomNet, samples = 20_000, seed = 1): number {
  const random = rng(seed + 1000);
  let best = 0;
  const x = new Float64Array(net.d);
  for (let s = 0; s < samples; s++) {
    const stage = s % 3;
    for (let i = 0; i < net.d; i++) x[i] = stage === 0 ? random() : stage === 1 ? 20 * (random() - 0.5) : random() - 0.5;
    const { J } = net.reference(x, stage === 2);
    best = Math.max(best, jacobianNorm(J, net.d));
  }
  return best;
}

/** The largest ||J|| at 400 points of the segment from a to b (its regions are the net's too). */
export function segmentConstant(net: RandomNet, a: ArrayLike<number>, b: ArrayLike<number>, points = 400): number {
  let best = 0;
  const x = new Float64Array(net.d);
  for (let k = 0; k <= points; k++) {
    const t = k / points;
    for (let i = 0; i < net.d; i++) x[i] = a[i] + t * (b[i] - a[i]);
    best = Math.max(best, jacobianNorm(net.reference(x).J, net.d));
  }
  return best;
}

type AddNode = (spec: OpSpec, execution: NodeExecution, inputs: string[], inShape: number[], outShape: number[], op: RefOp, biasFree?: RefOp) => string;

/**
 * A chain of 'same' stride-1 convolutions on a [1, 1, h, w] input with h·w = d (3x3 or 1x3 kernels,
 * some dilated, some depthwise, some 1x1), batch norms and ReLU / LeakyReLU: the networks whose
 * partial products the expansion certifies on a circular grid (circular.ts).
 */
function convNet(
  seed: number,
  d: number,
  activations: number,
  leaky: number,
  random: () => number,
  gauss: () => number,
  add: AddNode,
  ops: { op: RefOp; inputs: string[]; output: string; biasOp: RefOp }[],
  nodes: IrNode[],
): RandomNet {
  const [h, w] = d === 4 ? [2, 2] : [1, d];
  const positions = h * w;
  const channels = 3 + Math.floor(random() * 2);
  /** A conv as an explicit matrix (NCHW flattened), ONNX semantics, zero padding. */
  const conv = (input: string, cIn: number, cOut: number, style: 'full' | 'depthwise' | 'pointwise'): string => {
    const group = style === 'depthwise' ? cIn : 1;
    const cpg = cIn / group;
    const kernel = style === 'pointwise' ? [1, 1] : h === 1 ? [1, 3] : [3, 3];
    const dilation = style !== 'pointwise' && random() < 0.3 ? 2 : 1;
    const pads = kernel.map((k) => ((k - 1) * dilation) / 2);
    const taps = kernel[0] * kernel[1];
    const weight = Float32Array.from({ length: cOut * cpg * taps }, () => (gauss() * 1.3) / Math.sqrt(cpg * taps));
    const bias = Float32Array.from({ length: cOut }, () => 0.5 * gauss());
    const nIn = cIn * positions;
    const nOut = cOut * positions;
    const matrix = new Float64Array(nIn * nOut);
    for (let o = 0; o < cOut; o++) {
      const g = Math.floor(o / (cOut / group));
      for (let i = 0; i < cpg; i++) {
        for (let ky = 0; ky < kernel[0]; ky++) {
          for (let kx = 0; kx < kernel[1]; kx++) {
            for (let y = 0; y < h; y++) {
              for (let x = 0; x < w; x++) {
                const sy = y + ky * dilation - pads[0];
                const sx = x + kx * dilation - pads[1];
                if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                const source = (g * cpg + i) * positions + sy * w + sx;
                matrix[source * nOut + o * positions + y * w + x] += weight[((o * cpg + i) * kernel[0] + ky) * kernel[1] + kx];
              }
            }
          }
        }
      }
    }
    const apply = (withBias: boolean): RefOp => ([xv], dd) => {
      const v = new Float64Array(nOut);
      const J = new Float64Array(dd * nOut);
      for (let out = 0; out < nOut; out++) {
        let sum = withBias ? bias[Math.floor(out / positions)] : 0;
        for (let i = 0; i < nIn; i++) sum += xv.v[i] * matrix[i * nOut + out];
        v[out] = sum;
        for (let r = 0; r < dd; r++) {
          let t = 0;
          for (let i = 0; i < nIn; i++) t += xv.J[r * nIn + i] * matrix[i * nOut + out];
          J[r * nOut + out] = t;
        }
      }
      return { v, J };
    };
    const spec: OpSpec = { type: 'conv', channelsLast: false, weight: { dims: [cOut, cpg, ...kernel], data: weight }, strides: [1, 1], dilations: [dilation, dilation], padsBegin: pads, padsEnd: pads, group };
    return add(spec, { kind: 'affine', bias }, [input], [1, cIn, h, w], [1, cOut, h, w], apply(true), apply(false));
  };
  const activation = (input: string, c: number): string => {
    const n = c * positions;
    const apply: RefOp = ([xv]) => ({ v: xv.v.map((t) => (t >= 0 ? t : leaky * t)), J: xv.J.map((t, idx) => (xv.v[idx % n] >= 0 ? t : leaky * t)) });
    const spec: OpSpec = { type: 'fixed', kind: 'activation', constant: 1, detail: leaky ? `LeakyReLU(${leaky})` : 'ReLU' };
    return add(spec, leaky ? { kind: 'activation', name: 'leakyRelu', alpha: leaky } : { kind: 'activation', name: 'relu' }, [input], [1, c, h, w], [1, c, h, w], apply);
  };
  const batchNorm = (input: string, c: number): string => {
    const scale = Float32Array.from({ length: c }, () => 0.5 + 1.5 * random());
    const shift = Float32Array.from({ length: c }, () => 0.3 * gauss());
    const apply = (withShift: boolean): RefOp => ([xv]) => ({
      v: xv.v.map((t, i) => t * scale[Math.floor(i / positions)] + (withShift ? shift[Math.floor(i / positions)] : 0)),
      J: xv.J.map((t, idx) => t * scale[Math.floor((idx % (c * positions)) / positions)]),
    });
    return add({ type: 'diagonal', scale, axis: 1 }, { kind: 'affine', bias: shift }, [input], [1, c, h, w], [1, c, h, w], apply(true), apply(false));
  };
  let value = conv('x', 1, channels, 'full');
  for (let a = 0; a < activations; a++) {
    if (random() < 0.5) value = batchNorm(value, channels);
    value = activation(value, channels);
    const last = a === activations - 1;
    const style = last ? 'full' : (['full', 'depthwise', 'pointwise'] as const)[Math.floor(random() * 3)];
    value = conv(value, channels, last ? 1 : channels, style);
  }
  return finishNet(`random-conv-${seed}.onnx`, [1, 1, h, w], 'conv', d, nodes, ops, value);
}

/** The IR model of the built nodes, and its float64 reference: every op's value and Jacobian in order. */
function finishNet(path: string, inputShape: number[], kind: Kind, d: number, nodes: IrNode[], ops: { op: RefOp; inputs: string[]; output: string; biasOp: RefOp }[], value: string): RandomNet {
  const model: IrModel = {
    format: 'onnx',
    path,
    inputs: [{ name: 'x', shape: inputShape, declaredShape: inputShape }],
    outputs: [value],
    nodes,
    metadata: { nodeCount: nodes.length, parameterCount: 0 },
    warnings: [],
  };
  const reference = (x: Float64Array, biasFree = false): RefValue => {
    const values = new Map<string, RefValue>();
    const J = new Float64Array(d * d);
    for (let i = 0; i < d; i++) J[i * d + i] = 1;
    values.set('x', { v: x, J });
    for (const op of ops) values.set(op.output, (biasFree ? op.biasOp : op.op)(op.inputs.map((name) => values.get(name) as RefValue), d));
    return values.get(value) as RefValue;
  };
  return { model, d, kind, reference };
}

// LSTM, GRU and RNN: one row per weight matrix (input and recurrent, per gate and direction), off the
// data path, and the cell's row with a certified constant for the whole sequence the input shape
// gives, the initial states held fixed (src/analysis/recurrent.ts, docs/op-coverage.md).

import type { OpSpec, RecurrentDirection } from '../../../model/ir';
import { matrixNorm, nonnegativeNorm, recurrentConstant, rnnGains } from '../../../analysis/recurrent';
import { asFloat32, type ConstTensor } from '../tensor';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

type Kind = 'LSTM' | 'GRU' | 'RNN';
const GATES: Record<Kind, string[]> = { LSTM: ['i', 'o', 'f', 'c'], GRU: ['z', 'r', 'h'], RNN: ['h'] };
const DEFAULT_ACTIVATIONS: Record<Kind, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

/** Rows [from, from + count) of a [rows, cols] slice of a 3-D weight (direction d), row-major. */
function block(w: ConstTensor, d: number, from: number, count: number): Float32Array {
  const [, rows, cols] = w.dims;
  const data = asFloat32(w);
  return data.slice((d * rows + from) * cols, (d * rows + from + count) * cols);
}

function maxAbs(values: ArrayLike<number>, from = 0, to = values.length): number {
  let largest = 0;
  for (let i = from; i < to; i++) largest = Math.max(largest, Math.abs(values[i]));
  return largest;
}

function recurrent(kind: Kind): OpHandler {
  return {
    infer(ctx: NodeContext): NodeResult {
      const x = ctx.dynamic(0);
      const w = ctx.requireConstant(1, 'the input weights W');
      const r = ctx.requireConstant(2, 'the recurrent weights R');
      const gates = GATES[kind];
      const directions = ctx.attrs.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
      const hidden = ctx.attrs.int('hidden_size', r.dims[2] ?? 0);
      const batchFirst = ctx.attrs.int('layout', 0) === 1;
      if (x.length !== 3 || w.dims.length !== 3 || r.dims.length !== 3) ctx.fail(`expects a 3-D input and weights, gets ${formatShape(x)}, ${formatShape(w.dims)}, ${formatShape(r.dims)}`);
      const [steps, batch, features] = batchFirst ? [x[1], x[0], x[2]] : x;
      if (w.dims[0] !== directions || w.dims[1] !== gates.length * hidden || w.dims[2] !== features || r.dims[1] !== gates.length * hidden || r.dims[2] !== hidden) {
        ctx.fail(`weights ${formatShape(w.dims)} and ${formatShape(r.dims)} do not fit ${directions} direction(s), hidden size ${hidden} and input ${formatShape(x)}`);
      }
      const y = batchFirst ? [batch, steps, directions, hidden] : [steps, directions, batch, hidden];
      const state = [directions, batch, hidden];
      const outputShapes = kind === 'LSTM' ? [y, state, state] : [y, state];

      // One row per weight matrix: W_g is a dense map x_t ↦ W_g x_t (canonical [in, out] = W_gᵀ).
      const extraRows: NonNullable<NodeResult['extraRows']> = [];
      const norms: { w: number; r: number }[][] = [];
      for (let d = 0; d < directions; d++) {
        const perGate: { w: number; r: number }[] = [];
        gates.forEach((gate, g) => {
          const suffix = `${directions > 1 ? `${d === 0 ? 'forward' : 'backward'}/` : ''}${gate}`;
          const wBlock = block(w, d, g * hidden, hidden);
          const rBlock = block(r, d, g * hidden, hidden);
          for (const [which, data, cols] of [['W', wBlock, features], ['R', rBlock, hidden]] as const) {
            extraRows.push({ name: `${ctx.name}/${which}_${suffix}`, spec: { type: 'dense', weight: { dims: [cols, hidden], data: transpose(data, hidden, cols) } }, inputShape: [batch, cols], outputShape: [batch, hidden], weightShape: [hidden, cols] });
          }
          perGate.push({ w: matrixNorm(wBlock, hidden, features), r: matrixNorm(rBlock, hidden, hidden) });
        });
        norms.push(perGate);
      }

      const activations = ctx.attrs.strings('activations');
      const expected = Array.from({ length: directions }, () => DEFAULT_ACTIVATIONS[kind]).flat();
      const standardActivations = !activations || activations.join() === expected.join() || (kind === 'RNN' && activations.every((a) => a === 'Relu' || a === 'Tanh'));
      let spec: OpSpec;
      if (!standardActivations) spec = { type: 'unsupported', detail: `${kind} with activations ${activations?.join(', ')}` };
      else if (kind === 'LSTM' && ctx.attrs.int('input_forget', 0) !== 0) spec = { type: 'unsupported', detail: 'LSTM with input_forget (coupled gates)' };
      else {
        const directionsOf = norms.map((gate, d): RecurrentDirection | undefined => {
          if (kind === 'LSTM') {
            const [i, o, f, c] = gate;
            const peepholes = ctx.constant(7);
            const p = (k: number) => (peepholes ? maxAbs(peepholes.data, (d * 3 + k) * hidden, (d * 3 + k + 1) * hidden) : 0);
            return { kind: 'LSTM', w: { i: i.w, o: o.w, f: f.w, c: c.w }, r: { i: i.r, o: o.r, f: f.r, c: c.r }, p: { i: p(0), o: p(1), f: p(2) } };
          }
          if (kind === 'GRU') {
            const [z, rr, h] = gate;
            const bias = ctx.constant(3);
            // sup |R_h h + Rb_h| per entry for |h| ≤ H: max row ℓ1 norm of R_h times H, plus max |Rb_h|.
            const rh = block(r, d, 2 * hidden, hidden);
            let rowSum = 0;
            for (let row = 0; row < hidden; row++) {
              let sum = 0;
              for (let k = row * hidden; k < (row + 1) * hidden; k++) sum += Math.abs(rh[k]);
              rowSum = Math.max(rowSum, sum);
            }
            const recurrentBias = bias ? maxAbs(bias.data, d * 6 * hidden + 5 * hidden, d * 6 * hidden + 6 * hidden) : 0;
            return { kind: 'GRU', w: { z: z.w, r: rr.w, h: h.w }, r: { z: z.r, r: rr.r, h: h.r }, linearBeforeReset: ctx.attrs.int('linear_before_reset', 0) !== 0, rowSum, recurrentBias };
          }
          return undefined;
        }).filter((d): d is RecurrentDirection => d !== undefined);
        // The state the bound grows with: the LSTM's c₀ (input 6), the GRU's h₀ (input 5); the RNN's bound does not depend on it.
        const stateIndex = kind === 'LSTM' ? 6 : kind === 'GRU' ? 5 : -1;
        const stateConstant = stateIndex >= 0 ? ctx.constant(stateIndex) : undefined;
        // Data initial states (h₀ at 5, c₀ at 6) must be held fixed: the shared pass checks that they do not depend on the signal.
        const fixedStates = [5, 6].filter((k) => ctx.isDynamic(k)).map((k) => (ctx.node.input ?? [])[k]);
        const held = `initial state${fixedStates.length > 1 ? 's' : ''} held fixed`;
        const detail = `${kind} over ${steps} steps${directions > 1 ? ', both directions' : ''}, ${held}: certified bound from the per-gate weight norms (rows above) and the gates' ranges (docs/op-coverage.md)`;
        if (kind === 'RNN') {
          const constant = Math.sqrt(norms.reduce((s, gate) => s + nonnegativeNorm(rnnGains({ w: gate[0].w, r: gate[0].r, activation: 1 }, steps)) ** 2, 0));
          spec = fixedStates.length > 0
            ? { type: 'unbounded', reason: detail, recurrent: { kind, steps, directions: [], constant, fixedStates, detail } }
            : { type: 'fixed', kind: 'activation', constant, detail };
        } else if (ctx.isDynamic(stateIndex)) {
          // Resolved on the finished graph (src/analysis/products.ts) from the state's range.
          spec = { type: 'unbounded', reason: `the bound of ${kind === 'LSTM' ? 'an LSTM grows with the size of its initial cell state' : 'a GRU grows with the size of its initial state'}, which here is data with no known range`, recurrent: { kind, steps, directions: directionsOf, state: (ctx.node.input ?? [])[stateIndex], fixedStates, detail } };
        } else {
          const constant = recurrentConstant(directionsOf, steps, stateConstant ? maxAbs(stateConstant.data) : 0);
          spec = fixedStates.length > 0
            ? { type: 'unbounded', reason: detail, recurrent: { kind, steps, directions: directionsOf, constant, fixedStates, detail } }
            : { type: 'fixed', kind: 'activation', constant, detail };
        }
      }
      return { spec, outputShapes, weightShape: [...w.dims], dataInputs: [0], extraRows };
    },
  };
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}

export const recurrentOps: Record<string, OpHandler> = {
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  RNN: recurrent('RNN'),
};

// Normalisations written out op by op, and the constant every normalisation by a spread with ε > 0
// has (docs/op-coverage.md, "Normalisation layers").
//
// Layer norm below opset 17 (PaddleOCR's SVTR among them) is mean, subtract, square, mean, add ε,
// √, divide; RMS norm drops the centring; L2 normalisation (F.normalize, tf.math.l2_normalize)
// divides by a clipped ℓ2 norm. Each is g(y) = y / h(‖y‖) per group of entries, with y = x or
// y = x − mean(x) (an orthogonal projection, norm 1), and h convex, nondecreasing, with h(r)/r
// nonincreasing: then ‖J_g‖ ≤ 1/h(0), reached at y = 0. The Div (or Mul by the reciprocal) row is
// rewritten to read x and carry that constant; the rows of the denominator, read by nothing else,
// are shown as counted there. The entrywise modulus √(a² + b²) of two values (an STFT magnitude) is
// 1-Lipschitz in (a, b) jointly: its √ row reads a and b. Rows whose shapes or axes do not match
// these forms exactly are left as they are (unbounded, with their reason).

import type { FixedSpec, IrModel, IrNode, NodeExecution, WeightTensor } from '../model/ir';
import { graphIndex } from './subgraph';

/** The denominator h(r) = outer(√(inner(c·r²))) with r = ‖y‖ over a group; each ε step adds or clamps from below. */
export interface Spread {
  /** Coefficient of ‖y‖²: 1/N for a mean over N entries, 1 for a sum. */
  c: number;
  inner?: { kind: 'add' | 'max'; epsilon: number };
  outer?: { kind: 'add' | 'max'; epsilon: number };
}

/** h(0): the denominator at y = 0. */
export function spreadAtZero(spread: Spread): number {
  const inner = spread.inner?.epsilon ?? 0;
  const root = Math.sqrt(inner);
  const outer = spread.outer;
  return !outer ? root : outer.kind === 'add' ? root + outer.epsilon : Math.max(root, outer.epsilon);
}

/**
 * The Lipschitz constant of y ↦ y / h(‖y‖): 1/h(0) (Infinity when h(0) = 0, ε = 0). The Jacobian is
 * I/h − (h'/(r·h²))·yyᵀ: eigenvalues 1/h(r) across y and (h − r·h')/h² along it; h nondecreasing
 * gives 1/h(r) ≤ 1/h(0), and h convex with h(r) ≥ r·h'(r) ≥ 0 gives 0 ≤ h − r·h' ≤ h(0), so the
 * second is at most h(0)/h(r)² ≤ 1/h(0). At y = 0 the Jacobian is I/h(0).
 */
export function normalisationConstant(spread: Spread): number {
  const h0 = spreadAtZero(spread);
  return h0 > 0 ? 1 / h0 : Infinity;
}

/**
 * sup |g_i| of y / h(‖y‖) over a group of n entries: |y_i| ≤ ‖y‖ and h ≥ √c·‖y‖ give 1/√c; a centred
 * y (entries summing to 0) has y_i² ≤ (n − 1)/n·‖y‖², so √((n − 1)/n)/√c.
 */
export function normalisedEntryBound(spread: Spread, n: number, centred: boolean): number {
  return (centred ? Math.sqrt((n - 1) / n) : 1) / Math.sqrt(spread.c);
}

/** Layer / instance / group norm γ⊙(x − μ)/√(σ² + ε) + β over groups of n entries: its constant and its output range. */
export function layerNormBound(epsilon: number, n: number, gamma: ArrayLike<number> | undefined, beta: ArrayLike<number> | undefined): { constant: number; range?: [number, number] } {
  const spread: Spread = { c: 1 / n, inner: { kind: 'add', epsilon } };
  let largest = gamma ? 0 : 1;
  if (gamma) for (let i = 0; i < gamma.length; i++) largest = Math.max(largest, Math.abs(gamma[i]));
  const constant = largest * normalisationConstant(spread);
  const entry = normalisedEntryBound(spread, n, true);
  let lo = Infinity;
  let hi = -Infinity;
  const count = Math.max(gamma?.length ?? 1, beta?.length ?? 1);
  // Scale and bias entry by entry when they line up; else the largest |γ| with every β.
  const paired = (gamma?.length ?? count) === count && (beta?.length ?? count) === count;
  for (let i = 0; i < count; i++) {
    const g = gamma ? (paired ? Math.abs(gamma[i]) : largest) : 1;
    const b = beta ? (paired || beta.length === count ? beta[i % beta.length] : beta[0]) : 0;
    if (!paired && beta && beta.length !== count) for (let j = 0; j < beta.length; j++) {
      lo = Math.min(lo, beta[j] - g * entry);
      hi = Math.max(hi, beta[j] + g * entry);
    }
    lo = Math.min(lo, b - g * entry);
    hi = Math.max(hi, b + g * entry);
  }
  // Rounding of the float64 arithmetic above: widened by far more than its error.
  const margin = 1e-9 * Math.max(Math.abs(lo), Math.abs(hi));
  return { constant, ...(Number.isFinite(lo) && Number.isFinite(hi) ? { range: [lo - margin, hi + margin] as [number, number] } : {}) };
}

export function formatEpsilon(epsilon: number): string {
  return Number(epsilon.toPrecision(3)).toExponential().replace(/e([+-])(\d+)$/, (_, sign: string, digits: string) => `e${sign === '-' ? '-' : ''}${digits}`);
}

const PASS_THROUGH = /^(Identity|Cast|Expand)$/;

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The axes a keepdims reduction reduces (size-1 axes do not matter), or undefined when it drops axes. */
function reducedAxes(node: IrNode): number[] | undefined {
  const [x, y] = [node.inputShapes[0], node.outputShapes[0]];
  if (!x || !y || x.length !== y.length) return undefined;
  const axes: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (y[i] === x[i]) continue;
    if (y[i] !== 1) return undefined;
    axes.push(i);
  }
  return axes;
}

/** An ε step: adding a positive constant (the smallest when it varies), or clamping from below by one. */
function epsilonStep(node: IrNode): Spread['inner'] {
  if (node.spec.type !== 'fixed' || !node.spec.values || node.inputs.length !== 1 || !sameShape(node.inputShapes[0], node.outputShapes[0])) return undefined;
  const v = node.spec.values;
  if (v.kind === 'affine' && v.scale[0] === 1 && v.scale[1] === 1 && v.shift[0] > 0) return { kind: 'add', epsilon: v.shift[0] };
  if (v.kind === 'clip' && v.max === Infinity && v.min > 0) return { kind: 'max', epsilon: v.min };
  return undefined;
}

/** The ε step exactly as the row computes it (a uniform shift or clamp), for the graph executor; undefined when the ε varies. */
function exactEpsilon(node: IrNode): Spread['inner'] {
  const v = node.spec.type === 'fixed' ? node.spec.values : undefined;
  if (v?.kind === 'affine') return v.shift[0] === v.shift[1] ? { kind: 'add', epsilon: v.shift[0] } : undefined;
  return epsilonStep(node);
}

/**
 * Whether `node` computes n² entrywise: Pow 2, Square, n·n, or TF's SquaredDifference(p, q) where n
 * is p − q (or q − p: the square is the same) of the same shape.
 */
function isSquareOf(node: IrNode, n: string, producers: ReadonlyMap<string, IrNode>): boolean {
  if (node.inputs.length === 1 && node.inputs[0] === n) return (node.spec.type === 'unbounded' && node.spec.power === 2) || node.op === 'Square';
  if (node.op === 'SquaredDifference' && node.spec.type === 'unbounded' && node.inputs.length === 2) {
    const difference = producers.get(n);
    const [p, q] = node.inputs;
    // The same two operands broadcast the same way: (p − q)² entry by entry.
    return difference?.spec.type === 'add' && difference.spec.signs?.join() === '1,-1' && difference.inputs.length === 2 && p !== q
      && [p, q].sort().join('\n') === [...difference.inputs].sort().join('\n') && sameShape(difference.outputShapes[0], node.outputShapes[0]);
  }
  return node.spec.type === 'unbounded' && !!node.spec.product && node.inputs.length === 2 && node.inputs[0] === n && node.inputs[1] === n;
}

interface Denominator {
  spread: Spread;
  /** c of a Mul by c/h (rsqrt written as c / √·): the map is c·y/h. */
  scale: number;
  /** The axes the statistic reduces and the number of entries per group. */
  axes: number[];
  groupSize: number;
  rows: IrNode[];
  /** False when an ε step is not uniform (the bound takes the smallest): then the executor cannot run it. */
  exact: boolean;
  /** γ of a Mul by γ/h with γ a constant that broadcasts (MAXIM's rsqrt(·)·γ): the map is γ ⊙ c·y/h. */
  gamma?: WeightTensor;
  /** Set when the spread is E[x²] − E[x]² of this value x: then y must be x − mean(x) over the same axes. */
  raw?: string;
}

/**
 * Parses the denominator `value` of y / h: from the top, [reciprocal], pass-throughs, [outer ε], √,
 * [inner ε], a mean or sum over some axes of y², y² (or ReduceL2 for √ and the sum of squares).
 * `reciprocal`: the value is 1/h (a Mul form), so it must start with Reciprocal, Rsqrt or Pow −½.
 */
function parseDenominator(value: string, y: string, yShape: readonly number[], producers: ReadonlyMap<string, IrNode>, reciprocal: boolean): Denominator | undefined {
  const rows: IrNode[] = [];
  const next = (v: string): IrNode | undefined => {
    const node = producers.get(v);
    if (node) rows.push(node);
    return node;
  };
  let node = next(value);
  let rooted = false;
  let scale = 1;
  let exact = true;
  let gamma: WeightTensor | undefined;
  if (reciprocal && node && node.inputs.length === 1) {
    // A Mul by a constant γ (MAXIM: rsqrt(v + ε)·γ, γ broadcast over the normalised axis).
    const execution = node.execution;
    const spec = node.spec;
    if (execution?.kind === 'activation' && execution.name === 'scale' && execution.operand) gamma = execution.operand;
    else if (spec.type === 'diagonal' && execution?.kind === 'affine' && !execution.bias) {
      const shape = node.outputShapes[0] ?? [];
      gamma = { dims: spec.axis < 0 ? [] : shape.map((d, i) => (i === spec.axis ? d : 1)), data: spec.scale };
    }
    if (gamma) node = next(node.inputs[0]);
  }
  if (reciprocal) {
    if (!node || node.inputs.length !== 1) return undefined;
    const power = node.spec.type === 'unbounded' ? node.spec.power : undefined;
    const numerator = node.spec.type === 'unbounded' ? node.spec.numerator : undefined;
    if (node.op === 'Rsqrt' || power === -0.5) rooted = true;
    else if (numerator !== undefined && numerator !== 0) scale = numerator;
    else if (node.op !== 'Reciprocal' && power !== -1) return undefined;
    node = next(node.inputs[0]);
  }
  const spread: Spread = { c: 1 };
  if (!rooted) {
    while (node && PASS_THROUGH.test(node.op) && node.inputs.length === 1) node = next(node.inputs[0]);
    const outer = node && epsilonStep(node);
    if (node && outer) {
      spread.outer = outer;
      exact &&= !!exactEpsilon(node);
      node = next(node.inputs[0]);
    }
    if (!node || node.inputs.length !== 1) return undefined;
    if (node.op === 'ReduceL2') {
      const axes = reducedAxes(node);
      if (!axes || node.inputs[0] !== y || !sameShape(node.inputShapes[0], yShape)) return undefined;
      return { spread, scale, axes, groupSize: axes.reduce((s, a) => s * yShape[a], 1), rows, exact };
    }
    if (node.op !== 'Sqrt') return undefined;
    node = next(node.inputs[0]);
  }
  const inner = node && epsilonStep(node);
  if (node && inner) {
    spread.inner = inner;
    exact &&= !!exactEpsilon(node);
    node = next(node.inputs[0]);
  }
  // Reshapes that only add or drop size-1 axes, and a max with 0 (a variance written E[x²] − E[x]²
  // clamped against rounding: the identity on a true variance, docs/op-coverage.md "Normalisation layers").
  while (node && (isUnitReshape(node) || isClampAtZero(node))) node = next(node.inputs[0]);
  const extras = { ...(gamma ? { gamma } : {}) };
  if (node?.spec.type === 'add' && node.spec.signs?.join() === '1,-1' && node.inputs.length === 2 && !node.spec.weights) {
    const raw = rawVariance(node, producers);
    if (!raw || !sameShape(raw.shape, yShape)) return undefined;
    rows.push(...raw.rows);
    spread.c = 1 / raw.groupSize;
    return { spread, scale, axes: raw.axes, groupSize: raw.groupSize, rows, exact, ...extras, raw: raw.x };
  }
  if (!node || node.inputs.length !== 1 || !sameShape(node.inputShapes[0], yShape)) return undefined;
  const axes = reducedAxes(node);
  if (!axes) return undefined;
  const groupSize = axes.reduce((s, a) => s * yShape[a], 1);
  let squared = false;
  if (node.spec.type === 'reduceMean') spread.c = 1 / groupSize;
  // TF's Sum reduces (keep_dims checked above); ONNX's Sum of one input is the identity, a sum over groups of 1.
  else if (node.op === 'ReduceSum' || node.op === 'Sum') spread.c = 1;
  else if (node.op === 'ReduceSumSquare') squared = true;
  else return undefined;
  if (squared) return node.inputs[0] === y ? { spread, scale, axes, groupSize, rows, exact, ...extras } : undefined;
  node = next(node.inputs[0]);
  return node && isSquareOf(node, y, producers) ? { spread, scale, axes, groupSize, rows, exact, ...extras } : undefined;
}

/** A reshape that only adds or drops size-1 axes (a keepdims-less mean put back in place). */
function isUnitReshape(node: IrNode): boolean {
  const significant = (shape: readonly number[] | undefined) => (shape ?? []).filter((d) => d !== 1).join();
  return node.execution?.kind === 'reshape' && node.inputs.length === 1 && significant(node.inputShapes[0]) === significant(node.outputShapes[0]);
}

/** max(v, 0) entrywise. */
function isClampAtZero(node: IrNode): boolean {
  const v = node.spec.type === 'fixed' ? node.spec.values : undefined;
  return v?.kind === 'clip' && v.min === 0 && (v.max === Infinity || v.max === null) && node.inputs.length === 1 && sameShape(node.inputShapes[0], node.outputShapes[0]);
}

/** The axes of a sum over axes (kept as size 1, or dropped), or undefined. */
function sumAxes(node: IrNode): number[] | undefined {
  if (node.inputs.length !== 1) return undefined;
  if (node.execution?.kind === 'reduce') return node.execution.op === 'sum' ? node.execution.axes.map((a) => (a < 0 ? a + (node.inputShapes[0]?.length ?? 0) : a)) : undefined;
  return node.op === 'ReduceSum' || node.op === 'Sum' ? reducedAxes(node) : undefined;
}

/**
 * x, the axes and the rows when `value` is the mean of x over those axes: a ReduceMean, or a sum
 * times 1/n (n the entries summed; float32's 1/n to within 1e-6), with reshapes that add or drop
 * size-1 axes around them.
 */
function meanOf(value: string, producers: ReadonlyMap<string, IrNode>): { x: string; axes: number[]; shape: number[]; rows: IrNode[] } | undefined {
  const rows: IrNode[] = [];
  let node = producers.get(value);
  const skip = () => {
    while (node && isUnitReshape(node)) {
      rows.push(node);
      node = producers.get(node.inputs[0]);
    }
  };
  skip();
  if (!node || node.inputs.length !== 1) return undefined;
  if (node.spec.type === 'reduceMean') {
    const axes = reducedAxes(node);
    return axes ? { x: node.inputs[0], axes, shape: [...node.inputShapes[0]], rows: [...rows, node] } : undefined;
  }
  let factor = 1;
  if (node.spec.type === 'diagonal' && node.spec.axis < 0 && node.execution?.kind === 'affine' && !node.execution.bias) {
    factor = node.spec.scale[0];
    rows.push(node);
    node = producers.get(node.inputs[0]);
    skip();
  }
  const axes = node && sumAxes(node);
  if (!node || !axes) return undefined;
  const shape = node.inputShapes[0];
  const n = axes.reduce((p, a) => p * shape[a], 1);
  if (!(Math.abs(factor * n - 1) <= 1e-6)) return undefined;
  return { x: node.inputs[0], axes, shape: [...shape], rows: [...rows, node] };
}

/**
 * A variance written E[x²] − E[x]² (MAXIM's layer norm): mean(x²) − mean(x)², both means over the
 * same axes of the same x. Mathematically it is mean((x − μ)²), the spread of the centred value.
 */
function rawVariance(sub: IrNode, producers: ReadonlyMap<string, IrNode>): { x: string; axes: number[]; groupSize: number; shape: number[]; rows: IrNode[] } | undefined {
  const [p, q] = sub.inputs;
  const meanSquare = meanOf(p, producers);
  const square = meanSquare && producers.get(meanSquare.x);
  if (!meanSquare || !square || square.inputs.length < 1 || !isSquareOf(square, square.inputs[0], producers)) return undefined;
  const x = square.inputs[0];
  const squaredMean = producers.get(q);
  if (!squaredMean || squaredMean.inputs.length < 1 || !isSquareOf(squaredMean, squaredMean.inputs[0], producers)) return undefined;
  const mean = meanOf(squaredMean.inputs[0], producers);
  const shape = square.inputShapes[0];
  const significant = (axes: number[]) => axes.filter((a) => shape[a] !== 1).sort().join();
  if (!mean || mean.x !== x || !sameShape(mean.shape, shape) || !sameShape(meanSquare.shape, shape) || significant(mean.axes) !== significant(meanSquare.axes)) return undefined;
  const groupSize = meanSquare.axes.reduce((s, a) => s * shape[a], 1);
  return { x, axes: meanSquare.axes, groupSize, shape: [...shape], rows: [square, ...meanSquare.rows, squaredMean, ...mean.rows] };
}

/** x when y = x − mean(x) over exactly `axes` (the centring of a layer norm), else undefined. */
function centringOf(y: string, axes: number[], producers: ReadonlyMap<string, IrNode>): { x: string; shape: number[] } | undefined {
  const subtract = producers.get(y);
  if (subtract?.spec.type !== 'add' || subtract.spec.signs?.join() !== '1,-1' || subtract.inputs.length !== 2) return undefined;
  const [x, meanValue] = subtract.inputs;
  const mean = meanOf(meanValue, producers);
  if (!mean || mean.x !== x) return undefined;
  const meanAxes = mean.axes;
  const shape = subtract.inputShapes[0];
  if (!meanAxes || !sameShape(shape, subtract.outputShapes[0])) return undefined;
  // Size-1 axes make no difference to either mean.
  const significant = (list: number[]) => list.filter((a) => shape[a] !== 1).join();
  return significant(meanAxes) === significant(axes) ? { x, shape: [...shape] } : undefined;
}

/** Rewrites every written-out normalisation, and every √(a² + b²), in place (see the header). */
export function recogniseLayerNorms(model: IrModel): void {
  const { producers, consumers } = graphIndex(model);
  const graphOutputs = new Set(model.outputs);
  /** Rows of a pattern read by nothing but the pattern: shown as counted in its row (constant 0 off the bound's path). */
  const countIn = (head: IrNode, rows: IrNode[], what: string) => {
    const inside = new Set([head, ...rows]);
    for (const row of rows) {
      const exclusive = row.outputs.every((o) => !graphOutputs.has(o) && (consumers.get(o) ?? []).every((c) => inside.has(c)));
      if (!exclusive || row.spec.type === 'unsupported') continue;
      row.spec = { type: 'fixed', kind: 'structural', constant: 0, detail: `part of the ${what} at ${head.op} "${head.name}", counted there` };
    }
  };

  for (const node of model.nodes) {
    if (node.spec.type !== 'unbounded' || node.inputs.length !== 2) continue;
    const candidates: { y: string; denominator: string; reciprocal: boolean }[] = [];
    if (/Div$/.test(node.op) && !node.spec.product) candidates.push({ y: node.inputs[0], denominator: node.inputs[1], reciprocal: false });
    if (node.spec.product) {
      candidates.push({ y: node.inputs[0], denominator: node.inputs[1], reciprocal: true }, { y: node.inputs[1], denominator: node.inputs[0], reciprocal: true });
    }
    for (const { y, denominator, reciprocal } of candidates) {
      const yShape = node.inputShapes[node.inputs.indexOf(y)];
      if (!yShape || !sameShape(yShape, node.outputShapes[0])) continue;
      const parsed = parseDenominator(denominator, y, yShape, producers, reciprocal);
      if (!parsed) continue;
      const centring = centringOf(y, parsed.axes, producers);
      // E[x²] − E[x]² is the spread of y only when y is that x centred.
      if (parsed.raw !== undefined && centring?.x !== parsed.raw) continue;
      const { spread, groupSize } = parsed;
      const what = centring ? 'layer norm' : spread.c === 1 ? 'L2 normalisation' : 'RMS norm';
      const steps = `${centring ? 'x − mean, ' : ''}${parsed.raw !== undefined ? 'E[x²] − E[x]²' : `${spread.c === 1 ? 'sum' : 'mean'} of squares`}${spread.inner ? `, ${spread.inner.kind === 'add' ? '+' : 'max with'} ε` : ''}, √${spread.outer ? `, ${spread.outer.kind === 'add' ? '+' : 'max with'} ε` : ''}, ${reciprocal ? 'multiply by the reciprocal' : 'divide'}`;
      const epsilon = spread.inner && spread.outer ? `ε = ${formatEpsilon(spread.inner.epsilon)} and ${formatEpsilon(spread.outer.epsilon)}` : `ε = ${formatEpsilon((spread.inner ?? spread.outer)?.epsilon ?? 0)}`;
      const constant = normalisationConstant(spread);
      if (!Number.isFinite(constant)) {
        node.spec = { type: 'unbounded', reason: `${what} written out (${steps}) with ε = 0: its slope grows without bound where the input has no spread` };
        countIn(node, parsed.rows, `${what} written out`);
        break;
      }
      // γ inside the reciprocal's row (γ ⊙ c·y/h): its largest |γ| scales the bound.
      const gammaMax = parsed.gamma ? parsed.gamma.data.reduce((m, g) => Math.max(m, Math.abs(g)), 0) : 1;
      const scaled = Math.abs(parsed.scale) * gammaMax;
      const entry = scaled * normalisedEntryBound(spread, groupSize, !!centring);
      const bound = !spread.outer ? '1/√ε' : !spread.inner ? '1/ε' : spread.outer.kind === 'add' ? '1/(√ε₁ + ε₂)' : '1/max(√ε₁, ε₂)';
      const spec: FixedSpec = {
        type: 'fixed',
        kind: 'activation',
        constant: scaled * constant,
        detail: `${what} written out (${steps}${parsed.scale !== 1 ? `, times ${parsed.scale}` : ''}${parsed.gamma ? `, times γ with max |γ| = ${gammaMax.toPrecision(4)}` : ''}) over ${groupSize} entries: ≤ ${scaled !== 1 ? `${Number(scaled.toPrecision(4))}·` : ''}${bound} = ${(scaled * constant).toPrecision(4)}, ${epsilon}, reached where the input has no spread${what === 'L2 normalisation' ? '' : '; a scale γ after it is its own row'}`,
        values: { kind: 'bounded', min: -entry, max: entry },
      };
      node.spec = spec;
      // What the graph executor runs in place of the rows counted here.
      const execution: NodeExecution | undefined = parsed.exact
        ? { kind: 'normalise', axes: parsed.axes, centred: !!centring, c: spread.c, ...(spread.inner ? { inner: spread.inner } : {}), ...(spread.outer ? { outer: spread.outer } : {}), scale: parsed.scale, ...(parsed.gamma ? { gamma: parsed.gamma } : {}) }
        : undefined;
      if (execution) node.execution = execution;
      else delete node.execution;
      node.inputs = [centring ? centring.x : y];
      node.inputShapes = [centring ? centring.shape : [...yShape]];
      countIn(node, parsed.rows, `${what} written out`);
      break;
    }
  }
  recogniseModuli(model, producers, consumers, graphOutputs);
}

/** √(a² + b² [+ ε]) entrywise, a and b distinct values of its shape: 1-Lipschitz in (a, b) jointly. */
function recogniseModuli(model: IrModel, producers: ReadonlyMap<string, IrNode>, consumers: ReadonlyMap<string, IrNode[]>, graphOutputs: ReadonlySet<string>): void {
  for (const root of model.nodes) {
    if (root.op !== 'Sqrt' || root.spec.type !== 'unbounded' || root.inputs.length !== 1) continue;
    const shape = root.outputShapes[0];
    const rows: IrNode[] = [];
    let sum = producers.get(root.inputs[0]);
    const shift = sum && epsilonStep(sum);
    if (sum && shift?.kind === 'add') {
      rows.push(sum);
      sum = producers.get(sum.inputs[0]);
    }
    if (sum?.spec.type !== 'add' || sum.spec.weights || (sum.spec.signs ?? []).some((s) => s !== 1) || sum.inputs.length < 2 || !sameShape(sum.outputShapes[0], shape)) continue;
    rows.push(sum);
    const squares = sum.inputs.map((v) => producers.get(v));
    const bases = squares.map((sq) => (sq && sq.inputs.length >= 1 && isSquareOf(sq, sq.inputs[0], producers) && sameShape(sq.inputShapes[0], shape) ? sq.inputs[0] : undefined));
    if (bases.some((b) => b === undefined) || new Set(bases).size !== bases.length) continue;
    rows.push(...(squares as IrNode[]));
    const inside = new Set([root, ...rows]);
    if (!rows.every((row) => row.outputs.every((o) => !graphOutputs.has(o) && (consumers.get(o) ?? []).every((c) => inside.has(c))))) continue;
    root.spec = {
      type: 'fixed',
      kind: 'activation',
      constant: 1,
      detail: `√(${bases.map((_, i) => `${String.fromCharCode(97 + i)}²`).join(' + ')}${shift ? ' + ε' : ''}) entrywise (a modulus, e.g. an STFT magnitude): 1-Lipschitz in (${bases.map((_, i) => String.fromCharCode(97 + i)).join(', ')}) jointly`,
    };
    root.inputs = bases as string[];
    const exactShift = shift ? exactEpsilon(rows[0]) : undefined;
    if (!shift || exactShift?.kind === 'add') root.execution = { kind: 'modulus', epsilon: exactShift ? exactShift.epsilon : 0 };
    root.inputShapes = bases.map(() => [...shape]);
    for (const row of rows) row.spec = { type: 'fixed', kind: 'structural', constant: 0, detail: `part of the modulus at Sqrt "${root.name}", counted there` };
  }
}

// Activations written out op by op (docs/op-coverage.md, "Written-out activations"): GELU's tanh
// approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) and the sigmoid 1/(1 + exp(−x)), as
// jax2tf writes them in UpscalerJS's MAXIM models. A row whose value is, through rows read by nothing
// else, a scalar function of one value r (affine maps, sums and products of such functions, squares
// and cubes, tanh, exp, reciprocal) is parsed into an expression of r; when the expression has one
// of these two forms (up to scalar scales and shifts, checked on its coefficients), the head row
// reads r and carries the function's exact constant, and the rows it replaces are shown as counted
// there. Everything else is left as it was.

import type { FixedSpec, IrModel, IrNode } from '../model/ir';
import { graphIndex } from './subgraph';

/** A scalar expression of the root value x. */
type Expr =
  | { k: 'x' }
  | { k: 'affine'; scale: number; shift: number; a: Expr }
  | { k: 'add'; a: Expr; b: Expr; sign: number }
  | { k: 'mul'; a: Expr; b: Expr }
  | { k: 'pow'; n: number; a: Expr }
  | { k: 'tanh' | 'exp' | 'recip'; a: Expr };

/** How a row's output is made from its inputs, when it is an exactly pointwise scalar op. */
type Step =
  | { k: 'affine'; scale: number; shift: number }
  | { k: 'add'; sign: number }
  | { k: 'mul' }
  | { k: 'pow'; n: number }
  | { k: 'tanh' | 'exp' | 'recip' };

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The row as a scalar step, when every input has the output's shape (nothing broadcast). */
function stepOf(node: IrNode): Step | undefined {
  if (node.outputs.length !== 1 || node.inputs.length === 0 || !node.inputShapes.every((s) => sameShape(s, node.outputShapes[0]))) return undefined;
  const spec = node.spec;
  if (node.inputs.length === 1) {
    if (spec.type === 'diagonal') {
      const s = spec.scale[0];
      const bias = node.execution?.kind === 'affine' ? node.execution.bias : undefined;
      const b = bias?.[0] ?? 0;
      return spec.scale.every((v) => v === s) && (!bias || bias.every((v) => v === b)) ? { k: 'affine', scale: s, shift: b } : undefined;
    }
    if (spec.type === 'fixed' && spec.values?.kind === 'affine') {
      const v = spec.values;
      return v.scale[0] === v.scale[1] && v.shift[0] === v.shift[1] ? { k: 'affine', scale: v.scale[0], shift: v.shift[0] } : undefined;
    }
    if (spec.type === 'fixed' && spec.values?.kind === 'tanh') return { k: 'tanh' };
    if (spec.type === 'unbounded' && (node.op === 'Exp' || (node.execution?.kind === 'activation' && node.execution.name === 'exp'))) return { k: 'exp' };
    if (spec.type === 'unbounded' && /^(Reciprocal|Inv)$/.test(node.op)) return { k: 'recip' };
    if (spec.type === 'unbounded' && node.op === 'Square') return { k: 'pow', n: 2 };
    if (spec.type === 'unbounded' && (spec.power === 2 || spec.power === 3)) return { k: 'pow', n: spec.power };
    return undefined;
  }
  if (node.inputs.length !== 2) return undefined;
  if (spec.type === 'unbounded' && spec.product) return { k: 'mul' };
  // A sum whose execution lists both operands (both readers drop a constant operand from the inputs, and then give none).
  const sum = node.execution?.kind === 'sum' ? node.execution.signs : undefined;
  if (spec.type === 'add' && !spec.weights && sum?.length === 2 && sum[0] === 1 && Math.abs(sum[1]) === 1) return { k: 'add', sign: sum[1] };
  return undefined;
}

/**
 * The expression of `head`'s output in terms of `root`, expanding every other value through its
 * producer; undefined when a leaf other than `root` is reached. `rows` collects the rows expanded.
 */
function expressionOf(head: IrNode, root: string, producers: ReadonlyMap<string, IrNode>, rows: Set<IrNode>): Expr | undefined {
  let budget = 200;
  const build = (node: IrNode, depth: number): Expr | undefined => {
    const step = stepOf(node);
    if (!step || depth > 40 || --budget < 0) return undefined;
    rows.add(node);
    const operands: Expr[] = [];
    for (const input of node.inputs) {
      if (input === root) {
        operands.push({ k: 'x' });
        continue;
      }
      const producer = producers.get(input);
      const e = producer && build(producer, depth + 1);
      if (!e) return undefined;
      operands.push(e);
    }
    const [a, b] = operands;
    switch (step.k) {
      case 'affine': return { k: 'affine', scale: step.scale, shift: step.shift, a };
      case 'add': return { k: 'add', a, b, sign: step.sign };
      case 'mul': return { k: 'mul', a, b };
      case 'pow': return { k: 'pow', n: step.n, a };
      default: return { k: step.k, a };
    }
  };
  return build(head, 0);
}

/** Coefficients c₀…c₃ when e is a polynomial of degree ≤ 3 in x (affine maps, sums, products, powers). */
export function polynomialOf(e: Expr): number[] | undefined {
  const times = (p: number[], q: number[]): number[] | undefined => {
    const r = new Array<number>(p.length + q.length - 1).fill(0);
    p.forEach((u, i) => q.forEach((v, j) => (r[i + j] += u * v)));
    while (r.length > 1 && r[r.length - 1] === 0) r.pop();
    return r.length <= 4 ? r : undefined;
  };
  switch (e.k) {
    case 'x': return [0, 1];
    case 'affine': {
      const p = polynomialOf(e.a);
      return p && p.map((c, i) => e.scale * c + (i === 0 ? e.shift : 0));
    }
    case 'add': {
      const [p, q] = [polynomialOf(e.a), polynomialOf(e.b)];
      if (!p || !q) return undefined;
      return Array.from({ length: Math.max(p.length, q.length) }, (_, i) => (p[i] ?? 0) + e.sign * (q[i] ?? 0));
    }
    case 'mul': {
      const [p, q] = [polynomialOf(e.a), polynomialOf(e.b)];
      return p && q && times(p, q);
    }
    case 'pow': {
      const p = polynomialOf(e.a);
      let r: number[] | undefined = [1];
      for (let i = 0; i < e.n && r && p; i++) r = times(r, p);
      return p && r;
    }
    default: return undefined;
  }
}

/** e = scale·inner + shift, peeling the affine maps around it. */
function peel(e: Expr): { scale: number; shift: number; inner: Expr } {
  let [scale, shift, inner] = [1, 0, e];
  while (inner.k === 'affine') {
    shift += scale * inner.shift;
    scale *= inner.scale;
    inner = inner.a;
  }
  return { scale, shift, inner };
}

/** The factors of a product tree (affine maps without shift pulled out as a scale). */
function factorsOf(e: Expr): { scale: number; factors: Expr[] } {
  const { scale, shift, inner } = peel(e);
  if (shift !== 0 || inner.k !== 'mul') return { scale: 1, factors: [e] };
  const [p, q] = [factorsOf(inner.a), factorsOf(inner.b)];
  return { scale: scale * p.scale * q.scale, factors: [...p.factors, ...q.factors] };
}

// ---------------------------------------------------------------------------------------------
// GELU's tanh approximation G(z) = 0.5·z·(1 + tanh(K·(z + A·z³))), K = √(2/π), A = 0.044715.

export const GELU_TANH_K = Math.sqrt(2 / Math.PI);
export const GELU_TANH_A = 0.044715;
/** Relative tolerance on the cubic's coefficient ratio (float32 constants are within ~1e-7). */
export const GELU_TANH_TOLERANCE = 1e-5;

type Interval = [number, number];

/** Outward rounding: each float64 op (and Math.tanh, within 1 ulp) is off by far less than this. */
function out([lo, hi]: Interval): Interval {
  return [lo - 4e-16 * Math.abs(lo) - 1e-300, hi + 4e-16 * Math.abs(hi) + 1e-300];
}

function mul([a, b]: Interval, [c, d]: Interval): Interval {
  const corners = [a * c, a * d, b * c, b * d];
  return out([Math.min(...corners), Math.max(...corners)]);
}

/**
 * G'(z) = ½(1 + T) + ½K·z(1 + 3A·z²)·(1 − T²), T = tanh(K(z + A·z³)), enclosed over z ∈ [z0, z1] and
 * A ∈ [a0, a1] (a0 > 0) by interval arithmetic: K(z + A·z³) and z(1 + 3A·z²) increase with z, and
 * with A where z³ ≥ 0 (decrease where z³ < 0), so their ends are at the box's corners.
 */
export function geluTanhSlopeEnclosure(z0: number, z1: number, a0: number, a1: number): Interval {
  const at = (z: number, low: boolean): [number, number] => {
    const a = (z * z * z >= 0) === low ? a0 : a1;
    return [GELU_TANH_K * (z + a * z * z * z), z * (1 + 3 * a * z * z)];
  };
  const [[u0, w0], [u1, w1]] = [at(z0, true), at(z1, false)];
  const [ulo, uhi] = out([u0, u1]);
  const t = out([Math.tanh(ulo), Math.tanh(uhi)]);
  const [tlo, thi] = [Math.max(-1, t[0]), Math.min(1, t[1])];
  const squares = [tlo * tlo, thi * thi];
  const t2: Interval = tlo <= 0 && thi >= 0 ? [0, Math.max(...squares)] : [Math.min(...squares), Math.max(...squares)];
  const oneMinus = out([Math.max(0, 1 - t2[1]), 1 - t2[0]]);
  const second = mul(mul(out([w0, w1]), oneMinus), [0.5 * GELU_TANH_K, 0.5 * GELU_TANH_K]);
  return out([0.5 * (1 + tlo) + second[0], 0.5 * (1 + thi) + second[1]]);
}

/** G'(z) at one point, for A' = a. */
function geluTanhSlope(z: number, a: number): number {
  const t = Math.tanh(GELU_TANH_K * (z + a * z * z * z));
  return 0.5 * (1 + t) + 0.5 * GELU_TANH_K * z * (1 + 3 * a * z * z) * (1 - t * t);
}

/**
 * A certified upper bound of sup_z |G'(z)| for every A' in A·[1 − tol, 1 + tol]: on [−Z, Z], the
 * largest interval enclosure over boxes, a box being halved while its enclosure exceeds the largest
 * sampled |G'| by more than `slack` (relative) and it is wider than `width`; beyond, 1 + 2K·w(Z)·e^{−2u(Z)}
 * (docs/op-coverage.md, "Written-out activations"): for |z| ≥ Z, 1 − T² ≤ 4e^{−2|u|} and
 * 0 ≤ 1 + T ≤ 2e^{−2|u|} on the negative side, u = K(z + A'z³), and |w|·e^{−2|u|},
 * w = z(1 + 3A'z²), decreases in |z| there (d/dz log = w'/w − 2u' < 3/z − 2K < 0 for z ≥ 2).
 */
export function geluTanhSlopeBound(tolerance = GELU_TANH_TOLERANCE, slack = 1e-6, width = 1e-7, Z = 8): number {
  const [a0, a1] = [GELU_TANH_A * (1 - tolerance), GELU_TANH_A * (1 + tolerance)];
  let sampled = 0;
  for (let i = 0; i <= 4096; i++) for (const a of [a0, a1]) sampled = Math.max(sampled, Math.abs(geluTanhSlope(-Z + (2 * Z * i) / 4096, a)));
  let largest = 0;
  const stack: Interval[] = Array.from({ length: 256 }, (_, i) => [-Z + (2 * Z * i) / 256, -Z + (2 * Z * (i + 1)) / 256]);
  while (stack.length > 0) {
    const [lo, hi] = stack.pop() as Interval;
    const [g0, g1] = geluTanhSlopeEnclosure(lo, hi, a0, a1);
    const upper = Math.max(Math.abs(g0), Math.abs(g1));
    const middle = (lo + hi) / 2;
    sampled = Math.max(sampled, Math.abs(geluTanhSlope(middle, a0)), Math.abs(geluTanhSlope(middle, a1)));
    if (upper > sampled * (1 + slack) && hi - lo > width) stack.push([lo, middle], [middle, hi]);
    else largest = Math.max(largest, upper);
  }
  const tail = 1 + 2 * GELU_TANH_K * Z * (1 + 3 * a1 * Z * Z) * Math.exp(-2 * GELU_TANH_K * (Z + a0 * Z * Z * Z));
  return Math.max(largest, tail);
}

/** G(z) = ½·z·(1 + tanh(K(z + A·z³))). */
export function geluTanh(z: number): number {
  return 0.5 * z * (1 + Math.tanh(GELU_TANH_K * (z + GELU_TANH_A * z * z * z)));
}

/** Where G' = 0: G decreases before it and increases after (G' < 0 there, > 0 after; test-checked). */
export const GELU_TANH_ARGMIN = (() => {
  let [lo, hi] = [-2, 0];
  for (let i = 0; i < 80; i++) {
    const middle = (lo + hi) / 2;
    if (geluTanhSlope(middle, GELU_TANH_A) < 0) lo = middle;
    else hi = middle;
  }
  return (lo + hi) / 2;
})();

/** {G(z) : z between a and b}: the ends, and the minimum when z* lies between, widened by 1e-9 relative. */
export function geluTanhRange(a: number, b: number): [number, number] | undefined {
  const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
  const values = [geluTanh(lo), geluTanh(hi)];
  if (lo < GELU_TANH_ARGMIN && hi > GELU_TANH_ARGMIN) values.push(geluTanh(GELU_TANH_ARGMIN));
  if (!values.every(Number.isFinite)) return undefined;
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const margin = 1e-9 * Math.max(Math.abs(min), Math.abs(max), 1e-300);
  return [min - margin, max + margin];
}

let certified: number | undefined;
/** geluTanhSlopeBound(), computed once (a few thousand interval evaluations). */
export function geluTanhConstant(): number {
  certified ??= geluTanhSlopeBound();
  return certified;
}

/** The scalar function a written-out activation computes, and what its row becomes. */
interface Recognised {
  constant: number;
  detail: string;
  values?: FixedSpec['values'];
  /** Exactly sigmoid(x): the row runs as the sigmoid of its new input. */
  exactSigmoid?: boolean;
}

/**
 * s·(1 + tanh(q₁x + q₃x³))·λx + shift with q₃/q₁³ = A/K² (up to the tolerance): with k = q₁/K this is
 * (2sλ/k)·G(kx) + shift, of slope 2sλ·G'(kx), so L = 2|sλ|·sup|G'|. A factor written s·tanh + t with t
 * close to s adds (t − s)·λx: its slope |λ(t − s)| is added.
 */
function matchGeluTanh(e: Expr): Recognised | undefined {
  const outer = peel(e);
  const { scale, factors } = factorsOf(outer.inner);
  const gates = factors.filter((f) => peel(f).inner.k === 'tanh');
  if (gates.length !== 1) return undefined;
  let linear: number[] = [scale];
  for (const f of factors) {
    if (f === gates[0]) continue;
    const p = polynomialOf(f);
    if (!p) return undefined;
    const next: number[] = new Array<number>(linear.length + p.length - 1).fill(0);
    linear.forEach((u, i) => p.forEach((v, j) => (next[i + j] += u * v)));
    linear = next;
  }
  // λx: degree one, no constant term.
  while (linear.length > 1 && linear[linear.length - 1] === 0) linear.pop();
  if (linear.length !== 2 || linear[0] !== 0 || linear[1] === 0) return undefined;
  const lambda = outer.scale * linear[1];
  const gate = peel(gates[0]);
  if (gate.inner.k !== 'tanh' || gate.scale === 0 || Math.abs(gate.shift - gate.scale) > 1e-6 * Math.abs(gate.scale)) return undefined;
  const q = polynomialOf(gate.inner.a);
  if (!q || q.length !== 4 || q[0] !== 0 || q[2] !== 0 || q[1] === 0) return undefined;
  const ratio = q[3] / (q[1] * q[1] * q[1]);
  const expected = GELU_TANH_A / (GELU_TANH_K * GELU_TANH_K);
  if (Math.abs(ratio - expected) > GELU_TANH_TOLERANCE * expected) return undefined;
  const main = 2 * Math.abs(gate.scale * lambda);
  const extra = Math.abs(lambda * (gate.shift - gate.scale));
  const constant = main * geluTanhConstant() + extra;
  const k = q[1] / GELU_TANH_K;
  const outside = (2 * gate.scale * lambda) / k;
  const plain = Math.abs(outside - 1) < 1e-6 && Math.abs(k - 1) < 1e-6;
  const form = plain ? 'GELU' : `${Number(outside.toPrecision(6))}·GELU(${Number(k.toPrecision(6))}·x)`;
  // Its values where the form is exactly a scaled G (ranges on an input domain).
  const values = extra === 0 ? { values: { kind: 'geluTanh' as const, scale: outside, k, shift: outer.shift } } : {};
  return { ...values, constant, detail: `${form} in its tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) written out: max slope ${main !== 1 ? `${Number(main.toPrecision(6))} × ` : ''}1.1289 (certified by interval arithmetic)${extra > 0 ? ` + ${extra.toPrecision(3)}` : ''} = ${constant.toPrecision(6)}` };
}

/**
 * α/(n + m·e^{p₁x + p₀}) + β with m, n > 0: (α/n)·sigmoid(−p₁x − p₀ − ln(m/n)) + β, of slope at most
 * |α/n|·|p₁|/4 and values between β and α/n + β.
 */
function matchSigmoid(e: Expr): Recognised | undefined {
  const outer = peel(e);
  if (outer.inner.k !== 'recip') return undefined;
  const denominator = peel(outer.inner.a);
  if (denominator.inner.k !== 'exp' || !(denominator.scale > 0) || !(denominator.shift > 0)) return undefined;
  const p = polynomialOf(denominator.inner.a);
  if (!p || p.length !== 2 || p[1] === 0) return undefined;
  const [m, n] = [denominator.scale, denominator.shift];
  const height = outer.scale / n;
  const slope = -p[1];
  const offset = -p[0] - Math.log(m / n);
  const constant = (Math.abs(height) * Math.abs(slope)) / 4;
  const ends = [outer.shift, outer.shift + height];
  const exactSigmoid = height === 1 && outer.shift === 0 && slope === 1 && offset === 0;
  const form = exactSigmoid ? 'sigmoid' : `${Number(height.toPrecision(6))}·sigmoid(${Number(slope.toPrecision(6))}·x${offset !== 0 ? ` + ${Number(offset.toPrecision(6))}` : ''})${outer.shift !== 0 ? ` + ${outer.shift}` : ''}`;
  return {
    constant,
    detail: `${form} written out as 1/(1 + exp(−x)): max slope ${exactSigmoid ? '1/4' : `${Number((Math.abs(height) * Math.abs(slope)).toPrecision(6))}/4 = ${constant.toPrecision(6)}`}`,
    values: exactSigmoid ? { kind: 'sigmoid' } : { kind: 'bounded', min: Math.min(...ends), max: Math.max(...ends) },
    exactSigmoid,
  };
}

/**
 * Finds written-out GELU (tanh approximation) and sigmoid rows and rewrites them in place (see the
 * header). A GELU's head is a product row and keeps running as that product of its two factors
 * (the executor runs the rows it replaced, squares as x·x); a sigmoid exactly 1/(1 + exp(−x)) runs
 * as the sigmoid of x, any other scaled form as nothing (the executor then reports it).
 */
export function recogniseWrittenActivations(model: IrModel): void {
  const { producers, consumers } = graphIndex(model);
  const graphOutputs = new Set(model.outputs);
  const counted = new Set<IrNode>();
  const order = new Map(model.nodes.map((node, i) => [node, i]));
  for (let index = model.nodes.length - 1; index >= 0; index--) {
    const head = model.nodes[index];
    if (counted.has(head) || head.spec.type !== 'unbounded') continue;
    const gelu = !!head.spec.product && head.inputs.length === 2;
    const sigmoid = /^(Reciprocal|Inv)$/.test(head.op) && head.inputs.length === 1;
    if (!gelu && !sigmoid) continue;
    for (const root of candidateRoots(head, producers, order)) {
      const rows = new Set<IrNode>();
      const e = expressionOf(head, root, producers, rows);
      if (!e) continue;
      rows.delete(head);
      // Each replaced row is read only inside the pattern.
      const inside = new Set([head, ...rows]);
      if (![...rows].every((row) => row.outputs.every((o) => !graphOutputs.has(o) && (consumers.get(o) ?? []).every((c) => inside.has(c))))) continue;
      const found = gelu ? matchGeluTanh(e) : matchSigmoid(e);
      if (!found) continue;
      const rootShape = producers.get(root)?.outputShapes[producers.get(root)?.outputs.indexOf(root) ?? 0] ?? model.inputs.find((i) => i.name === root)?.shape;
      if (!rootShape || !sameShape(rootShape, head.outputShapes[0])) continue;
      const what = gelu ? 'written-out GELU' : 'written-out sigmoid';
      head.spec = { type: 'fixed', kind: 'activation', constant: found.constant, detail: found.detail, ...(found.values ? { values: found.values } : {}) };
      // The executor: a GELU head multiplies its two factors as before; the exact sigmoid runs on x.
      if (gelu) head.execution = { kind: 'product', factors: [head.inputs[0], head.inputs[1]], scale: 1 };
      else if (found.exactSigmoid) head.execution = { kind: 'activation', name: 'sigmoid' };
      else delete head.execution;
      head.inputs = [root];
      head.inputShapes = [[...rootShape]];
      for (const row of rows) {
        countIn(row, head, what);
        counted.add(row);
      }
      break;
    }
  }
}

/**
 * The values a pattern at `head` may be a function of, farthest first: every value its rows read,
 * expanding each value made by a scalar step (at most 48 rows). Only a value every path from the head
 * goes through gives an expression (expressionOf); the farthest that matches counts the most rows
 * (the Neg of 1/(1 + exp(−x)), a scale before a GELU) in the head, and a nearer one matches where a
 * farther one does not (a GELU of tanh(y) is one of tanh(y), not of y).
 */
function candidateRoots(head: IrNode, producers: ReadonlyMap<string, IrNode>, order: ReadonlyMap<IrNode, number>): string[] {
  const values = new Set<string>();
  const seen = new Set<IrNode>([head]);
  const queue = [head];
  while (queue.length > 0) {
    const node = queue.shift() as IrNode;
    for (const input of node.inputs) {
      values.add(input);
      const producer = producers.get(input);
      if (producer && !seen.has(producer) && seen.size < 48 && stepOf(producer)) {
        seen.add(producer);
        queue.push(producer);
      }
    }
  }
  const position = (v: string) => {
    const producer = producers.get(v);
    return producer ? order.get(producer) ?? -1 : -1;
  };
  return [...values].sort((a, b) => position(a) - position(b));
}

/**
 * Shows a replaced row as counted in the head (constant 0 off the bound's path), keeping what the
 * executor needs to run it where the head still reads it (a GELU's head multiplies its two factors):
 * products and squares run as products (x·x), a scalar scale as a multiplication by it, a sum as a
 * sum (its spec stays a sum, with weights 0), every other row by its own execution.
 */
function countIn(row: IrNode, head: IrNode, what: string): void {
  const detail = `part of the ${what} at ${head.op} "${head.name}", counted there`;
  const spec = row.spec;
  const step = stepOf(row);
  if (spec.type === 'add') {
    row.spec = { type: 'add', weights: row.inputs.map(() => 0), ...(spec.signs ? { signs: spec.signs } : {}), detail };
    return;
  }
  if (spec.type === 'diagonal') {
    if (step?.k !== 'affine' || step.shift !== 0) return;
    row.execution = { kind: 'activation', name: 'scale', operand: { dims: [], data: Float32Array.of(step.scale) } };
  }
  if (step?.k === 'mul') row.execution = { kind: 'product', factors: [row.inputs[0], row.inputs[1]], scale: 1 };
  if (step?.k === 'pow' && step.n === 2) row.execution = { kind: 'product', factors: [row.inputs[0], row.inputs[0]], scale: 1 };
  row.spec = { type: 'fixed', kind: 'structural', constant: 0, detail };
}

// A measured lower bound on the network's Lipschitz constant (docs/bracket.md, "From below").
// Every candidate is a difference quotient ||f(a) − f(b)|| / ||a − b|| of two real inputs, which is
// ≤ L by the definition of L: the value reported is the best such quotient (evaluated in float32,
// read back and divided in float64, so it is a lower bound up to float32 rounding of f). The search
// that finds good pairs:
// 1. at each sample input (random in the input range, or given), power iteration on J(x)ᵀJ(x):
//    J(x)ᵀu by tfjs autodiff, J(x)v by a central difference (exact on a linear region of a
//    piecewise-linear net, up to rounding); the pair x ± t·v along the top singular vector v;
// 2. from the best sample, steps along v (crossing activation regions), re-running a short power
//    iteration at each;
// 3. sign-gradient ascent on R(x, δ) = ||f(x + δ) − f(x)|| / ||δ|| over both x and δ.
// With domain 'range' the inputs stay inside the declared input range, so the value is also a lower
// bound on the constant restricted to that range; with 'everywhere' (the default, for the global
// constant the upper bound bounds) every other random sample is drawn from 10× and 1000× wider
// boxes around the range's centre, where a ReLU net behaves like its bias-free self.

import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered only on request (the union package does it; this project uses tfjs-core).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { IrModel } from '../../model/ir';
import { CancelledError } from '../operator';
import { executionPlan, OutOfTimeError, releaseTape, runGraph, withKernelCache } from './execute';

export interface LowerBoundOptions {
  /** Inputs are drawn from [lo, hi] (default [0, 1]). */
  inputRange?: [number, number];
  /** 'range': stay inside the input range; 'everywhere' (default): also sample far outside it. */
  domain?: 'range' | 'everywhere';
  /** Random sample inputs (default 4). */
  samples?: number;
  /** Further sample inputs (flattened, the model's input shape), e.g. from --samples. */
  givenInputs?: Float32Array[];
  seed?: number;
  /** Power-iteration steps at each sample (default 12). */
  powerSteps?: number;
  /** Sign-gradient ascent steps (default 24). */
  ascentSteps?: number;
  /**
   * Wall-clock budget (default 20 s): the search starts no step whose estimated cost (from the passes
   * timed so far) would end past it, and a pass still running at it is stopped between two ops
   * (OutOfTimeError); the best pair so far is kept (docs/bracket.md#time-budgets).
   */
  timeBudgetMs?: number;
  /** The clock the budget is measured on (ms; default performance.now). For tests. */
  clock?: () => number;
  /** Checked between the ops of every pass too; true throws CancelledError. */
  shouldStop?: () => boolean;
}

export interface LowerBoundResult {
  /** The best difference quotient found: ≤ the true Lipschitz constant (up to float32 rounding). */
  value: number;
  /** Which stage found it: 'sample', 'singular-direction' or 'ascent'. */
  foundBy: string;
  /** Largest ||J(x)v|| / ||v|| seen (the power iteration's estimate of a local Jacobian norm). */
  jacobianNorm: number;
  /** The pair (flattened inputs) and the distance between them. */
  input: Float32Array;
  partner: Float32Array;
  distance: number;
  /** Forward (and gradient) evaluations of the network. */
  evaluations: number;
  samplesTried: number;
  seconds: number;
  /** The budget ended the search (a step skipped or a pass stopped part-way). */
  timedOut: boolean;
  /** With timedOut: how the budget ended it, and the steps not run. */
  timedOutReason?: string;
}

interface Best {
  value: number;
  foundBy: string;
  input: Float32Array;
  partner: Float32Array;
  distance: number;
}

/** Kinds of network pass, timed so that a step is only started when it fits what is left of the budget. */
type PassKind = 'forward' | 'gradient' | 'ascent';

export function measureLowerBound(model: IrModel, options: LowerBoundOptions = {}): LowerBoundResult {
  const now = options.clock ?? (() => performance.now());
  const started = now();
  const [lo, hi] = options.inputRange ?? [0, 1];
  const span = hi > lo ? hi - lo : 1;
  const budget = options.timeBudgetMs ?? 20_000;
  const plan = executionPlan(model);
  const shape = model.inputs[0].shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const random = xorshift(options.seed ?? 0);
  let evaluations = 0;
  let jacobianNorm = 0;
  let samplesTried = 0;
  const best: Best = { value: 0, foundBy: 'none', input: new Float32Array(n), partner: new Float32Array(n), distance: 0 };
  let timedOut = false;
  let timedOutReason: string | undefined;
  const checkStop = () => {
    if (options.shouldStop?.()) throw new CancelledError();
  };
  // Between the ops of every pass: one pass of a large model can take minutes (docs/bracket.md#time-budgets).
  const checkpoint = () => {
    checkStop();
    if (now() - started > budget) throw new OutOfTimeError();
  };

  // The latest durations of each kind of pass (the first passes of a process are the slowest).
  const timings: Record<PassKind, number[]> = { forward: [], gradient: [], ascent: [] };
  const timed = <T>(kind: PassKind, run: () => T): T => {
    const begin = now();
    const value = run();
    timings[kind].push(now() - begin);
    if (timings[kind].length > 3) timings[kind].shift();
    return value;
  };
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  /** Estimated ms of one pass of a kind: the mean of its latest timings, else from the forward pass's. */
  const passCost = (kind: PassKind): number => {
    if (timings[kind].length > 0) return mean(timings[kind]);
    // Before the first of its kind: a gradient is a forward and a backward pass (about twice the
    // forward), the ascent's gradient runs the network twice.
    if (kind === 'gradient') return 3 * passCost('forward');
    if (kind === 'ascent') return 2 * passCost('gradient');
    return 0;
  };
  const stepCost = {
    power: () => 2 * passCost('forward') + passCost('gradient'),
    pair: () => 2 * passCost('forward'),
    ascent: () => passCost('ascent') + 2 * passCost('forward'),
  };
  const notRun: Record<string, number> = {};
  /**
   * Whether a step of this cost still fits the budget. When it does not, the step and the `rest`
   * like it after it are counted as not run: each is skipped, not started and cut off.
   */
  const fits = (cost: number, what: string, rest = 1): boolean => {
    const left = budget - (now() - started);
    if (left > cost) return true;
    if (!timedOut) timedOutReason = `the next ${what} (about ${fmtMs(cost)}) would have ended past the ${fmtMs(budget)} budget (${fmtMs(Math.max(0, left))} left)`;
    timedOut = true;
    notRun[what] = (notRun[what] ?? 0) + rest;
    return false;
  };

  const network = (x: tf.Tensor, forwardOnly = false): tf.Tensor => {
    const outputs = runGraph(model, plan, tf.reshape(x, shape), forwardOnly, checkpoint);
    return outputs.length === 1 ? tf.reshape(outputs[0], [-1]) : tf.concat(outputs.map((t) => tf.reshape(t, [-1])));
  };
  // Each pass returns its tensor from tidy and is read after: tidy walks a returned typed array key by
  // key (seconds for an input of 10⁶ entries).
  const read = (t: tf.Tensor): Float32Array => {
    const values = (t.dataSync() as Float32Array).slice();
    t.dispose();
    return values;
  };
  const evaluate = (x: Float32Array): Float32Array => {
    evaluations++;
    return timed('forward', () => read(tf.tidy(() => network(tf.tensor1d(x), true))));
  };
  const inRange = options.domain === 'range';
  const clip = (x: Float32Array): Float32Array => (inRange ? x.map((v) => Math.min(hi, Math.max(lo, v))) : x);
  /** The quotient of a pair, recorded when it is the best so far. */
  const quotient = (a: Float32Array, b: Float32Array, foundBy: string): number => record(a, b, evaluate(a), evaluate(b), foundBy);
  const record = (a: Float32Array, b: Float32Array, fa: Float32Array, fb: Float32Array, foundBy: string): number => {
    let top = 0;
    let bottom = 0;
    for (let i = 0; i < fa.length; i++) top += (fa[i] - fb[i]) ** 2;
    for (let i = 0; i < n; i++) bottom += (a[i] - b[i]) ** 2;
    const value = bottom > 0 ? Math.sqrt(top / bottom) : 0;
    if (Number.isFinite(value) && value > best.value) Object.assign(best, { value, foundBy, input: a.slice(), partner: b.slice(), distance: Math.sqrt(bottom) });
    return value;
  };
  /** J(x)ᵀu by autodiff. */
  const vjp = (x: Float32Array, u: Float32Array): Float32Array => {
    evaluations++;
    return timed('gradient', () =>
      read(
        tf.tidy(() => {
          const target = tf.tensor1d(u);
          return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(network(input), target)))(tf.tensor1d(x));
        }),
      ),
    );
  };
  // The central-difference step: about 1e-3 of the range (or of the input's own size, far from
  // it, where float32 resolves no finer) per coordinate for a unit v.
  const scaleOf = (x: Float32Array) => Math.max(span, x.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  const stepAt = (x: Float32Array) => 1e-3 * scaleOf(x) * Math.sqrt(n);
  const inside = (x: Float32Array) => !inRange || x.every((v) => v >= lo && v <= hi);
  const jvp = (x: Float32Array, v: Float32Array, foundBy: string): Float32Array => {
    const step = stepAt(x);
    const a = x.map((xi, i) => xi + step * v[i]);
    const b = x.map((xi, i) => xi - step * v[i]);
    const plus = evaluate(a);
    const minus = evaluate(b);
    // The two points are a pair like any other: a quotient from the first two passes, so a run whose
    // budget ends during its first step still has a value.
    if (inside(a) && inside(b)) record(a, b, plus, minus, foundBy);
    return plus.map((p, i) => (p - minus[i]) / (2 * step));
  };

  /** Power iteration on J(x)ᵀJ(x) from v; returns the top direction and ||J v||. */
  const topDirection = (x: Float32Array, start: Float32Array, steps: number, foundBy: string): { v: Float32Array; sigma: number } => {
    let v = normalised(start);
    let sigma = 0;
    for (let k = 0; k < steps; k++) {
      checkStop();
      // A step that would not end within the budget is not started (one already running is stopped by the checkpoint).
      if (!fits(stepCost.power(), 'power step', steps - k)) break;
      const w = jvp(x, v, foundBy);
      sigma = norm(w);
      jacobianNorm = Math.max(jacobianNorm, sigma);
      const g = vjp(x, w);
      const size = norm(g);
      if (!(size > 0)) break;
      v = g.map((gi) => gi / size);
    }
    return { v, sigma };
  };
  const pairAlong = (x: Float32Array, v: Float32Array, foundBy: string) => {
    for (const [i, scale] of [1, 10, 100].entries()) {
      if (!fits(stepCost.pair(), 'pair along v', 3 - i)) break;
      const t = stepAt(x) * scale;
      quotient(clip(x.map((xi, i) => xi + t * v[i])), clip(x.map((xi, i) => xi - t * v[i])), foundBy);
    }
  };

  // 1. Samples.
  const inputs = [...(options.givenInputs ?? []).map((x) => clip(x))];
  const centre = (lo + hi) / 2;
  for (let s = 0; s < (options.samples ?? 4); s++) {
    const width = inRange || s % 2 === 0 ? 1 : s % 4 === 1 ? 10 : 1000;
    inputs.push(Float32Array.from({ length: n }, () => centre + (random() - 0.5) * span * width));
  }
  if (inputs.length === 0) throw new Error('no sample input');
  const search = () => {
    let bestSample: { x: Float32Array; v: Float32Array; sigma: number } | undefined;
    for (const [i, x] of inputs.entries()) {
      if (!fits(stepCost.power(), 'sample', inputs.length - i)) break;
      samplesTried++;
      const { v, sigma } = topDirection(x, gaussian(n, random), options.powerSteps ?? 12, 'sample');
      pairAlong(x, v, 'sample');
      if (!bestSample || sigma > bestSample.sigma) bestSample = { x, v, sigma };
    }
    if (!bestSample) return;

    // 2. Steps along the top singular direction, into neighbouring activation regions.
    const fractions = [0.01, -0.01, 0.05, -0.05, 0.2, -0.2];
    for (const [done, fraction] of fractions.entries()) {
      if (!fits(stepCost.power(), 'move along v', fractions.length - done)) break;
      const { x, v } = bestSample;
      // Hoisted: inside the map it made the step O(n²) (minutes at 224²).
      const reach = fraction * scaleOf(x) * Math.sqrt(n);
      const moved = clip(x.map((xi, i) => xi + reach * v[i]));
      const { v: w, sigma } = topDirection(moved, v, 4, 'singular-direction');
      pairAlong(moved, w, 'singular-direction');
      if (sigma > bestSample.sigma) bestSample = { x: moved, v: w, sigma };
    }
    ascend(bestSample);
  };

  // 3. Sign-gradient ascent on R(x, δ) over both the point and the displacement.
  const ascend = (bestSample: { x: Float32Array; v: Float32Array }) => {
  let x: Float32Array = bestSample.x.slice();
  const firstStep = stepAt(bestSample.x) * 10;
  let delta = bestSample.v.map((vi) => vi * firstStep);
  const ascentSteps = options.ascentSteps ?? 24;
  for (let k = 0; k < ascentSteps; k++) {
    checkStop();
    if (!fits(stepCost.ascent(), 'ascent step', ascentSteps - k)) break;
    evaluations++;
    const size = norm(delta);
    const [gx, gd] = timed('ascent', () =>
      tf
        .tidy(() => {
          const ratio = (xs: tf.Tensor, ds: tf.Tensor) => {
            const difference = tf.sub(network(tf.add(xs, ds)), network(xs));
            return tf.div(tf.sqrt(tf.sum(tf.square(difference))), tf.sqrt(tf.sum(tf.square(ds))));
          };
          return tf.grads(ratio)([tf.tensor1d(x), tf.tensor1d(delta)]);
        })
        .map(read),
    );
    const rate = 0.02 / (1 + k / 8);
    const reach = rate * scaleOf(x);
    x = clip(x.map((xi, i) => xi + reach * Math.sign(gx[i])));
    delta = delta.map((di, i) => di + rate * (size / Math.sqrt(n)) * Math.sign(gd[i]));
    quotient(clip(x.map((xi, i) => xi + delta[i])), x, 'ascent');
  }
  };

  try {
    // Each convolution's kernels are rearranged once for the whole search, not once per pass.
    withKernelCache(search);
  } catch (error) {
    releaseTape();
    // Past the budget mid-pass: the pairs recorded so far stand (each one is a finished quotient).
    if (!(error instanceof OutOfTimeError)) throw error;
    timedOut = true;
    timedOutReason = `the ${fmtMs(budget)} budget ran out during a pass of the network (stopped between two ops)`;
  }
  const skipped = Object.entries(notRun).map(([what, count]) => `${count} × ${what}`);
  if (timedOutReason && skipped.length > 0) timedOutReason += `; not run: ${skipped.join(', ')}`;

  return {
    value: best.value,
    foundBy: best.foundBy,
    jacobianNorm,
    input: best.input,
    partner: best.partner,
    distance: best.distance,
    evaluations,
    samplesTried,
    seconds: (now() - started) / 1000,
    timedOut,
    ...(timedOutReason ? { timedOutReason } : {}),
  };
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toPrecision(3))} s` : `${Math.round(ms)} ms`;
}

function norm(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum);
}

function normalised(x: Float32Array): Float32Array {
  const size = norm(x);
  return size > 0 ? x.map((v) => v / size) : x;
}

function xorshift(seed: number): () => number {
  let state = ((seed + 1) * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function gaussian(n: number, random: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

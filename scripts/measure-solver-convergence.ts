// Measures how many product pairs power iteration and Golub–Kahan–Lanczos need to reach a given
// TRUE relative error of σ1 on a random 3x3 convolution (default 64→64 at 56x56, the case in
// docs/measured-facts.md#convergence-power-iteration-against-lanczos), and what each stop rule leaves. Not a test: it takes minutes.
//
//   node --import tsx scripts/measure-solver-convergence.ts [--channels 64] [--size 56] [--seed 1]
//
// Truth: Lanczos in float32 with room for 200 vectors (no restart) run to tol 1e-7 or 200 pairs, cross-checked against the last power iterate, which
// approaches σ1 from below; the larger of the two is taken.

import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import type { LinearOperator } from '../src/engine/operator';
import { estimateSpectralNorm, type SpectralMethod } from '../src/engine/solvers';
import { gaussianArray } from '../src/engine/solvers/random';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/**
 * A stride-1 'same' 3x3 convolution. Its adjoint is the convolution with the spatially flipped,
 * in/out-swapped kernel and the same padding (far faster on wasm than conv2dTranspose).
 */
function sameConvolution(channels: number, size: number, seed: number): LinearOperator {
  const fanIn = channels * 9;
  const values = gaussianArray(9 * channels * channels, seed).map((v) => v / Math.sqrt(fanIn));
  const kernel = tf.tensor4d(values, [3, 3, channels, channels]);
  const flipped = tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
  const shape = [1, size, size, channels];
  return {
    inputShape: shape,
    outputShape: shape,
    forward: (x) => tf.conv2d(x as tf.Tensor4D, kernel, 1, 'same'),
    adjoint: (y) => tf.conv2d(y as tf.Tensor4D, flipped, 1, 'same'),
    dispose: () => tf.dispose([kernel, flipped]),
  };
}

function adjointMismatch(op: LinearOperator): number {
  return tf.tidy(() => {
    const x = tf.randomNormal(op.inputShape, 0, 1, 'float32', 11);
    const y = tf.randomNormal(op.outputShape, 0, 1, 'float32', 12);
    const left = tf.sum(tf.mul(op.forward(x), y)).dataSync()[0];
    const right = tf.sum(tf.mul(x, op.adjoint(y))).dataSync()[0];
    return Math.abs(left - right) / Math.abs(left);
  });
}

interface Trace {
  sigmas: number[];
  residuals: number[];
  stoppedAt: number;
  sigma: number;
  converged: boolean;
  seconds: number;
}

function trace(op: LinearOperator, method: SpectralMethod, tol: number, maxIter: number, maxBasis?: number): Trace {
  const sigmas: number[] = [];
  const residuals: number[] = [];
  const started = performance.now();
  const result = estimateSpectralNorm(op, {
    method,
    tol,
    maxIter,
    seed: 1,
    maxBasis,
    onIteration: ({ sigma, residual }) => {
      sigmas.push(sigma);
      residuals.push(residual);
    },
  });
  return {
    sigmas,
    residuals,
    stoppedAt: result.iterations,
    sigma: result.sigma,
    converged: result.converged,
    seconds: (performance.now() - started) / 1000,
  };
}

/** First iteration (1-based) from which the relative error stays ≤ target; -1 if never. */
function pairsToError(sigmas: number[], truth: number, target: number): number {
  let last = -1;
  for (let i = sigmas.length - 1; i >= 0; i--) {
    if (Math.abs(sigmas[i] - truth) / truth > target) break;
    last = i + 1;
  }
  return last;
}

/** Where a relative-change stop at `tol` would have halted, and its true error. */
function relativeChangeStop(sigmas: number[], truth: number, tol: number): string {
  for (let i = 1; i < sigmas.length; i++) {
    if (Math.abs(sigmas[i] - sigmas[i - 1]) / sigmas[i] < tol) {
      return `${i + 1} pairs, true error ${(Math.abs(sigmas[i] - truth) / truth).toExponential(1)}`;
    }
  }
  return 'never';
}

async function main() {
  const backend = await initBackend();
  const channels = argument('channels', 64);
  const size = argument('size', 56);
  const seed = argument('seed', 1);
  const op = sameConvolution(channels, size, seed);
  console.log(`backend ${backend.name}; ${channels}→${channels} 3x3 at ${size}x${size}, kernel seed ${seed}`);
  console.log(`adjoint check |<Ax,y> − <x,Aᵀy>| / |<Ax,y>| = ${adjointMismatch(op).toExponential(1)}`);

  const reference = trace(op, 'lanczos', 1e-7, 200, 200);
  const lanczos = trace(op, 'lanczos', 1e-6, 600);
  const power = trace(op, 'power', 1e-6, 6000);
  const powerLast = power.sigmas[power.sigmas.length - 1];
  const truth = Math.max(reference.sigma, powerLast);
  console.log(`truth σ1 = ${truth}: reference Lanczos ${reference.sigma} (${reference.stoppedAt} pairs, converged ${reference.converged}, residual ${reference.residuals.at(-1)?.toExponential(1)}), last power iterate ${powerLast} (${power.stoppedAt} pairs, residual ${power.residuals.at(-1)?.toExponential(1)})`);

  for (const [name, run] of [['lanczos', lanczos], ['power', power]] as const) {
    const perPair = (run.seconds / run.sigmas.length) * 1000;
    console.log(`\n${name}: ${perPair.toFixed(1)} ms per pair (solver included)`);
    for (const target of [1e-4, 1e-6]) console.log(`  pairs to true error ${target}: ${pairsToError(run.sigmas, truth, target)}`);
    for (const tol of [1e-4, 1e-6]) {
      const stop = run.residuals.findIndex((r) => r <= tol);
      const at = stop >= 0 ? `${stop + 1} pairs, true error ${(Math.abs(run.sigmas[stop] - truth) / truth).toExponential(1)}` : 'not reached';
      console.log(`  residual stop at ${tol}: ${at}`);
    }
    if (name === 'power') for (const tol of [1e-4, 1e-6]) console.log(`  relative-change stop at ${tol}: ${relativeChangeStop(run.sigmas, truth, tol)}`);
  }
  // The Lanczos trace reports recurrence residuals; its measured stop is what the solver returned.
  console.log(`\nlanczos at tol 1e-6 returned after ${lanczos.stoppedAt} pairs (converged ${lanczos.converged}), true error ${(Math.abs(lanczos.sigma - truth) / truth).toExponential(1)}`);
  console.log(`power at tol 1e-6 returned after ${power.stoppedAt} pairs (converged ${power.converged}), true error ${(Math.abs(power.sigma - truth) / truth).toExponential(1)}`);
  op.dispose();
}

void main();

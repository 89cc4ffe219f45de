// Per conv layer of a real model: the cost model's a-priori gap estimate (large-input/solve.ts,
// docs/large-inputs.md §7) against the actual gap between the symbol's sup (the peak search's
// estimate) and the window's certified lower bound at the real size (§4), and what the peak search
// and the window cost. Answers "would the symbol path close on this layer if it were tried?" without
// running any certification or full-size product. Not a test.
//   node --import tsx scripts/bench/symbol-gaps.ts MODEL [--input-shape 1,3,1024,1024] [--min-seconds 2] [--all]
// Measures the layers planned 'iterative' with an expected solve of at least --min-seconds (default
// 2); --all also the ones planned 'symbol-sup'. Identical layers (same weights, same input) once.

import type { LinearSpec } from '../../src/model/ir';
import { openModel } from '../../src/formats';
import { nodeFileAccess } from '../../src/host/node-files';
import { reduceLinearProblem } from '../../src/engine/operators';
import { planLayer, iterativeSeconds } from '../../src/engine/large-input/solve';
import { asConvView } from '../../src/engine/large-input/conv-view';
import { convSymbol } from '../../src/engine/large-input/conv-symbol';
import { locateSymbolPeak } from '../../src/engine/large-input/symbol-sup';
import { windowLowerBound } from '../../src/engine/large-input/window-lower';
import { convGeometry } from '../../src/engine/bounds/conv';
import { SCALAR_SAFETY } from '../../src/engine/bounds/rounding';

const TOL = 1e-4;
/** The cost model's curvature constant for 3x3 (solve.ts GAP_CURVATURE), grown like (d/2)^1.5. */
const GAP_CURVATURE = 0.3;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path || path.startsWith('--')) throw new Error('usage: symbol-gaps.ts MODEL [--input-shape 1,3,H,W] [--min-seconds 2] [--all]');
  const shape = option('input-shape');
  const minSeconds = Number(option('min-seconds') ?? 2);
  const all = process.argv.includes('--all');
  const model = await openModel(nodeFileAccess(path), shape ? { inputShape: shape.split(',').map(Number) } : {});
  const seen = new Set<string>();
  let planned = 0;
  console.log('| layer | weight | input | plan | expected s | a-priori gap | actual gap | actual ÷ a-priori | closes | setup + peak + window s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const node of model.nodes) {
    if (!['conv', 'convTranspose'].includes(node.spec.type) || !node.inputShapes[0]) continue;
    const spec = node.spec as LinearSpec;
    const key = `${JSON.stringify(node.weightShape)}|${node.inputShapes[0].join()}|${'weight' in spec ? Array.from(spec.weight.data.subarray(0, 8)).join() : node.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const problem = reduceLinearProblem(spec, node.inputShapes[0]);
    const plan = planLayer(problem.spec, problem.inputShape, TOL);
    planned += plan.seconds;
    const conv = asConvView(problem.spec, problem.inputShape);
    if (!conv || plan.path === 'exact-dense') continue;
    if (plan.path === 'iterative' ? iterativeSeconds(problem.spec, problem.inputShape) < minSeconds : !all) continue;
    const [, , ...kernel] = conv.spec.weight.dims;
    const g = convGeometry(conv.spatial, kernel, conv.spec.strides, conv.spec.dilations, conv.spec.padsBegin, conv.spec.padsEnd);
    if (!g) continue;
    // The same estimate as planLayer's (solve.ts).
    const degree = Math.max(...g.phaseTaps) - 1;
    const apriori = GAP_CURVATURE * Math.max(1, degree / 2) ** 1.5 * g.outputSize.reduce((sum, size, a) => sum + (g.phaseTaps[a] > 1 ? (Math.PI / Math.max(1, size - g.phaseTaps[a])) ** 2 : 0), 0);
    const started = performance.now();
    const symbol = convSymbol(conv.spec, conv.spatial);
    const peak = symbol && locateSymbolPeak(symbol);
    const window = symbol && peak && peak.lambda > 0 ? windowLowerBound(symbol, peak.group, peak.omega, peak.vector) : null;
    const seconds = (performance.now() - started) / 1000;
    if (!peak || !window) {
      console.log(`| ${node.name} | ${node.weightShape?.join('×')} | ${problem.inputShape.join('×')} | ${plan.path} | ${plan.seconds.toFixed(2)} | ${apriori.toExponential(2)} | no window | | | ${seconds.toFixed(2)} |`);
      continue;
    }
    // Relative gap on σ between the sup's estimate and the certified lower bound; the path goes on
    // to certify only when 0.6·room ≥ tol/40 (index.ts), room the λ slack the window leaves.
    const actual = (Math.sqrt(peak.lambda) * SCALAR_SAFETY) / window.sigma - 1;
    const room = ((1 + TOL) * window.sigma) ** 2 / (peak.lambda * SCALAR_SAFETY ** 2) - 1;
    const closes = 0.6 * room >= TOL / 40;
    console.log(
      `| ${node.name} | ${node.weightShape?.join('×')} | ${problem.inputShape.join('×')} | ${plan.path} | ${plan.seconds.toFixed(2)} | ${apriori.toExponential(2)} | ${actual.toExponential(2)} | ${(actual / apriori).toFixed(2)} | ${closes ? 'yes' : 'no'} | ${seconds.toFixed(2)} |`,
    );
  }
  console.log(`\nsum of the plan's expected seconds over distinct conv layers: ${planned.toFixed(1)}`);
}

void main();

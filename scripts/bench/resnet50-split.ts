// Solve and certified-bound time per layer of .bench/resnet50.onnx, measured apart (one wasm core).
// Not a test.   node --import tsx scripts/bench/resnet50-split.ts [--only=3x3] [--no-bound] [--no-solve]
import { initBackend } from '../../src/engine/backend';
import { upperBound } from '../../src/engine/bounds';
import { buildOperator, reduceLinearProblem } from '../../src/engine/operators';
import { estimateSpectralNorm } from '../../src/engine/solvers';
import { openModel } from '../../src/formats';
import { nodeFileAccess } from '../../src/host/node-files';
import type { LinearSpec } from '../../src/model/ir';
import { DEFAULT_SETTINGS } from '../../src/protocol/report';

async function main() {
  await initBackend();
  const model = await openModel(nodeFileAccess('.bench/resnet50.onnx'));
  const only3x3 = process.argv.includes('--only=3x3');
  const doBound = !process.argv.includes('--no-bound');
  const doSolve = !process.argv.includes('--no-solve');
  let solveTotal = 0;
  let boundTotal = 0;
  for (const node of model.nodes) {
    const spec = node.spec as LinearSpec;
    if (spec.type !== 'conv' && spec.type !== 'dense') continue;
    const problem = reduceLinearProblem(spec, node.inputShapes[0]);
    if (only3x3 && problem.reduction) continue;
    let sigma = NaN;
    let iterations = 0;
    let solveS = 0;
    if (doSolve) {
      const operator = buildOperator(problem.spec, problem.inputShape);
      const t0 = performance.now();
      const result = estimateSpectralNorm(operator, { ...DEFAULT_SETTINGS });
      solveS = (performance.now() - t0) / 1000;
      operator.dispose();
      sigma = result.sigma;
      iterations = result.iterations;
    }
    let boundS = 0;
    let bound = NaN;
    let method = '';
    if (doBound) {
      const t1 = performance.now();
      const b = upperBound(problem.spec, problem.inputShape, Number.isFinite(sigma) ? { lowerBound: sigma } : {});
      boundS = (performance.now() - t1) / 1000;
      bound = b?.value ?? NaN;
      method = b?.method ?? '';
    }
    solveTotal += solveS;
    boundTotal += boundS;
    console.log(`${node.name.padEnd(36)} ${node.inputShapes[0].join('x').padEnd(14)} it ${String(iterations).padStart(4)} solve ${solveS.toFixed(2)} s bound ${boundS.toFixed(2)} s ratio ${(bound / sigma).toFixed(4)} ${method.slice(0, 90)}`);
  }
  console.log(`total solve ${solveTotal.toFixed(1)} s, bound ${boundTotal.toFixed(1)} s`);
}
void main();

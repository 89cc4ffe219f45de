// Cost and tightness of the certified conv bound on random He weights (one wasm core). Not a test.
//   node --import tsx scripts/bench/bound-cost.ts [--layer 256x14,512x7] [--lower] [--repeat 1] [--no-sigma] [--gram auto|direct|taps]
// The ratio is bound / Lanczos σ (the solver at tol 1e-5, a near-exact zero-padded σ1).
// --lower passes the Lanczos σ as `lowerBound`, as src/engine/estimate.ts does.
import { initBackend } from '../../src/engine/backend';
import { upperBound } from '../../src/engine/bounds';
import { buildOperator } from '../../src/engine/operators';
import { estimateSpectralNorm } from '../../src/engine/solvers';
import type { LinearSpec } from '../../src/model/ir';
import { argument, heConv } from '../../src/bench/random-layers';


const layers: Record<string, () => { spec: LinearSpec; inputShape: number[] }> = {
  '64x56': () => ({ spec: heConv(64, 64, 3, 1, 1, 1), inputShape: [1, 64, 56, 56] }),
  '128x28': () => ({ spec: heConv(128, 128, 3, 1, 1, 5), inputShape: [1, 128, 28, 28] }),
  '256x14': () => ({ spec: heConv(256, 256, 3, 1, 1, 2), inputShape: [1, 256, 14, 14] }),
  '512x7': () => ({ spec: heConv(512, 512, 3, 1, 1, 6), inputShape: [1, 512, 7, 7] }),
  '512s2x14': () => ({ spec: heConv(512, 512, 3, 2, 1, 7), inputShape: [1, 512, 14, 14] }),
  '256s2x28': () => ({ spec: heConv(256, 256, 3, 2, 1, 8), inputShape: [1, 256, 28, 28] }),
  '3x224': () => ({ spec: heConv(3, 64, 7, 2, 3, 4), inputShape: [1, 3, 224, 224] }),
};

async function main() {
  await initBackend();
  const names = argument('layer', '64x56,128x28,256x14,512x7,3x224').split(',');
  const repeat = Number(argument('repeat', '1'));
  const useLower = process.argv.includes('--lower');
  const convGram = argument('gram', 'auto') as 'auto' | 'direct' | 'taps';
  for (const name of names) {
    const { spec, inputShape } = layers[name]();
    let sigma = NaN;
    if (!process.argv.includes('--no-sigma')) {
      const operator = buildOperator(spec, inputShape);
      sigma = estimateSpectralNorm(operator, { method: 'lanczos', tol: 1e-5, maxIter: 2000, seed: 1 }).sigma;
      operator.dispose();
    }
    const times: number[] = [];
    let bound: ReturnType<typeof upperBound> = null;
    for (let r = 0; r < repeat; r++) {
      const started = performance.now();
      bound = upperBound(spec, inputShape, { convGram, ...(useLower ? { lowerBound: sigma } : {}) });
      times.push(performance.now() - started);
    }
    const best = Math.min(...times);
    console.log(`${name}: bound ${bound?.value.toFixed(6)} σ ${sigma.toFixed(6)} ratio ${((bound?.value ?? NaN) / sigma).toFixed(5)} | ${(best / 1000).toFixed(2)} s | ${bound?.method}`);
  }
}
void main();

// Validity of the bracket on many small random ReLU / LeakyReLU networks (chains, residual blocks,
// pooling, batch norm; 2–4 inputs): measured lower ≤ exact ≤ certified expansion ≤ certified product,
// where "exact" is the largest ||J|| over the linear regions found by dense sampling in float64.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { expandCertified } from '../../../src/engine/bracket/expand';
import { measureLowerBound } from '../../../src/engine/executor/lower-bound';
import { denseUpperBound } from '../../../src/engine/bounds/dense';
import { convUpperBound } from '../../../src/engine/bounds/conv';
import { compose } from '../../../src/analysis/compose';
import type { IrModel } from '../../../src/model/ir';
import { randomNet, sampledConstant, segmentConstant, type Kind } from './random-nets';

/** Per-node certified constants as the engine's network bound uses them. */
function certifiedConstants(model: IrModel): number[] {
  return model.nodes.map((node) => {
    const spec = node.spec;
    switch (spec.type) {
      case 'dense':
        return (denseUpperBound(spec) as { value: number }).value;
      case 'diagonal':
        return Math.max(...Array.from(spec.scale, Math.abs));
      case 'fixed':
        return spec.constant;
      case 'maxPool':
        return 1;
      case 'conv':
        return (convUpperBound(spec, node.inputShapes[0]) as { value: number }).value;
      case 'avgPool':
        // Kernel 2, stride 2, no padding: each output averages two distinct inputs: 1/√2.
        return Math.SQRT1_2;
      default:
        return 1;
    }
  });
}

const KINDS = (process.env.BRACKET_PROPERTY_KINDS?.split(',') ?? ['chain', 'residual', 'pool', 'bn', 'conv']) as Kind[];
const PER_KIND = Number(process.env.BRACKET_PROPERTY_NETS ?? 20);

test(`lower ≤ exact ≤ expansion ≤ product on ${PER_KIND} random nets of each kind`, async () => {
  await initBackend();
  const failures: string[] = [];
  let gains = 0;
  let circular = 0;
  const missed: string[] = [];
  let total = 0;
  for (const kind of KINDS) {
    for (let seed = 0; seed < PER_KIND; seed++) {
      const net = randomNet(seed, kind);
      const constants = certifiedConstants(net.model);
      const product = compose(net.model, constants).network as number;
      const expanded = expandCertified(net.model, constants);
      const expansion = expanded.value as number;
      if (kind === 'conv' && expanded.chains.some((chain) => (chain.circularProducts ?? 0) > 0)) circular++;
      const measured = measureLowerBound(net.model, { samples: 6, powerSteps: 8, ascentSteps: 12, seed, timeBudgetMs: 3_000 });
      const lower = measured.value;
      // The regions the best pair's segment crosses are regions too: f(a) − f(b) = ∫ J (a − b) dt,
      // so their largest ||J|| is ≥ the quotient (up to float32 in the executor's f).
      const exact = Math.max(sampledConstant(net, 12_000, seed), segmentConstant(net, measured.input, measured.partner));
      total++;
      if (expansion < product * 0.999) gains++;
      const label = `${kind} #${seed} (d=${net.d})`;
      // The lower bound is evaluated in float32: allow its rounding.
      if (!(lower <= exact * (1 + 1e-4))) failures.push(`${label}: lower ${lower} > exact ${exact}`);
      if (!(exact <= expansion)) failures.push(`${label}: exact ${exact} > expansion ${expansion}`);
      if (!(expansion <= product * (1 + 1e-12))) failures.push(`${label}: expansion ${expansion} > product ${product}`);
      // The search may miss every live region of a mostly dead net (a quality miss, not a validity
      // failure: 0 ≤ exact still holds); counted, and bounded below.
      if (!(lower > 0) && exact > 0) missed.push(`${label}: no positive quotient found (exact ${exact})`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(missed.length <= 0.05 * total, `the lower bound found nothing on ${missed.length} of ${total} nets: ${missed.join('; ')}`);
  // The expansion must actually tighten most products (they are far from tight by construction).
  assert.ok(gains >= 0.8 * total, `the expansion beat the product on ${gains} of ${total} nets`);
  // The conv nets' partial products go through the circular grid (circular.ts), not only explicit matrices.
  if (KINDS.includes('conv')) assert.ok(circular >= 0.8 * PER_KIND, `circular windows on ${circular} of ${PER_KIND} conv nets`);
});

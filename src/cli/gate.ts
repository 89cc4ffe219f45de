// The CLI's thresholds. `--fail-above` gates on what is proven, bounds.certified (composed from
// certified per-layer upper bounds); a model without one fails, with the reason, because passing
// it would claim a bound nobody has. `--fail-above-estimate` gates on bounds.product, which
// composes σ estimates from below and is not an upper bound, for users who ask for exactly that.
// Exit codes and the two bounds: docs/report.md.

import type { Report } from '../protocol/report';
import { formatNumber, whyNoEstimate, whyNotCertified } from './table';

export interface Thresholds {
  failAbove?: number;
  failAboveEstimate?: number;
}

/** One line per failed check (empty when every requested check passes). */
export function checkThresholds(report: Report, thresholds: Thresholds): string[] {
  const failures: string[] = [];
  const { certified, product } = report.bounds;
  if (thresholds.failAbove !== undefined) {
    if (certified === null) {
      failures.push(`no certified network bound to check against --fail-above ${thresholds.failAbove}: ${whyNotCertified(report)}`);
    } else if (certified > thresholds.failAbove) {
      failures.push(`certified network bound L ≤ ${formatNumber(certified)} exceeds --fail-above ${thresholds.failAbove}`);
    }
  }
  if (thresholds.failAboveEstimate !== undefined) {
    if (product === null) {
      failures.push(`no network estimate to check against --fail-above-estimate ${thresholds.failAboveEstimate}: ${whyNoEstimate(report)}`);
    } else if (product > thresholds.failAboveEstimate) {
      failures.push(`network estimate L ≈ ${formatNumber(product)} exceeds --fail-above-estimate ${thresholds.failAboveEstimate}`);
    }
  }
  return failures;
}

// The CLI's readable table.

import { formatNumber } from '../protocol/format-number';
import type { LayerResult, Report } from '../protocol/report';

export { formatNumber };

function shape(dims: number[] | null): string {
  return dims ? dims.join('x') : '';
}

export function formatTable(report: Report): string {
  const header = ['#', 'name', 'op', 'kind', 'input', 'weight', 'sigma', 'upper', 'running ≈', 'iters', 'time'];
  const rows = report.layers.map((layer: LayerResult, index) => [
    String(index),
    layer.name,
    layer.op,
    layer.kind,
    shape(layer.inputShape),
    shape(layer.weightShape),
    formatNumber(layer.sigma) + (layer.kind === 'linear' && !layer.converged && layer.sigma !== null ? '*' : ''),
    formatNumber(layer.upperBound),
    formatNumber(layer.runningBound),
    layer.iterations ? String(layer.iterations) : '',
    layer.seconds ? `${(layer.seconds * 1000).toFixed(0)} ms` : '',
  ]);
  const widths = header.map((title, column) => Math.min(40, Math.max(title.length, ...rows.map((row) => row[column].length))));
  const numeric = new Set([0, 6, 7, 8, 9, 10]);
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const text = cell.length > widths[column] ? `${cell.slice(0, widths[column] - 1)}…` : cell;
        return numeric.has(column) ? text.padStart(widths[column]) : text.padEnd(widths[column]);
      })
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  out.push('');
  out.push(`model: ${report.model.path} (${report.model.format}, input ${shape(report.model.inputShape)})`);
  // What is proven (composed from certified per-layer upper bounds) comes first and alone gets "≤".
  // A bound taken on an input box holds only there: say so beside it (docs/op-coverage.md).
  const range = report.bounds.domain?.inputRange;
  const fixed = Object.entries(report.bounds.fixedInputRanges ?? {}).map(([name, r]) => `${name} in [${r[0]}, ${r[1]}]`);
  const onDomain = (range ? ` on inputs in [${range[0]}, ${range[1]}]` : '') + (fixed.length > 0 ? `${range ? ',' : ''} with ${fixed.join(', ')} held fixed` : '');
  out.push(`network bound:    ${report.bounds.certified === null ? `none — ${whyNotCertified(report)}` : `L ≤ ${formatNumber(report.bounds.certified)}${onDomain}`}`);
  out.push(`network estimate: ${report.bounds.product === null ? `none — ${whyNoEstimate(report)}` : `L ≈ ${formatNumber(report.bounds.product)}${onDomain} (estimate from per-layer σ, not a bound)`}`);
  const bracket = describeBracket(report);
  if (bracket) out.push(...bracket);
  if (report.layers.some((l) => l.kind === 'linear' && !l.converged && l.sigma !== null)) out.push('* not converged within the iteration cap');
  for (const warning of report.warnings ?? []) out.push(`warning: ${warning}`);
  out.push(`${report.layers.length} layers in ${report.seconds.toFixed(2)} s on ${report.backend ?? 'tfjs'}`);
  return out.join('\n');
}

/** The bracket lines (docs/bracket.md): L ∈ [measured lower, certified upper] and its width. */
export function describeBracket(report: Report): string[] | undefined {
  const { bounds } = report;
  if (!bounds.bracket) return undefined;
  const lower = bounds.lower ?? null;
  const upper = bounds.certifiedTight ?? null;
  const lines = [
    `bracket:                 L ∈ [${lower === null ? '—' : formatNumber(lower)}, ${upper === null ? '—' : formatNumber(upper)}]${bounds.bracket.width === null ? '' : `, width ×${formatNumber(bounds.bracket.width)}`}`,
    `  measured lower bound:  ${lower === null ? `— (${bounds.bracket.lower.unavailable ?? 'none found'})` : `L ≥ ${formatNumber(lower)} (measured, not certified: a difference quotient found by ${bounds.bracket.lower.foundBy}${report.bracketSeconds ? `, ${report.bracketSeconds.lower.toFixed(1)} s` : ''})`}`,
    // Also without a lower bound: the reason says which step the budget cut, where "unavailable" says only that it ran out.
    ...(bounds.bracket.lower.timedOutReason ? [`  lower side stopped:    ${bounds.bracket.lower.timedOutReason}`] : []),
    `  certified expansion:   ${bounds.bracket.upper.expansion === null ? '—' : `L ≤ ${formatNumber(bounds.bracket.upper.expansion)}`} (${bounds.bracket.upper.chains.length} chains${report.bracketSeconds ? `, ${report.bracketSeconds.upper.toFixed(1)} s` : ''})`,
  ];
  return lines;
}

/** Why bounds.product is null: the rows that make the composition invalid or unbounded. */
export function whyNoEstimate(report: Report): string {
  const { bounds } = report;
  const reasons: string[] = [];
  if (report.cancelled) reasons.push(`cancelled with ${report.layers.length} layer${report.layers.length === 1 ? '' : 's'} done`);
  if (bounds.invalid?.length) reasons.push(`invalid: ${listSome(bounds.invalid.map((i) => `${i.name} (${i.reason})`))}`);
  if (bounds.unsupported.length) reasons.push(`unsupported ops: ${listSome(bounds.unsupported.map((u) => `${u.name} (${u.op})`))}`);
  if (bounds.unbounded?.length) reasons.push(`unbounded: ${listSome(bounds.unbounded.map((u) => `${u.name} (${u.reason})`))}`);
  // Nothing invalid or unbounded, yet no number: the composition overflowed float64.
  return reasons.join('; ') || 'the composed bound is above the largest float64 (1.8e308)';
}

/** Why bounds.certified is null: no estimate at all, or the layers without a certified upper bound. */
export function whyNotCertified(report: Report): string {
  if (report.bounds.product === null) return whyNoEstimate(report);
  // The composition uses the folded layer's bound where a batch norm was folded in (foldedUpperBound).
  const uncertified = report.layers.filter((layer) =>
    layer.foldedSigma !== undefined && layer.foldedSigma !== null ? layer.foldedUpperBound === undefined || layer.foldedUpperBound === null : layer.sigma !== null && layer.upperBound === null,
  );
  if (uncertified.length === 0) return 'the composed bound is above the largest float64 (1.8e308)';
  return `no certified upper bound for ${uncertified.length === 1 ? 'layer' : `${uncertified.length} layers`} ${listSome(uncertified.map((layer) => `${layer.name} (${layer.op})`))}`;
}

/** The first few items, then how many more: a report line stays readable on big models. */
function listSome(items: string[], shown = 3): string {
  return items.length <= shown ? items.join(', ') : `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}

// The CLI's readable table.

import type { LayerResult, Report } from '../protocol/report';

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(3);
  return value.toPrecision(5);
}

function shape(dims: number[] | null): string {
  return dims ? dims.join('x') : '';
}

export function formatTable(report: Report): string {
  const header = ['#', 'name', 'op', 'kind', 'input', 'weight', 'sigma', 'upper', 'running', 'iters', 'time'];
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
  out.push(`network bound (product): ${describeBound(report)}`);
  out.push(`certified upper bound:   ${report.bounds.certified === null ? '— (not every layer has a certified bound)' : formatNumber(report.bounds.certified)}`);
  if (report.layers.some((l) => l.kind === 'linear' && !l.converged && l.sigma !== null)) out.push('* not converged within the iteration cap');
  for (const warning of report.warnings ?? []) out.push(`warning: ${warning}`);
  out.push(`${report.layers.length} layers in ${report.seconds.toFixed(2)} s on ${report.backend ?? 'tfjs'}`);
  return out.join('\n');
}

export function describeBound(report: Report): string {
  const { bounds } = report;
  if (bounds.product !== null) return formatNumber(bounds.product);
  const reasons: string[] = [];
  if (bounds.invalid?.length) reasons.push(`invalid: ${listSome(bounds.invalid.map((i) => `${i.name} (${i.reason})`))}`);
  if (bounds.unsupported.length) reasons.push(`unsupported ops: ${listSome(bounds.unsupported.map((u) => `${u.name} (${u.op})`))}`);
  if (bounds.unbounded?.length) reasons.push(`unbounded: ${listSome(bounds.unbounded.map((u) => `${u.name} (${u.reason})`))}`);
  return `none — ${reasons.join('; ') || 'unknown'}`;
}

/** The first few items, then how many more: a report line stays readable on big models. */
function listSome(items: string[], shown = 3): string {
  return items.length <= shown ? items.join(', ') : `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}

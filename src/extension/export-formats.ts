// The report as a file: JSON (the CLI's --json), CSV, Markdown, and a Netron attachment
// (`<model>.metrics.json`, "signature": "netron:attachment") that shows σ per node in Netron.

import type { LayerResult, Report } from '../protocol/report';
import { formatNumber, formatSeconds, formatShape, groupByReason } from '../protocol/format-number';
import { CERTIFIED_MEANING, ESTIMATE_MEANING } from './lens-text';
import type { PartialRun } from './panel-state';

export type ExportFormat = 'json' | 'csv' | 'markdown' | 'netron';

/** A partial export carries `partial: { status, done, total }` beside the report's own fields. */
export function reportToJson(report: Report, partial?: PartialRun): string {
  return JSON.stringify(partial ? { ...report, partial } : report, null, 2) + '\n';
}

/** One sentence saying a report is partial, for the Markdown export and the notification. */
export function partialSentence(partial: PartialRun): string {
  const how = partial.status === 'cancelled' ? 'was cancelled' : partial.status === 'error' ? 'failed' : 'was still running';
  return `Partial report: the run ${how} after ${partial.done} of ${partial.total} rows; the rows not done are missing and there is no network bound.`;
}

const CSV_COLUMNS = [
  'name', 'op', 'kind', 'weightShape', 'inputShape', 'outputShape', 'sigma', 'upperBound', 'iterations',
  'converged', 'residual', 'method', 'runningBound', 'seconds', 'note',
] as const;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvValue(layer: LayerResult, column: (typeof CSV_COLUMNS)[number]): string {
  const value = layer[column];
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join('x');
  // Full precision: a CSV is for further computing, not for reading.
  return String(value);
}

/** One row per layer, full-precision numbers, shapes as 1x3x224x224; RFC 4180 quoting. */
export function reportToCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const layer of report.layers) lines.push(CSV_COLUMNS.map((column) => csvField(csvValue(layer, column))).join(','));
  return lines.join('\r\n') + '\r\n';
}

function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** A readable summary and table. */
export function reportToMarkdown(report: Report, partial?: PartialRun): string {
  const { model, bounds } = report;
  const lines: string[] = [];
  lines.push(`# Lipschitz report: ${markdownCell(model.path)}`, '');
  if (partial) lines.push(`**${partialSentence(partial)}**`, '');
  lines.push(`- Format: ${model.format}`);
  lines.push(`- Input shape: ${formatShape(model.inputShape)}`);
  if (model.signalInput) lines.push(`- Signal input: ${markdownCell(model.signalInput)} (the other inputs held fixed)`);
  if (model.outputsUsed?.length) lines.push(`- Outputs used: ${model.outputsUsed.map(markdownCell).join(', ')}`);
  lines.push(`- Lipschitz bound (certified): ${bounds.certified === null ? 'none' : `L ≤ ${formatNumber(bounds.certified)}`}`);
  lines.push(`- Lipschitz estimate: ${bounds.product === null ? 'none (see below)' : `L ≈ ${formatNumber(bounds.product)}`}`);
  lines.push(`- ${CERTIFIED_MEANING}`, `- ${ESTIMATE_MEANING} "L ≈ so far" is the same estimate from the input to that row.`);
  if (report.settings) lines.push(`- Solver: ${report.settings.method}, tolerance ${report.settings.tol}, at most ${report.settings.maxIter} iterations`);
  if (report.backend) lines.push(`- Backend: ${markdownCell(report.backend)}`);
  lines.push(`- Time: ${formatSeconds(report.seconds)}`);
  // Long lists are grouped by reason, with counts: 34 identical sentences read as one line.
  const grouped = (prefix: string, items: { reason: string; name: string }[]) => (items.length ? [`${prefix}${markdownCell(groupByReason(items))}`] : []);
  const problems = [
    ...grouped('unsupported ops: ', bounds.unsupported.map((u) => ({ reason: `\`${u.op}\``, name: u.name }))),
    ...grouped('not globally Lipschitz: ', (bounds.unbounded ?? []).map((u) => ({ reason: `\`${u.op}\`: ${u.reason}`, name: u.name }))),
    ...grouped('invalid weights: ', (bounds.invalid ?? []).map((u) => ({ reason: `\`${u.op}\`: ${u.reason}`, name: u.name }))),
    ...(report.warnings ?? []).map((w) => markdownCell(w)),
  ];
  for (const problem of problems) lines.push(`- ⚠ ${problem}`);
  lines.push('');
  lines.push('| # | Layer | Op | Kind | Weight | Input → output | σ (estimate) | σ ≤ (certified) | L ≈ so far | Iterations | Converged |');
  lines.push('|---:|---|---|---|---|---|---:|---:|---:|---:|---|');
  // Rows are numbered as in the panel: the report's row index, from 0.
  report.layers.forEach((layer, i) => {
    lines.push(
      '| ' +
        [
          String(i),
          markdownCell(layer.name),
          `\`${markdownCell(layer.op)}\``,
          layer.kind,
          formatShape(layer.weightShape),
          `${formatShape(layer.inputShape)} → ${formatShape(layer.outputShape)}`,
          formatNumber(layer.sigma),
          formatNumber(layer.upperBound),
          formatNumber(layer.runningBound),
          String(layer.iterations),
          layer.converged ? 'yes' : 'no',
        ].join(' | ') +
        ' |',
    );
  });
  return lines.join('\n') + '\n';
}

interface NetronItem {
  kind: 'model' | 'node';
  target: string;
  name: string;
  value: number | string | boolean;
  type?: string;
}

/**
 * Netron's attachment format: items { kind, target, name, value, type } in "metadata" and "metrics";
 * Netron matches a node item by the node's name (up to its first newline).
 */
export function reportToNetronAttachment(report: Report): string {
  const metrics: NetronItem[] = [];
  const metadata: NetronItem[] = [];
  const push = (list: NetronItem[], kind: NetronItem['kind'], target: string, name: string, value: number | string | boolean | null | undefined, type?: string) => {
    if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return;
    list.push({ kind, target: target.split('\n')[0], name, value, ...(type ? { type } : {}) });
  };
  // The certified value is the bound; the composition of estimates is named as an estimate.
  push(metrics, 'model', '', 'lipschitz_certified_bound', report.bounds.certified, 'float64');
  push(metrics, 'model', '', 'lipschitz_estimate', report.bounds.product, 'float64');
  push(metadata, 'model', '', 'lipschitz_input_shape', formatShape(report.model.inputShape));
  if (report.settings) push(metadata, 'model', '', 'lipschitz_solver', `${report.settings.method}, tol ${report.settings.tol}`);
  const seen = new Set<string>();
  for (const layer of report.layers) {
    const target = layer.name.split('\n')[0];
    // Netron keeps the last value of a duplicated name on one target: keep the first instead.
    if (seen.has(target)) continue;
    seen.add(target);
    push(metrics, 'node', target, 'sigma', layer.sigma, 'float64');
    push(metrics, 'node', target, 'sigma_upper_bound', layer.upperBound, 'float64');
    push(metrics, 'node', target, 'lipschitz_estimate_so_far', layer.runningBound, 'float64');
    push(metrics, 'node', target, 'iterations', layer.iterations, 'int64');
    push(metadata, 'node', target, 'lipschitz_kind', layer.kind);
    push(metadata, 'node', target, 'converged', layer.converged, 'boolean');
    push(metadata, 'node', target, 'lipschitz_note', layer.note);
  }
  return JSON.stringify({ signature: 'netron:attachment', metadata, metrics }, null, 2) + '\n';
}

export function exportReport(report: Report, format: ExportFormat, partial?: PartialRun): string {
  switch (format) {
    case 'json': return reportToJson(report, partial);
    case 'csv': return reportToCsv(report);
    case 'markdown': return reportToMarkdown(report, partial);
    case 'netron': return reportToNetronAttachment(report);
  }
}

/** Suggested file name next to the model: model.onnx → model.lipschitz.csv, model.metrics.json for Netron. */
export function exportFileName(modelBaseName: string, format: ExportFormat): string {
  const stem = modelBaseName.replace(/\.(onnx|json)$/i, '') || 'model';
  switch (format) {
    case 'json': return `${stem}.lipschitz.json`;
    case 'csv': return `${stem}.lipschitz.csv`;
    case 'markdown': return `${stem}.lipschitz.md`;
    case 'netron': return `${stem}.metrics.json`;
  }
}

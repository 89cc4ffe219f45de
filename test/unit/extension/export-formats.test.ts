import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportFileName, exportReport, reportToCsv, reportToMarkdown, reportToNetronAttachment } from '../../../src/extension/export-formats';
import { sampleReport } from './sample-report';

/** A small RFC 4180 reader, to check the writer by reading its output back. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  return rows;
}

test('CSV: a header and one row per layer, full precision, quoted where needed', () => {
  const report = sampleReport();
  const rows = readCsv(reportToCsv(report));
  assert.equal(rows.length, report.layers.length + 1);
  const header = rows[0];
  assert.deepEqual(header.slice(0, 8), ['name', 'op', 'kind', 'weightShape', 'inputShape', 'outputShape', 'sigma', 'upperBound']);
  const col = (name: string) => header.indexOf(name);
  assert.equal(rows[1][col('sigma')], '3.2145678');
  assert.equal(rows[1][col('weightShape')], '3x3x1x8');
  assert.equal(rows[2][col('weightShape')], '');
  assert.equal(rows[5][col('upperBound')], '');
  assert.equal(rows[5][col('converged')], 'false');
  assert.equal(rows[5][col('note')], 'stopped at the iteration cap, "large" gap');
  assert.ok(rows.every((r) => r.length === header.length));
});

test('Markdown: summary lines and a table row per layer, pipes escaped', () => {
  const report = sampleReport();
  report.layers[0].name = 'a|b';
  report.bounds.unsupported.push({ name: 'attn', op: 'Custom' });
  const md = reportToMarkdown(report);
  assert.match(md, /^# Lipschitz report: \/models\/mnist\/model\.json/);
  assert.match(md, /- Lipschitz bound \(certified\): none\n/);
  assert.match(md, /- Lipschitz estimate: L ≈ 45\.2\n/);
  assert.doesNotMatch(md, /≤ 45\.2/, 'the estimate is never labelled ≤');
  const certified = reportToMarkdown({ ...report, bounds: { ...report.bounds, certified: 60.1 } });
  assert.match(certified, /- Lipschitz bound \(certified\): L ≤ 60\.1\n/);
  assert.match(certified, /- L ≤ is proven: .*\n- L ≈ is an estimate: /);
  assert.match(md, /unsupported ops: `Custom` \(attn\)/);
  const tableRows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l));
  assert.equal(tableRows.length, report.layers.length);
  assert.match(tableRows[0], /\| a\\\|b \|/);
  assert.match(tableRows[0], /\| 3\.215 \| 3\.5 \|/);
  // Escaped pipes do not add columns.
  const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length;
  assert.ok(tableRows.every((row) => cells(row) === cells(tableRows[1])));
});

test('Markdown names the signal input and the outputs used when the report has them', () => {
  const report = sampleReport();
  assert.doesNotMatch(reportToMarkdown(report), /Signal input|Outputs used/);
  report.model.signalInput = 'x';
  report.model.outputsUsed = ['prob', 'a|b'];
  const md = reportToMarkdown(report);
  assert.match(md, /^- Signal input: x \(the other inputs held fixed\)$/m);
  assert.match(md, /^- Outputs used: prob, a\\\|b$/m);
});

test('Netron attachment: the signature, model bounds and σ per node', () => {
  const report = sampleReport();
  const data = JSON.parse(reportToNetronAttachment(report)) as {
    signature: string;
    metrics: { kind: string; target: string; name: string; value: unknown }[];
    metadata: { kind: string; target: string; name: string; value: unknown }[];
  };
  assert.equal(data.signature, 'netron:attachment');
  const metric = (kind: string, target: string, name: string) => data.metrics.find((m) => m.kind === kind && m.target === target && m.name === name)?.value;
  assert.equal(metric('model', '', 'lipschitz_estimate'), 45.2);
  assert.equal(metric('model', '', 'lipschitz_bound'), undefined, 'the estimate is not called a bound');
  assert.equal(metric('model', '', 'lipschitz_certified_bound'), undefined, 'no certified bound, no item');
  assert.equal(metric('node', 'conv2d', 'sigma'), 3.2145678);
  assert.equal(metric('node', 'dense', 'sigma'), 14.06);
  assert.equal(metric('node', 'dense', 'sigma_upper_bound'), undefined);
  assert.equal(data.metadata.find((m) => m.target === 'dense' && m.name === 'converged')?.value, false);
  for (const item of [...data.metrics, ...data.metadata]) {
    assert.ok(item.kind && 'target' in item && item.name, 'every item has kind, target and name');
  }
});

test('Netron attachment keeps the first of duplicated names and cuts names at a newline', () => {
  const report = sampleReport();
  report.layers[1].name = 'conv2d';
  report.layers[4].name = 'dense\nextra';
  const data = JSON.parse(reportToNetronAttachment(report)) as { metrics: { target: string; name: string; value: unknown }[] };
  assert.deepEqual(data.metrics.filter((m) => m.target === 'conv2d' && m.name === 'sigma').map((m) => m.value), [3.2145678]);
  assert.equal(data.metrics.find((m) => m.target === 'dense' && m.name === 'sigma')?.value, 14.06);
});

test('JSON export is the report itself', () => {
  const report = sampleReport();
  assert.deepEqual(JSON.parse(exportReport(report, 'json')), report);
});

test('export file names sit next to the model', () => {
  assert.equal(exportFileName('resnet18.onnx', 'csv'), 'resnet18.lipschitz.csv');
  assert.equal(exportFileName('model.json', 'markdown'), 'model.lipschitz.md');
  assert.equal(exportFileName('model.json', 'netron'), 'model.metrics.json');
  assert.equal(exportFileName('net.ONNX', 'json'), 'net.lipschitz.json');
});

test('Markdown numbers rows from 0, as the panel does', () => {
  const md = reportToMarkdown(sampleReport());
  const numbers = md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).map((l) => Number(/^\| (\d+) \|/.exec(l)![1]));
  assert.deepEqual(numbers, [0, 1, 2, 3, 4]);
});

test('a partial export says so in JSON and Markdown', () => {
  const partial = { status: 'cancelled' as const, done: 2, total: 5 };
  const json = JSON.parse(exportReport(sampleReport(), 'json', partial)) as { partial?: unknown; layers: unknown[] };
  assert.deepEqual(json.partial, partial);
  assert.equal(JSON.parse(exportReport(sampleReport(), 'json')).partial, undefined);
  const md = exportReport(sampleReport(), 'markdown', partial);
  assert.match(md, /\*\*Partial report: the run was cancelled after 2 of 5 rows; the rows not done are missing and there is no network bound\.\*\*/);
});

test('Markdown groups a long unbounded list by reason, with a count', () => {
  const report = sampleReport();
  report.bounds.product = null;
  report.bounds.unbounded = Array.from({ length: 34 }, (_, i) => ({ name: `mul_${i}`, op: 'Mul', reason: 'Mul of two data-dependent tensors' }));
  const md = reportToMarkdown(report);
  const lines = md.split('\n').filter((l) => l.includes('data-dependent'));
  assert.equal(lines.length, 1, 'one line, not 34');
  assert.match(lines[0], /not globally Lipschitz: `Mul`: Mul of two data-dependent tensors ×34 \(mul_0, mul_1, mul_2 and 31 more\)/);
});

// Runs: the command returns the same report as the CLI, the second run comes from the cache,
// and the exported JSON / CSV / Markdown files hold that report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, estimateReport, extension, weighted, type ReportLike } from './helpers';
import { writeExternalDataOnnx } from '../fixtures';

function cliReport(model: string): ReportLike | undefined {
  const { cli } = suiteConfig();
  if (!existsSync(cli)) return undefined;
  let out: string;
  let err = '';
  try {
    out = execFileSync(process.execPath, [cli, model, '--json'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // Exit code 1 (threshold) still prints the report.
    out = String((e as { stdout?: string }).stdout ?? '');
    err = String((e as { stderr?: string }).stderr ?? '');
  }
  try {
    return JSON.parse(out) as ReportLike;
  } catch {
    throw new Error(`the CLI printed no report for ${model}: ${err.trim().slice(0, 400)}`);
  }
}

/** The model's panel state through the extension's testing API. */
function panelStateOf(uri: vscode.Uri): { fromCache?: boolean } | undefined {
  const api = extension().exports as { testing?: { panelState?: (uri: vscode.Uri) => { fromCache?: boolean } | undefined } } | undefined;
  assert.ok(api?.testing?.panelState, 'the extension exports no testing.panelState() (see test/vscode/README.md)');
  return api.testing.panelState(uri);
}

function close(a: number | null, b: number | null, rel = 1e-3): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

describe('estimate', function () {
  this.timeout(90_000);
  let first: ReportLike;
  let firstMs = 0;

  before(async () => {
    await activated();
  });

  it('estimates a TF.js model.json and resolves with the report', async () => {
    const { workspace } = suiteConfig();
    const t = Date.now();
    first = await estimateReport(vscode.Uri.file(workspace.tinyTfjs));
    firstMs = Date.now() - t;
    assert.equal(first.model.format, 'tfjs-layers');
    const rows = weighted(first);
    assert.deepEqual(rows.map((l) => l.name), ['dense_in', 'dense_hidden', 'dense_out']);
    for (const l of rows) assert.ok(typeof l.sigma === 'number' && l.sigma > 0 && Number.isFinite(l.sigma), `${l.name}: σ=${l.sigma}`);
    assert.ok(typeof first.bounds.product === 'number' && first.bounds.product > 0);
  });

  it('gives the same σ per layer as the CLI', function () {
    const { workspace } = suiteConfig();
    const cli = cliReport(workspace.tinyTfjs);
    if (!cli) this.skip();
    assert.ok(first, 'the previous test produced no report');
    assert.deepEqual(first.layers.map((l) => l.name), cli.layers.map((l) => l.name));
    first.layers.forEach((l, i) => assert.ok(close(l.sigma, cli.layers[i].sigma), `${l.name}: extension ${l.sigma}, CLI ${cli.layers[i].sigma}`));
    assert.ok(close(first.bounds.product, cli.bounds.product));
  });

  it('serves a second run of the same file from the cache (fast, same numbers)', async () => {
    const { workspace } = suiteConfig();
    assert.ok(first, 'the first run produced no report');
    const t = Date.now();
    const again = await estimateReport(vscode.Uri.file(workspace.tinyTfjs));
    const ms = Date.now() - t;
    assert.deepEqual(again.layers.map((l) => l.sigma), first.layers.map((l) => l.sigma));
    // A cache hit is the first run's report itself (its timings too) and the panel says so; how
    // long it takes depends on the machine's load, so the time is only logged.
    assert.equal(again.seconds, first.seconds, 'the second report is the cached first one, not a re-run');
    assert.equal(panelStateOf(vscode.Uri.file(workspace.tinyTfjs))?.fromCache, true, 'the panel shows the report as cached');
    console.log(`      cache hit in ${ms} ms (first run ${firstMs} ms)`);
  });

  it('an ONNX model whose external data changed is estimated again, not served from the cache', async () => {
    const { workspace } = suiteConfig();
    const model = vscode.Uri.file(workspace.externalOnnx);
    const before = await estimateReport(model);
    const sigma = (report: ReportLike) => weighted(report)[0]?.sigma ?? NaN;
    assert.ok(sigma(before) > 0, `σ of the external-data Gemm: ${sigma(before)}`);
    // Same model file, weights doubled in weights.bin: the cache key of the .onnx alone is unchanged.
    writeExternalDataOnnx(dirname(workspace.externalOnnx), 2);
    const after = await estimateReport(model);
    assert.ok(close(sigma(after), 2 * sigma(before), 1e-5), `σ after doubling the external weights: ${sigma(after)}, before ${sigma(before)}`);
    // Unchanged again: now it is a cache hit with the new numbers.
    const again = await estimateReport(model);
    assert.equal(sigma(again), sigma(after));
    assert.equal(again.seconds, after.seconds, 'the unchanged model came from the cache');
    assert.equal(panelStateOf(model)?.fromCache, true, 'the panel shows the report as cached');
  });

  for (const [format, ext] of [['json', 'json'], ['csv', 'csv'], ['markdown', 'md']] as const) {
    it(`exports the report as ${format}`, async () => {
      const { workspace } = suiteConfig();
      assert.ok(first, 'no report to export');
      const model = vscode.Uri.file(workspace.tinyTfjs);
      const target = vscode.Uri.file(join(workspace.folder, 'exports', `tiny.${ext}`));
      await vscode.commands.executeCommand('lipschitzLens.exportReport', { model, target, format });
      assert.ok(existsSync(target.fsPath), `${target.fsPath} was not written`);
      const text = readFileSync(target.fsPath, 'utf8');
      const rows = weighted(first);
      if (format === 'json') {
        const exported = JSON.parse(text) as ReportLike;
        assert.deepEqual(exported.layers.map((l) => [l.name, l.sigma]), first.layers.map((l) => [l.name, l.sigma]));
        assert.equal(exported.bounds.product, first.bounds.product);
      } else if (format === 'csv') {
        const lines = text.trim().split(/\r?\n/);
        const header = lines[0].split(',');
        assert.ok(header.includes('name') && header.includes('sigma'), `CSV header: ${lines[0]}`);
        assert.equal(lines.length - 1, first.layers.length, 'one CSV line per layer');
        const sigmaCol = header.indexOf('sigma');
        const nameCol = header.indexOf('name');
        for (const l of rows) {
          const line = lines.find((x) => x.split(',')[nameCol] === l.name);
          assert.ok(line, `no CSV row for ${l.name}`);
          assert.ok(close(Number(line.split(',')[sigmaCol]), l.sigma, 1e-9), `${l.name}: CSV ${line}`);
        }
      } else {
        assert.match(text, /^\|.*\|\s*$/m, 'a Markdown table');
        for (const l of rows) assert.ok(text.includes(l.name), `Markdown lacks ${l.name}`);
      }
    });
  }
});

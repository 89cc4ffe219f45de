// What the user sees after a run, checked in the real extension host: exports say what the panel
// shows (also after a cancelled re-run), Markdown rows are numbered as in the panel, and the status
// bar follows the model in front of the user.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { writeExternalDataOnnx } from '../fixtures';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimate, estimateReport, runningWithRows, testingApi, waitFor, withTimeout } from './helpers';

const exportTo = async (model: vscode.Uri, format: 'json' | 'csv' | 'markdown', name: string): Promise<string> => {
  const target = vscode.Uri.file(join(suiteConfig().workspace.folder, 'exports', name));
  await vscode.commands.executeCommand('lipschitzLens.exportReport', { model, target, format });
  return readFileSync(target.fsPath, 'utf8');
};

describe('results', function () {
  this.timeout(120_000);
  before(async () => {
    await activated();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('lipschitzLens.cancel');
  });

  it('Markdown export numbers rows from 0, as the panel does', async () => {
    const tiny = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const report = await estimateReport(tiny);
    const md = await exportTo(tiny, 'markdown', 'numbering.md');
    const numbers = md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).map((l) => Number(/^\| (\d+) \|/.exec(l)![1]));
    assert.deepEqual(numbers, report.layers.map((_, i) => i));
  });

  it('export after a cancelled re-run writes the partial run the panel shows, and says it is partial', async () => {
    const slow = vscode.Uri.file(suiteConfig().workspace.slowTfjs);
    const api = await testingApi();
    // A complete report first (a small input keeps it quick), then a re-run at the model's own size, cancelled.
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', slow, [1, 12, 12, 32]);
    const complete = await estimateReport(slow, 90_000);
    assert.deepEqual(complete.model.inputShape, [1, 12, 12, 32]);
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', slow, null);
    const rerun = estimate(slow, 120_000);
    await runningWithRows(slow);
    await vscode.commands.executeCommand('lipschitzLens.cancel', slow);
    await withTimeout(rerun, 30_000, 'the cancelled re-run');
    const state = api.panelState(slow);
    assert.equal(state?.status, 'cancelled');
    const json = JSON.parse(await exportTo(slow, 'json', 'partial.json')) as { model: { inputShape: number[] }; layers: { sigma: number | null }[]; partial?: { status: string; done: number; total: number } };
    assert.notDeepEqual(json.model.inputShape, [1, 12, 12, 32], 'the export is the older complete report, not what the panel shows');
    assert.equal(json.partial?.status, 'cancelled', 'the export does not say it is partial');
    assert.equal(json.partial?.done, state?.done);
    assert.equal(json.layers.length, state?.total);
    const md = await exportTo(slow, 'markdown', 'partial.md');
    assert.match(md, /Partial report: the run was cancelled after \d+ of \d+ rows/);
  });

  it('the status bar follows the active editor, and hides for files that are not models', async () => {
    const api = await testingApi();
    const { folder, tinyTfjs } = suiteConfig().workspace;
    const tiny = vscode.Uri.file(tinyTfjs);
    const report = await estimateReport(tiny);
    await vscode.window.showTextDocument(tiny);
    await waitFor(() => {
      const bar = api.statusBar();
      return bar.visible && bar.model === tiny.toString() && /L [≤≈]/.test(bar.text);
    }, 30_000, `the status bar showing ${tinyTfjs}'s bound (it shows ${JSON.stringify(api.statusBar())})`);
    assert.ok(report.bounds.product !== null);

    const notes = vscode.Uri.file(join(folder, 'notes.txt'));
    writeFileSync(notes.fsPath, 'not a model\n');
    await vscode.window.showTextDocument(notes);
    await waitFor(() => !api.statusBar().visible, 30_000, `the status bar to hide for a text file (it shows ${JSON.stringify(api.statusBar())})`);

    // Another model, never estimated (an .onnx opens in the custom editor, which does not run it):
    // the item follows it, and shows nothing of tiny's run.
    const other = vscode.Uri.file(writeExternalDataOnnx(join(folder, 'status-other'), 3));
    await vscode.commands.executeCommand('vscode.open', other);
    const bar = await waitFor(() => {
      const b = api.statusBar();
      return b.visible && b.model === other.toString() ? b : undefined;
    }, 30_000, `the status bar following status-other/external.onnx (it shows ${JSON.stringify(api.statusBar())})`);
    assert.doesNotMatch(bar.text, /L [≤≈]/, `a model without results shows no bound: ${bar.text}`);
    await closeAllEditors();
  });
});

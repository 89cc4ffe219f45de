// What a user sees in editors, read through the API: CodeLens and hover on a model.json after a
// run, and .onnx files opening in the read-only custom editor.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimateReport, ONNX_VIEW_TYPE, waitFor, weighted, withTimeout } from './helpers';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

describe('editors', function () {
  this.timeout(60_000);
  before(async () => {
    await activated();
  });
  afterEach(closeAllEditors);

  it('shows a CodeLens with σ on each weighted layer of model.json after a run', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const report = await estimateReport(uri);
    await vscode.window.showTextDocument(uri);
    const names = weighted(report).map((l) => l.name);
    const lenses = await waitFor(
      async () => {
        const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
        const titled = all.filter((l) => l.command?.title && /σ|sigma/i.test(l.command.title));
        return titled.length >= names.length ? titled : undefined;
      },
      30_000,
      `${names.length} CodeLenses with σ`,
    );
    const doc = await vscode.workspace.openTextDocument(uri);
    for (const name of names) {
      const line = doc.getText().split('\n').findIndex((t) => t.includes(`"${name}"`));
      assert.ok(line >= 0, `${name} not in model.json`);
      assert.ok(lenses.some((l) => Math.abs(l.range.start.line - line) <= 40), `no lens near ${name} (line ${line})`);
    }
  });

  it('hovers a layer name in model.json with its σ', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const report = await estimateReport(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const layer = weighted(report)[0];
    const offset = doc.getText().indexOf(`"${layer.name}"`) + 2;
    assert.ok(offset > 1, `${layer.name} not in model.json`);
    const text = await waitFor(
      async () => {
        const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, doc.positionAt(offset))) ?? [];
        const t = hoverText(hovers);
        return /σ|sigma/i.test(t) ? t : undefined;
      },
      30_000,
      `a hover with σ on ${layer.name}`,
    );
    assert.ok(text.includes(layer.name) || text.includes(layer.op), `hover does not name the layer: ${text.slice(0, 300)}`);
  });

  it('opens an .onnx file in the lipschitzLens.onnxEditor custom editor', async function () {
    const onnx = suiteConfig().workspace.onnx[0];
    if (!onnx) this.skip();
    const uri = vscode.Uri.file(onnx);
    // Opening waits for the custom editor's provider; without one it never settles.
    await withTimeout(Promise.resolve(vscode.commands.executeCommand('vscode.open', uri)), 15_000, `vscode.open ${basename(onnx)}`);
    const tab = await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === uri.fsPath),
      30_000,
      `a custom-editor tab for ${basename(onnx)}`,
    );
    const input = tab.input as vscode.TabInputCustom;
    assert.equal(input.viewType, ONNX_VIEW_TYPE);
    assert.equal(tab.label, basename(onnx));
  });

  it('opens a broken .onnx in the custom editor without breaking the host', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.brokenOnnx);
    await withTimeout(Promise.resolve(vscode.commands.executeCommand('vscode.openWith', uri, ONNX_VIEW_TYPE)), 15_000, 'vscode.openWith broken.onnx');
    await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === uri.fsPath),
      30_000,
      'a custom-editor tab for broken.onnx',
    );
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes('lipschitzLens.estimate'));
  });
});

// A click on a row or a bar of the results page reveals the layer in the model: model.json opens
// at the layer's entry, and an .onnx model's row reveals its node in the .onnx editor's node list.
// The page's message is injected through the testing API (the webview's DOM is out of reach here;
// test/webview covers the clicks that post it and the node list that answers it).
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimateReport, ONNX_VIEW_TYPE, testingApi, waitFor } from './helpers';

describe('reveal a row in the model', function () {
  this.timeout(120_000);
  before(async () => {
    await activated();
  });
  after(async () => {
    await closeAllEditors();
  });

  it('model.json opens at the entry of the row clicked, for each row', async () => {
    const api = await testingApi();
    const tiny = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const report = await estimateReport(tiny);
    const rows = report.layers.map((layer, index) => ({ layer, index })).filter(({ layer }) => Array.isArray(layer.weightShape));
    assert.ok(rows.length >= 2, `tiny has ${rows.length} weighted rows`);
    await closeAllEditors();
    const lines = new Set<number>();
    for (const { layer, index } of rows) {
      assert.equal(await api.pageMessage(tiny, { type: 'reveal', index }), true);
      const editor = await waitFor(() => {
        const e = vscode.window.activeTextEditor;
        return e?.document.uri.toString() === tiny.toString() ? e : undefined;
      }, 30_000, `model.json to be the active editor after revealing row ${index}`);
      const line = editor.selection.active.line;
      // Independently of the extension's parser: the line holds the layer's own "name" key.
      assert.match(editor.document.lineAt(line).text, new RegExp(`"name":\\s*"${layer.name}"`), `row ${index} (${layer.name}) revealed line ${line + 1}: ${editor.document.lineAt(line).text.trim()}`);
      assert.ok(editor.visibleRanges.some((r) => r.contains(editor.selection.active)), 'the entry is scrolled into view');
      assert.deepEqual(api.lastReveal(), { uri: tiny.toString(), row: index, kind: 'text', line, character: editor.selection.active.character });
      lines.add(line);
    }
    assert.equal(lines.size, rows.length, 'each row opens at its own entry');
    // The page is untrusted: a malformed row number is refused before anything opens.
    assert.equal(await api.pageMessage(tiny, { type: 'reveal', index: -1 }), false);
    assert.equal(await api.pageMessage(tiny, { type: 'reveal', index: '2' }), false);
  });

  it('an .onnx row reveals its node in the .onnx editor, whose page receives it', async function () {
    const model = suiteConfig().workspace.onnx.find((f) => basename(f) === 'small_cnn.onnx');
    if (!model) this.skip();
    const api = await testingApi();
    const uri = vscode.Uri.file(model!);
    const report = await estimateReport(uri, 90_000);
    await closeAllEditors();
    // The last row with a node: from the results panel, with no .onnx editor open.
    const row = report.layers.map((l, i) => ({ node: l.sourceIndex, i })).filter((r) => r.node !== undefined).pop();
    assert.ok(row, 'the report names the graph node of its rows (sourceIndex)');
    const before = api.onnxRevealsDelivered().length;
    assert.equal(await api.pageMessage(uri, { type: 'reveal', index: row.i }), true);
    const tab = await waitFor(() => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputCustom && active.input.viewType === ONNX_VIEW_TYPE && active.input.uri.toString() === uri.toString() ? active : undefined;
    }, 30_000, `the .onnx editor on small_cnn.onnx to be the active tab (it is ${vscode.window.tabGroups.activeTabGroup.activeTab?.label})`);
    assert.ok(tab.isActive);
    assert.deepEqual(api.lastReveal(), { uri: uri.toString(), row: row.i, kind: 'onnx-node', node: row.node });
    // The editor's page loads, says ready, and is then sent the node to show.
    await waitFor(() => api.onnxRevealsDelivered().slice(before).some((r) => r.uri === uri.toString() && r.row === row.i), 60_000, `the reveal of row ${row.i} to reach the editor's page (delivered: ${JSON.stringify(api.onnxRevealsDelivered())})`);
    // A second reveal goes to the same, already loaded editor: no second tab.
    assert.equal(await api.pageMessage(uri, { type: 'reveal', index: 0 }), true);
    await waitFor(() => api.onnxRevealsDelivered().slice(before).some((r) => r.row === 0), 30_000, 'the second reveal to reach the page');
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === uri.toString());
    assert.equal(tabs.length, 1, 'the open editor is reused');
    // A row that does not exist reveals nothing.
    const count = api.onnxRevealsDelivered().length;
    await api.pageMessage(uri, { type: 'reveal', index: report.layers.length + 5 });
    assert.equal(api.onnxRevealsDelivered().length, count);
  });
});

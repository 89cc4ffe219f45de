// A .onnx whose input shape has symbolic dimensions (PaddleOCR's classifier: batch, 3, ?, ?) in
// the custom editor: the summary shows without a shape, the editor asks for one, and once a shape
// is set the summary and the results say which shape is in use.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimateReport, testingApi, waitFor } from './helpers';

type Summary = { inputShape: number[]; inputs?: { name: string; shape: (number | string)[] }[]; opset?: number; parameterCount?: number };
type EditorState = { status: string; error?: string; summary?: Summary; needsInputShape?: string };

describe('the .onnx editor on a dynamic-shape model', function () {
  this.timeout(180_000);
  const dynamic = suiteConfig().workspace.onnx.find((f) => basename(f) === 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

  before(async () => {
    await activated();
  });
  after(async () => {
    if (dynamic) await vscode.commands.executeCommand('lipschitzLens.setInputShape', vscode.Uri.file(dynamic), null);
    await closeAllEditors();
  });

  it('shows the summary without a shape, says why it needs one, and uses the shape given', async function () {
    if (!dynamic) this.skip();
    const uri = vscode.Uri.file(dynamic!);
    const api = await testingApi();
    const state = () => api.panelState(uri) as EditorState | undefined;
    await vscode.commands.executeCommand('vscode.open', uri);
    const summary = await waitFor(() => state()?.summary, 60_000, `a summary in the editor (state: ${JSON.stringify(state())?.slice(0, 300)})`);
    assert.notEqual(state()?.status, 'error', `the editor shows an error: ${state()?.error}`);
    assert.ok(summary.inputs?.[0]?.shape.some((d) => typeof d === 'string'), `the declared input keeps its symbolic dimensions: ${JSON.stringify(summary.inputs)}`);
    assert.ok((summary.parameterCount ?? 0) > 0 && (summary.opset ?? 0) > 0, 'opset and parameters come from the header');
    assert.match(state()?.needsInputShape ?? '', /cannot be guessed|dynamic/, 'the editor says why it needs a shape');

    // The Estimate button of the shape field sets the shape, then runs: the summary follows.
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', uri, [1, 3, 48, 96]);
    await waitFor(() => state()?.summary?.inputShape.join('x') === '1x3x48x96', 60_000, `the summary to use 1x3x48x96 (it says ${state()?.summary?.inputShape})`);
    const first = await estimateReport(uri, 150_000);
    assert.deepEqual(first.model.inputShape, [1, 3, 48, 96]);

    // A re-run at another shape: the summary does not keep saying the first one.
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', uri, [1, 3, 64, 128]);
    await waitFor(() => state()?.summary?.inputShape.join('x') === '1x3x64x128', 60_000, `the summary to use 1x3x64x128 (it says ${state()?.summary?.inputShape})`);
    const second = await estimateReport(uri, 150_000);
    assert.deepEqual(second.model.inputShape, [1, 3, 64, 128]);
  });
});

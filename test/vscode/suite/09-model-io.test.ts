// Several inputs and a chosen output (docs/graphs.md): the per-file choice made through the
// commands reaches the run, the report says which signal input and outputs were used, and a
// different choice never serves another choice's cached report.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimateReport, ONNX_VIEW_TYPE, sleep, testingApi, waitFor, withTimeout, type ReportLike } from './helpers';

interface IoReport extends ReportLike {
  model: ReportLike['model'] & { signalInput?: string; outputsUsed?: string[] };
  settings?: { inputValues?: Record<string, number>; inputShapes?: Record<string, number[]> };
}

/** The report as the cache stores it (JSON drops undefined members). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('signal input and chosen outputs', function () {
  this.timeout(120_000);
  // Inputs x [batch,16], state [2,batch,8], sr (scalar); outputs prob and new_state.
  let model: vscode.Uri;

  before(async () => {
    await activated();
    model = vscode.Uri.file(join(suiteConfig().workspace.folder, 'fixtures', 'graphs', 'vad_if.onnx'));
  });

  after(async () => {
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, null);
    await vscode.commands.executeCommand('lipschitzLens.setInputValues', model, null);
    await closeAllEditors();
  });

  it('bounds only the chosen output, and a different choice misses the cache', async () => {
    const all = (await estimateReport(model)) as IoReport;
    assert.equal(all.model.signalInput, 'x');
    assert.deepEqual(all.model.outputsUsed, ['prob', 'new_state']);

    assert.deepEqual(await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, ['prob']), ['prob']);
    const prob = (await estimateReport(model)) as IoReport;
    assert.deepEqual(prob.model.outputsUsed, ['prob']);
    assert.ok(prob.layers.length < all.layers.length, `prob alone has ${prob.layers.length} rows, the whole graph ${all.layers.length}`);

    assert.deepEqual(await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, ['new_state']), ['new_state']);
    const state = (await estimateReport(model)) as IoReport;
    assert.deepEqual(state.model.outputsUsed, ['new_state'], 'another choice is computed, not served from the cache of the first');
    assert.notEqual(state.bounds.product, prob.bounds.product);

    // Back to the first choice: its own cached report, to the last digit (the run time included).
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, ['prob']);
    const again = (await estimateReport(model)) as IoReport;
    assert.deepEqual(asJson(again), asJson(prob));

    // An intermediate value (an ONNX tensor name) cuts the network there.
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, ['/dense/Gemm_output_0']);
    const cut = (await estimateReport(model)) as IoReport;
    assert.deepEqual(cut.model.outputsUsed, ['/dense/Gemm_output_0']);
    assert.equal(cut.layers.at(-1)?.name, '/dense/Gemm');

    // Every graph output is the default: the cached report of no choice.
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, null);
    assert.deepEqual(asJson(await estimateReport(model)), asJson(all));
  });

  it('refuses names the model does not have and keeps the previous choice', async () => {
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, ['prob']);
    assert.equal(await vscode.commands.executeCommand('lipschitzLens.chooseSignalInput', model, 'no_such_input'), undefined);
    assert.equal(await vscode.commands.executeCommand('lipschitzLens.setInputValues', model, 'sr=abc'), undefined);
    assert.equal(await vscode.commands.executeCommand('lipschitzLens.setInputValues', model, 'rate=16000'), undefined);
    assert.equal(await vscode.commands.executeCommand('lipschitzLens.setInputShape', model, 'state=2,0,8'), undefined);
    const report = (await estimateReport(model)) as IoReport;
    assert.equal(report.model.signalInput, 'x');
    assert.deepEqual(report.model.outputsUsed, ['prob']);
  });

  it('takes the arguments the palette and the explorer pass: the active model or the clicked one, then a quick pick', async () => {
    await withTimeout(Promise.resolve(vscode.commands.executeCommand('vscode.openWith', model, ONNX_VIEW_TYPE)), 15_000, 'open vad_if.onnx');
    // A quick pick closes when it loses focus: let the editor's webview finish loading first.
    await sleep(3000);
    const api = await testingApi();
    // The command reads the model's summary from the worker (slow under load) before it shows its pick:
    // wait until it has asked for the pick, then give the workbench a moment to draw it.
    const pickShown = async (before: number) => {
      await waitFor(() => api.ioPicksRequested() > before, 30_000, 'the quick pick');
      await sleep(1000);
    };
    // Palette: no arguments, the model of the active (custom) editor; the pick lists Default, x, state, sr.
    let picks = api.ioPicksRequested();
    const fromPalette = vscode.commands.executeCommand('lipschitzLens.chooseSignalInput');
    await pickShown(picks);
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await withTimeout(Promise.resolve(fromPalette), 10_000, 'chooseSignalInput from the palette'), 'state');
    await closeAllEditors();
    // Explorer: (clicked, selection); the first item of the pick is the default.
    picks = api.ioPicksRequested();
    const fromExplorer = vscode.commands.executeCommand('lipschitzLens.chooseSignalInput', model, [model]);
    await pickShown(picks);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await withTimeout(Promise.resolve(fromExplorer), 10_000, 'chooseSignalInput from the explorer'), null);
    // Explorer on Choose Outputs: the remembered choice (prob, from the test before) is picked to begin with.
    picks = api.ioPicksRequested();
    const kept = vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, [model]);
    await pickShown(picks);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.deepEqual(await withTimeout(Promise.resolve(kept), 10_000, 'chooseOutputs from the explorer'), ['prob']);
    // With no choice every graph output is picked, which is stored as the default.
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, null);
    picks = api.ioPicksRequested();
    const outputs = vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, [model]);
    await pickShown(picks);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await withTimeout(Promise.resolve(outputs), 10_000, 'chooseOutputs from the explorer'), null);
    const report = (await estimateReport(model)) as IoReport;
    assert.equal(report.model.signalInput, 'x');
  });

  it('passes a fixed input value and other inputs\' shapes to the run', async () => {
    await vscode.commands.executeCommand('lipschitzLens.chooseOutputs', model, null);
    const before = (await estimateReport(model)) as IoReport;
    assert.deepEqual(await vscode.commands.executeCommand('lipschitzLens.setInputValues', model, 'sr=16000'), { sr: 16000 });
    const fixed = (await estimateReport(model)) as IoReport;
    assert.deepEqual(fixed.settings?.inputValues, { sr: 16000 });
    assert.notDeepEqual(fixed.layers.map((l) => l.name), before.layers.map((l) => l.name), 'the If on sr folds to one branch');
    assert.deepEqual(await vscode.commands.executeCommand('lipschitzLens.setInputShape', model, '2,16; state=2,2,8'), { signal: [2, 16], named: { state: [2, 2, 8] } });
    const shaped = (await estimateReport(model)) as IoReport;
    assert.deepEqual(shaped.model.inputShape, [2, 16]);
    assert.deepEqual(shaped.settings?.inputShapes, { state: [2, 2, 8] });
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', model, null);
  });
});

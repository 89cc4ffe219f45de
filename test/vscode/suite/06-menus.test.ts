// Every command from every menu it appears in, called with the arguments VS Code really passes:
// the explorer passes (clicked URI, selected URIs), the editor title (URI, { groupId, editorIndex }),
// the palette nothing, lenses and the status bar what the extension put in them.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, estimateReport, extension, waitFor, withTimeout } from './helpers';

interface TestingApi {
  testing?: { inputShape?: (uri: vscode.Uri) => number[] | undefined };
}

function inputShapeOf(uri: vscode.Uri): number[] | undefined {
  const api = extension().exports as TestingApi | undefined;
  assert.ok(api?.testing?.inputShape, 'the extension exports no testing.inputShape() (see test/vscode/README.md)');
  return api.testing.inputShape(uri);
}

/** Runs a command that asks for text in an input box, and accepts the box (with its pre-filled value) once it shows. */
async function acceptingInputBox<T>(run: () => Thenable<T>): Promise<T> {
  let settled = false;
  const result = Promise.resolve(run()).finally(() => {
    settled = true;
  });
  await waitFor(async () => {
    if (settled) return true;
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    return settled;
  }, 30_000, 'the command to settle after accepting its input box', 200);
  return withTimeout(result, 5_000, 'the command');
}

describe('menus pass their real arguments', function () {
  this.timeout(90_000);
  const [a, b] = suiteConfig().workspace.menuTfjs.map((p) => vscode.Uri.file(p));

  before(async () => {
    await activated();
  });
  after(async () => {
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', a, null);
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', b, null);
  });

  it('palette / programmatic: setInputShape(uri, shape) sets the shape', async () => {
    const result = await vscode.commands.executeCommand('lipschitzLens.setInputShape', a, [2, 8]);
    assert.deepEqual(result, [2, 8]);
    assert.deepEqual(inputShapeOf(a), [2, 8]);
  });

  it('explorer, one file: Set Input Shape… receives (uri, [uri]) and asks for the shape', async () => {
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', a, [3, 8]);
    // The box is pre-filled with the model's current shape; accepting it keeps that shape.
    const result = await acceptingInputBox(() => vscode.commands.executeCommand('lipschitzLens.setInputShape', a, [a]));
    assert.deepEqual(result, [3, 8], 'the explorer\'s selection was read as the shape');
    assert.deepEqual(inputShapeOf(a), [3, 8]);
  });

  it('explorer, several files: Set Input Shape… sets the shape of every selected model', async () => {
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', a, [4, 8]);
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', b, null);
    const result = await acceptingInputBox(() => vscode.commands.executeCommand('lipschitzLens.setInputShape', a, [a, b]));
    assert.deepEqual(result, [4, 8]);
    assert.deepEqual(inputShapeOf(b), [4, 8], 'the second selected model got the shape');
    const report = await estimateReport(b);
    assert.deepEqual(report.model.inputShape, [4, 8], 'the next run of the second model uses it');
  });

  it('explorer: Estimate Lipschitz receives (uri, [uri]) and estimates that model', async () => {
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', a, null);
    const report = await withTimeout(Promise.resolve(vscode.commands.executeCommand('lipschitzLens.estimate', a, [a])), 60_000, 'estimate from the explorer');
    assert.ok(report && typeof report === 'object' && 'layers' in report, `resolved with ${JSON.stringify(report)?.slice(0, 200)}`);
    assert.equal((report as unknown as { model: { path: string } }).model.path.endsWith('menu-a/model.json'), true);
  });

  it('editor title: Estimate Lipschitz receives (uri, { groupId, editorIndex }) and estimates that model', async () => {
    const report = await withTimeout(Promise.resolve(vscode.commands.executeCommand('lipschitzLens.estimate', b, { groupId: 1, editorIndex: 0 })), 60_000, 'estimate from the editor title');
    assert.ok(report && typeof report === 'object' && 'layers' in report, `resolved with ${JSON.stringify(report)?.slice(0, 200)}`);
  });
});

// Compare Runs: the history keeps the last N runs of a model; two runs (of one file, or two
// checkpoints of one architecture) open side by side with per-layer σ, their ratio and the bounds;
// from the explorer (two selected), the editor title menu (with its quick picks) and with arguments.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, closeAllEditors, estimateReport, sleep, testingApi, waitFor, withTimeout, type ReportLike } from './helpers';

interface Comparison {
  layers: { name: string; ratio: number | null; a?: { sigma: number | null }; b?: { sigma: number | null } }[];
  product: { a: number | null; b: number | null; ratio: number | null };
  certified: { a: number | null; b: number | null; ratio: number | null };
  a: { model: string; savedAt: string };
  b: { model: string; savedAt: string };
}

const compareTab = () =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /lipschitzLens\.compare/.test(t.input.viewType));

function checkRatios(comparison: Comparison, a: ReportLike, b: ReportLike): void {
  assert.deepEqual(comparison.layers.map((l) => l.name), a.layers.map((l) => l.name));
  for (const layer of comparison.layers) {
    const sa = a.layers.find((l) => l.name === layer.name)!.sigma;
    const sb = b.layers.find((l) => l.name === layer.name)!.sigma;
    assert.equal(layer.a?.sigma, sa);
    assert.equal(layer.b?.sigma, sb);
    if (sa !== null && sb !== null && sa !== 0) assert.ok(Math.abs(layer.ratio! - sb / sa) <= 1e-12 * Math.abs(sb / sa), `${layer.name}: ratio ${layer.ratio}, σ ${sa} → ${sb}`);
  }
  assert.equal(comparison.product.a, a.bounds.product);
  assert.equal(comparison.product.b, b.bounds.product);
}

describe('compare runs', function () {
  this.timeout(180_000);
  const [first, second] = suiteConfig().workspace.checkpoints.map((p) => vscode.Uri.file(p));
  const config = () => vscode.workspace.getConfiguration('lipschitzLens');

  before(async () => {
    await activated();
  });
  after(async () => {
    await config().update('historySize', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', first, null);
    await closeAllEditors();
  });

  it('keeps the last N runs of a model (the historySize setting), newest first', async () => {
    const api = await testingApi();
    await config().update('historySize', 2, vscode.ConfigurationTarget.Global);
    for (const batch of [1, 2, 3]) {
      await vscode.commands.executeCommand('lipschitzLens.setInputShape', first, [batch, 8]);
      await estimateReport(first);
    }
    const history = await api.history(first);
    assert.deepEqual(history.map((r) => r.inputShape), [[3, 8], [2, 8]]);
    await config().update('historySize', 5, vscode.ConfigurationTarget.Global);
  });

  it('with arguments: the two newest runs of one model, rows matched by name with σ ratios', async () => {
    const api = await testingApi();
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', first, [4, 8]);
    const older = await estimateReport(first);
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', first, [5, 8]);
    const newer = await estimateReport(first);
    assert.deepEqual((await api.history(first)).slice(0, 2).map((r) => r.inputShape), [[5, 8], [4, 8]]);
    const comparison = (await vscode.commands.executeCommand('lipschitzLens.compareRuns', { a: { model: first }, b: { model: first } })) as Comparison;
    checkRatios(comparison, older, newer);
    await waitFor(compareTab, 10_000, 'the comparison page');
  });

  it('explorer, two checkpoints selected: compares the newest run of each', async () => {
    await vscode.commands.executeCommand('lipschitzLens.setInputShape', first, null);
    const a = await estimateReport(first);
    const b = await estimateReport(second);
    await closeAllEditors();
    const comparison = (await vscode.commands.executeCommand('lipschitzLens.compareRuns', first, [first, second])) as Comparison;
    assert.ok(comparison, 'no comparison');
    assert.equal(comparison.a.model, first.toString());
    assert.equal(comparison.b.model, second.toString());
    checkRatios(comparison, a, b);
    assert.ok(comparison.layers.some((l) => l.ratio !== null && Math.abs(l.ratio - 1) > 1e-6), 'other weights give other σ');
    const tab = await waitFor(compareTab, 10_000, 'the comparison page');
    assert.match(tab.label, /Compare: model\.json ↔ model\.json/);
  });

  /** Runs compareRuns with `args`, accepting the first item of each of its two quick picks. */
  async function compareWithPicks(...args: unknown[]): Promise<Comparison | undefined> {
    const api = await testingApi();
    // A quick pick closes when it loses focus: let the editors of the test before settle first.
    await sleep(1500);
    let picks = api.ioPicksRequested();
    const result = Promise.resolve(vscode.commands.executeCommand('lipschitzLens.compareRuns', ...args));
    // A = the newest run of this model (the first item), then B = the first item left. The command
    // reads the histories before each pick: wait until it has asked for the pick, then let it draw.
    for (const which of ['A', 'B']) {
      await waitFor(() => api.ioPicksRequested() > picks, 30_000, `the quick pick for run ${which}`);
      picks = api.ioPicksRequested();
      await sleep(1000);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    return (await withTimeout(result, 10_000, 'compareRuns')) as Comparison | undefined;
  }

  const menuForms: [string, () => Promise<unknown[]>][] = [
    ['editor title menu (uri, { groupId, editorIndex })', async () => {
      await closeAllEditors();
      return [first, { groupId: 1, editorIndex: 0 }];
    }],
    ['explorer, one file (uri, [uri])', async () => {
      await closeAllEditors();
      return [first, [first]];
    }],
    ['palette (no arguments, the model in front)', async () => {
      await vscode.window.showTextDocument(first);
      return [];
    }],
  ];
  for (const [form, args] of menuForms) {
    it(`${form}: asks for two runs among its own and the other checkpoint's`, async () => {
      const api = await testingApi();
      const comparison = await compareWithPicks(...(await args()));
      assert.ok(comparison, 'the picks were dismissed');
      assert.equal(comparison.a.model, first.toString());
      const history = await api.history(first);
      assert.equal(comparison.a.savedAt, history[0].savedAt, 'A is the newest run');
      assert.notEqual(`${comparison.b.model} ${comparison.b.savedAt}`, `${comparison.a.model} ${comparison.a.savedAt}`, 'B is another run');
      await closeAllEditors();
    });
  }

  it('a model without runs says so instead of opening an empty page', async () => {
    const fresh = vscode.Uri.file(suiteConfig().workspace.menuTfjs[1]);
    const api = await testingApi();
    if ((await api.history(fresh)).length >= 2) return;
    const result = await vscode.commands.executeCommand('lipschitzLens.compareRuns', { a: { model: fresh, run: 7 }, b: { model: fresh, run: 8 } });
    assert.equal(result, undefined);
  });
});

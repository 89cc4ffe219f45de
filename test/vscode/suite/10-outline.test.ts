// model.json as people have it: one-line converted files get an outline of layers, a "Format
// model.json" lens that keeps the results, and lenses on every row with a value (a separable conv,
// an upsampling); the "Lipschitz Layers" view lists the active model's layers and reveals them; the
// status bar does not re-read a model on every editor switch.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { formatNumber } from '../../../src/protocol/format-number';
import { activated, closeAllEditors, estimateReport, testingApi, waitFor } from './helpers';

const symbolsOf = async (uri: vscode.Uri): Promise<vscode.DocumentSymbol[]> =>
  ((await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>('vscode.executeDocumentSymbolProvider', uri)) ?? []).filter(
    (s): s is vscode.DocumentSymbol => 'children' in s,
  );
const lensesOf = async (uri: vscode.Uri): Promise<vscode.CodeLens[]> => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];

describe('model.json outline, format and layers view', function () {
  this.timeout(120_000);
  before(async () => {
    await activated();
  });
  afterEach(closeAllEditors);

  it('one-line model.json: an outline of its layers with class, then σ after a run', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.oneLineTfjs);
    const document = await vscode.workspace.openTextDocument(uri);
    assert.equal(document.lineCount, 1, 'the fixture is one line');
    // Shown in an editor, as a user has it: the workbench keeps this version's symbols, so σ appears
    // after the run only if the extension makes it ask again.
    await vscode.window.showTextDocument(document);
    const names = ['line_conv_1', 'line_conv_2', 'line_conv_3'];
    const before = await waitFor(async () => {
      const found = (await symbolsOf(uri)).filter((s) => names.includes(s.name));
      return found.length === names.length ? found : undefined;
    }, 30_000, 'three layer symbols');
    assert.deepEqual(before.map((s) => s.detail), ['Conv2D', 'Conv2D', 'Conv2D']);
    const columns = before.map((s) => s.selectionRange.start.character);
    assert.equal(new Set(columns).size, 3, `the symbols point at three places on the line: ${columns.join(', ')}`);
    for (const s of before) assert.equal(document.getText(s.selectionRange), '"name"');
    const report = await estimateReport(uri);
    const after = await waitFor(async () => {
      const found = (await symbolsOf(uri)).filter((s) => names.includes(s.name) && /σ/.test(s.detail));
      return found.length === names.length ? found : undefined;
    }, 30_000, 'symbols with σ');
    const sigma = report.layers.find((l) => l.name === 'line_conv_2')!.sigma;
    assert.ok(after[1].detail.startsWith(`Conv2D · σ ${formatNumber(sigma)}`), `detail "${after[1].detail}", σ ${sigma}`);
  });

  it('Format model.json: the lens on a one-line file pretty-prints and saves it, and the results stay, lenses on their own lines', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.oneLineTfjs);
    const before = readFileSync(uri.fsPath, 'utf8');
    await estimateReport(uri);
    const api = await testingApi();
    await vscode.window.showTextDocument(uri);
    const formatLens = await waitFor(async () => (await lensesOf(uri)).find((l) => l.command?.command === 'lipschitzLens.formatModelJson'), 30_000, 'the Format model.json lens');
    assert.match(formatLens.command!.title, /Format model\.json/);
    // What a click on the lens runs: its command with its own arguments.
    const changed = await vscode.commands.executeCommand(formatLens.command!.command, ...(formatLens.command!.arguments ?? []));
    assert.equal(changed, true);
    const document = await vscode.workspace.openTextDocument(uri);
    assert.ok(document.lineCount > 20, `formatted into ${document.lineCount} lines`);
    // The host learns the dirty state from the workbench by its own message, a moment after save() resolves.
    await waitFor(() => !document.isDirty && readFileSync(uri.fsPath, 'utf8').split('\n').length > 20, 10_000, 'the formatted text saved');
    assert.deepEqual(JSON.parse(readFileSync(uri.fsPath, 'utf8')), JSON.parse(before), 'the same JSON value');
    assert.equal(api.panelState(uri)?.status, 'done', 'the results stay');
    const layerLenses = await waitFor(async () => {
      const found = (await lensesOf(uri)).filter((l) => /σ/.test(l.command?.title ?? ''));
      return found.length === 3 ? found : undefined;
    }, 30_000, 'three σ lenses after the format');
    const lines = layerLenses.map((l) => l.range.start.line);
    assert.equal(new Set(lines).size, 3, `one line per layer: ${lines.join(', ')}`);
    for (const [i, lens] of layerLenses.entries()) assert.match(document.lineAt(lens.range.start.line + 1).text, /"class_name": "Conv2D"/, `lens ${i} sits on its layer`);
    assert.ok(!(await lensesOf(uri)).some((l) => l.command?.command === 'lipschitzLens.formatModelJson'), 'no format lens on a formatted file');
    // The saved file has other bytes, and the same report: the next estimate is served from the cache.
    await estimateReport(uri);
    if (api.panelState(uri)?.fromCache !== true) {
      await vscode.commands.executeCommand('lipschitzLens.showLog');
      const log = await waitFor(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'output' && /Lipschitz/.test(e.document.uri.toString()))?.document.getText(), 5000, 'the log').catch(() => '');
      assert.fail(`the formatted file's report was not cached under its new key; log:\n${log.split('\n').slice(-12).join('\n')}`);
    }
  });

  /** A fresh one-line copy of a small model (with its shard), for the menu forms of Format model.json. */
  const oneLineCopy = (name: string): vscode.Uri => {
    const source = suiteConfig().workspace.checkpoints[0];
    const dir = join(suiteConfig().workspace.folder, name);
    mkdirSync(dir, { recursive: true });
    cpSync(dirname(source), dir, { recursive: true });
    const path = join(dir, 'model.json');
    writeFileSync(path, JSON.stringify(JSON.parse(readFileSync(path, 'utf8'))));
    return vscode.Uri.file(path);
  };
  const formatForms: [string, (uri: vscode.Uri) => unknown[]][] = [
    ['palette (no arguments, the file in front)', () => []],
    ['editor context menu (uri)', (uri) => [uri]],
  ];
  for (const [form, args] of formatForms) {
    it(`Format model.json from the ${form}`, async () => {
      const uri = oneLineCopy(`format-${form.split(' ')[0]}`);
      await vscode.window.showTextDocument(uri);
      const before = readFileSync(uri.fsPath, 'utf8');
      assert.equal(await vscode.commands.executeCommand('lipschitzLens.formatModelJson', ...args(uri)), true);
      const after = await waitFor(() => {
        const text = readFileSync(uri.fsPath, 'utf8');
        return text.split('\n').length > 20 ? text : undefined;
      }, 10_000, `${uri.path} formatted and saved`);
      assert.deepEqual(JSON.parse(after), JSON.parse(before));
    });
  }

  it('a separable conv, an upsampling and the pooling rows get their lens; the hover over the separable conv shows both halves', async function () {
    const seq = suiteConfig().workspace.tfjs.find((f) => f.endsWith('seq-cnn/model.json'));
    if (!seq) this.skip();
    const uri = vscode.Uri.file(seq);
    await estimateReport(uri, 90_000);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const lenses = await waitFor(async () => {
      const found = (await lensesOf(uri)).filter((l) => l.command?.command === 'lipschitzLens.showResults' && /σ|constant/.test(l.command.title));
      return found.length >= 8 ? found : undefined;
    }, 30_000, 'the layer lenses of seq-cnn');
    // The file is one line (as converted): each lens sits at its entry's opening brace, before the layer's name.
    const text = document.getText();
    const entryLine = (name: string) => {
      const nameAt = text.indexOf(`"name":"${name}"`);
      assert.ok(nameAt >= 0, `${name} is in the file`);
      return lenses.filter((l) => document.offsetAt(l.range.start) <= nameAt).sort((x, y) => document.offsetAt(y.range.start) - document.offsetAt(x.range.start))[0];
    };
    assert.match(entryLine('sep_c')?.command?.title ?? '', /depthwise σ .* · pointwise σ /);
    assert.match(entryLine('up_h')?.command?.title ?? '', /UpSampling2D constant 2/);
    assert.match(entryLine('pool_e')?.command?.title ?? '', /MaxPooling2D constant 1/);
    assert.match(entryLine('avg_f')?.command?.title ?? '', /σ /);
    const offset = text.indexOf('"sep_c"') + 2;
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, document.positionAt(offset))) ?? [];
    const hoverText = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
    assert.match(hoverText, /sep\\_c\/depthwise/);
    assert.match(hoverText, /sep\\_c\/pointwise/);
  });

  it('the Lipschitz Layers view lists the active model\'s layers with σ, and its items reveal the layer', async () => {
    const api = await testingApi();
    const uri = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const report = await estimateReport(uri);
    await vscode.window.showTextDocument(uri);
    const view = await waitFor(async () => {
      const v = await api.layersView();
      return v.model === uri.toString() && v.items.some((i) => /σ/.test(i.description)) ? v : undefined;
    }, 30_000, 'the layers view following tiny-dense/model.json');
    assert.deepEqual(view.items.map((i) => i.label), ['dense_in', 'dense_hidden', 'dense_out']);
    const dense = report.layers.find((l) => l.name === 'dense_hidden')!;
    assert.match(view.items[1].description, /^Dense · σ /);
    assert.ok(dense.sigma !== null);
    // A click on an item runs its command with its arguments: the editor moves to that layer.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand(view.items[2].command, ...view.items[2].arguments);
    const editor = await waitFor(() => (vscode.window.activeTextEditor?.document.uri.toString() === uri.toString() ? vscode.window.activeTextEditor : undefined), 10_000, 'model.json in front');
    assert.match(editor.document.lineAt(editor.selection.active.line).text, /"name": "dense_out"/);
    // Another model in front: the view follows it.
    const other = vscode.Uri.file(suiteConfig().workspace.oneLineTfjs);
    await vscode.window.showTextDocument(other);
    await waitFor(async () => (await api.layersView()).model === other.toString(), 10_000, 'the view following one-line/model.json');
  });

  it('the status bar does not re-read a model.json on every switch of editors', async () => {
    const api = await testingApi();
    const tiny = vscode.Uri.file(suiteConfig().workspace.tinyTfjs);
    const notes = vscode.Uri.file(join(suiteConfig().workspace.folder, 'notes-outline.txt'));
    writeFileSync(notes.fsPath, 'not a model\n');
    const show = async (uri: vscode.Uri, visible: boolean) => {
      await vscode.window.showTextDocument(uri);
      await waitFor(() => api.statusBar().visible === visible && (!visible || api.statusBar().model === uri.toString()), 10_000, `the status bar for ${uri.path}`);
    };
    await show(tiny, true);
    await show(notes, false);
    const reads = api.modelKindReads();
    for (let i = 0; i < 4; i++) {
      await show(tiny, true);
      await show(notes, false);
    }
    assert.equal(api.modelKindReads(), reads, 'switching between unchanged files read them again');
  });
});

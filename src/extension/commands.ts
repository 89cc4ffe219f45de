// The lipschitzLens.* commands. Each takes optional arguments so menus, lenses, the webview and
// tests can call it without dialogs: estimate(uri?, uris? | {force}) → Report | {error} | undefined,
// cancel(uri?), exportReport(uri?, format?, target?) or exportReport({model, format, target}),
// setInputShape(uri?, text?), setInputValues(uri?, text?), chooseSignalInput(uri?, name?),
// chooseOutputs(uri?, names?), showResults(uri?), showLog().

import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import type { Controller, EstimateOutcome } from './controller';
import { exportFileName, exportReport, partialSentence, type ExportFormat } from './export-formats';
import { shownReport } from './panel-state';
import { baseName, modelKindOf } from './model-files';
import type { ModelJsonProviders, TfjsModelIndex } from './model-json-providers';
import { formatJsonText } from './model-json-format';
import { revealModelJsonEntry } from './layers-view';
import { architectureOf, type RunRecord } from './run-history';
import { compareHtml, compareReports, type RunComparison, type RunLabel } from './compare-runs';
import { boundShort } from './lens-text';
import { makeNonce } from './webview-html';
import type { OnnxEditorProvider } from './onnx-editor';
import type { ModelSession } from './sessions';
import { formatShape } from '../protocol/format-number';
import {
  formatInputValues,
  formatShapeEntries,
  parseInputValues,
  parseShapeEntries,
  unknownNames,
  validateInputShapeText,
  validateInputValuesText,
  type ShapeEntries,
} from './settings';
import type { ResultsPanels } from './webview-host';

interface Surfaces {
  controller: Controller;
  panels: ResultsPanels;
  onnxEditor: OnnxEditorProvider;
  tfjsIndex: TfjsModelIndex;
  providers: ModelJsonProviders;
}

/** The file behind the active editor tab: a text editor or a custom editor (.onnx). */
export function activeResourceUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

/** Quick picks the model-io commands have asked VS Code to show: tests wait on it instead of sleeping. */
let ioPicksRequested = 0;
export function ioPicksRequestedForTesting(): number {
  return ioPicksRequested;
}

async function pickWorkspaceModel(surfaces: Surfaces): Promise<vscode.Uri | undefined> {
  const onnx = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 1000);
  const seen = new Set<string>();
  const uris = [...onnx, ...surfaces.tfjsIndex.uris()].filter((u) => !seen.has(u.toString()) && seen.add(u.toString()));
  if (uris.length === 0) {
    void vscode.window.showInformationMessage('No ONNX model or TF.js model.json found in the workspace.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    uris
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((uri) => ({ label: baseName(uri), description: vscode.workspace.asRelativePath(uri, true), uri })),
    { title: 'Estimate Lipschitz', placeHolder: 'Choose a model' },
  );
  return picked?.uri;
}

/** The model a command is about: its argument, the active editor's file, or a quick pick. */
async function targetModel(surfaces: Surfaces, argument: unknown, pick: boolean): Promise<vscode.Uri | undefined> {
  if (argument instanceof vscode.Uri) return argument;
  if (typeof argument === 'string' && argument) return vscode.Uri.parse(argument);
  const active = activeResourceUri();
  if (active && (await modelKindOf(active))) return active;
  const last = surfaces.controller.sessions.last;
  if (last && !pick) return vscode.Uri.parse(last.key);
  return pick ? pickWorkspaceModel(surfaces) : undefined;
}

/** The session with a report a command is about: argument, active editor, the only one, or a pick. */
async function targetReport(surfaces: Surfaces, argument: unknown): Promise<ModelSession | undefined> {
  const { sessions } = surfaces.controller;
  const uri = argument instanceof vscode.Uri ? argument : typeof argument === 'string' ? vscode.Uri.parse(argument) : activeResourceUri();
  const direct = uri ? sessions.get(uri.toString()) : undefined;
  if (direct && shownReport(direct.state, direct.report)) return direct;
  if (argument instanceof vscode.Uri || typeof argument === 'string') return undefined;
  const withReports = sessions.all().filter((s) => shownReport(s.state, s.report));
  if (sessions.last && withReports.length === 1 && withReports[0] === sessions.last) return sessions.last;
  if (withReports.length <= 1) return withReports[0];
  const picked = await vscode.window.showQuickPick(
    withReports.map((s) => ({ label: baseName(vscode.Uri.parse(s.key)), description: vscode.workspace.asRelativePath(vscode.Uri.parse(s.key), true), session: s })),
    { title: 'Export Lipschitz report', placeHolder: 'Choose a model' },
  );
  return picked?.session;
}

/** Polls until the file reads back as `text` (up to `ms`); false when it does not. */
async function fileHolds(uri: vscode.Uri, text: string, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)) === text) return true;
    } catch {
      // Not readable yet: try again.
    }
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const FORMATS: { format: ExportFormat; label: string; detail: string; filters: Record<string, string[]> }[] = [
  { format: 'json', label: 'JSON', detail: 'The full report, as the CLI writes with --json', filters: { JSON: ['json'] } },
  { format: 'csv', label: 'CSV', detail: 'One row per layer, for spreadsheets', filters: { CSV: ['csv'] } },
  { format: 'markdown', label: 'Markdown', detail: 'A readable summary and table', filters: { Markdown: ['md'] } },
  { format: 'netron', label: 'Netron attachment', detail: '<model>.metrics.json: σ per node, shown in Netron', filters: { JSON: ['json'] } },
];

function isExportFormat(value: unknown): value is ExportFormat {
  return FORMATS.some((f) => f.format === value);
}

export function registerCommands(surfaces: Surfaces): vscode.Disposable[] {
  const { controller, panels, onnxEditor } = surfaces;

  const showFor = async (uri: vscode.Uri, preserveFocus: boolean): Promise<ModelSession | undefined> => {
    const session = await controller.sessionFor(uri);
    if (!session) return undefined;
    // The .onnx editor already shows the table; a panel would repeat it.
    if (!(session.kind === 'onnx' && onnxEditor.isOpen(uri))) panels.show(uri, session, preserveFocus);
    return session;
  };

  /** What the command resolves with: the Report, `{ error }` when the run failed, undefined when cancelled. */
  const commandResult = (outcome: EstimateOutcome): Report | { error: string } | undefined =>
    outcome.kind === 'done' ? outcome.report : outcome.kind === 'error' ? { error: outcome.message } : undefined;

  /** The explorer passes (clicked, selected URIs): the second argument when it is a list of URIs. */
  const explorerSelection = (second: unknown): vscode.Uri[] | undefined =>
    Array.isArray(second) && second.every((u) => u instanceof vscode.Uri) ? (second as vscode.Uri[]) : undefined;

  const estimate = async (argument?: unknown, second?: unknown): Promise<Report | { error: string } | undefined> => {
    const options = second && typeof second === 'object' && !Array.isArray(second) ? (second as { force?: unknown }) : {};
    const force = options.force === true;
    // Explorer: (clicked, selection). Estimate every selected model.
    const selection = explorerSelection(second) ?? [];
    if (selection.length > 1) {
      const outcomes = await Promise.all(selection.map(async (uri) => {
        await showFor(uri, true);
        return controller.estimate(uri, { force });
      }));
      return commandResult(outcomes.find((o) => o.kind === 'done') ?? outcomes[0]);
    }
    const uri = await targetModel(surfaces, argument, true);
    if (!uri) return undefined;
    const kind = await modelKindOf(uri);
    if (kind === 'tfjs') surfaces.tfjsIndex.set(uri, true);
    if (kind) await showFor(uri, true);
    return commandResult(await controller.estimate(uri, { force }));
  };

  const cancel = async (argument?: unknown): Promise<number> => {
    const uri = argument instanceof vscode.Uri ? argument : undefined;
    const count = controller.cancel(uri);
    if (count === 0) controller.log('info', 'cancel: no estimate was running');
    return count;
  };

  const exportCommand = async (first?: unknown, second?: unknown, third?: unknown): Promise<vscode.Uri | undefined> => {
    // Either (model?, format?, target?) or one object { model?, format?, target? }.
    const named = first && typeof first === 'object' && !(first instanceof vscode.Uri) ? (first as { model?: unknown; format?: unknown; target?: unknown }) : undefined;
    const argument = named ? named.model : first;
    const formatArgument = named ? named.format : second;
    const targetArgument = named ? named.target : third;
    const session = await targetReport(surfaces, argument);
    // Export what the panel shows: after a cancelled re-run that is the partial run, not the older report.
    const shown = session ? shownReport(session.state, session.report) : undefined;
    if (!session || !shown) {
      void vscode.window.showInformationMessage('No Lipschitz report to export yet: run "Lipschitz Lens: Estimate Lipschitz" first.');
      return undefined;
    }
    let format: ExportFormat | undefined = isExportFormat(formatArgument) ? formatArgument : undefined;
    if (!format) {
      format = (await vscode.window.showQuickPick(FORMATS.map((f) => ({ label: f.label, detail: f.detail, format: f.format })), { title: 'Export Lipschitz report as' }))?.format;
      if (!format) return undefined;
    }
    const modelUri = vscode.Uri.parse(session.key);
    let target = targetArgument instanceof vscode.Uri ? targetArgument : undefined;
    if (!target) {
      target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(modelUri, '..', exportFileName(baseName(modelUri), format)),
        filters: FORMATS.find((f) => f.format === format)!.filters,
        title: 'Export Lipschitz report',
      });
      if (!target) return undefined;
    }
    try {
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(exportReport(shown.report, format, shown.partial)));
    } catch (error) {
      void vscode.window.showErrorMessage(`Could not write ${baseName(target)}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    const partial = shown.partial ? ` ${partialSentence(shown.partial)}` : '';
    controller.log('info', `exported ${format} to ${target.toString(true)}${partial}`);
    if (!(targetArgument instanceof vscode.Uri)) {
      void vscode.window.showInformationMessage(`Saved ${baseName(target)}.${partial}`, 'Open').then((choice) => {
        if (choice && target) void vscode.window.showTextDocument(target);
      });
    }
    return target;
  };

  /**
   * After a change of the file's inputs or outputs: reads the summary again where one is shown (the
   * .onnx editor), and offers to estimate again when the model already has a report (interactive only).
   */
  const afterChoice = (uri: vscode.Uri, interactive: boolean, what: string, describe = true): void => {
    const session = controller.sessions.get(uri.toString());
    if (describe && session?.state.summary) void controller.describe(uri, session.kind);
    if (!interactive || !session?.report) return;
    void vscode.window.showInformationMessage(`${what}.`, 'Estimate now').then((choice) => {
      if (choice) void vscode.commands.executeCommand('lipschitzLens.estimate', uri);
    });
  };

  /** The names of the model's inputs (or outputs) when they can be read, for validation. */
  const knownNames = async (uri: vscode.Uri, which: 'inputs' | 'outputs'): Promise<string[] | undefined> =>
    (await controller.modelSummary(uri))?.[which]?.map((t) => t.name);

  /**
   * setInputShape(uri?, text?): "1,3,224,224" (the signal input's shape), "NAME=2,1,128" entries
   * for inputs held fixed, separated by ";" (or an array of dims: the signal input's shape). Null or
   * "" clears both. Resolves with the signal shape, or { signal?, named } when other inputs have
   * shapes, null when cleared, undefined when dismissed or refused. The explorer passes (clicked, selection): the shapes go to every selected model
   * and are asked for. The tab menu passes (uri, {groupId}): a second argument that is not a string,
   * an array of numbers or null is not a shape.
   */
  const setInputShape = async (argument?: unknown, second?: unknown): Promise<number[] | ShapeEntries | null | undefined> => {
    const selection = explorerSelection(second);
    const shapeArgument = selection ? undefined : second;
    const uri = await targetModel(surfaces, argument, true);
    if (!uri) return undefined;
    const targets = selection && selection.length > 0 ? selection : [uri];
    const given = shapeArgument === null || typeof shapeArgument === 'string' || (Array.isArray(shapeArgument) && shapeArgument.every((d) => typeof d === 'number'));
    let text: string;
    if (given) text = shapeArgument === null ? '' : Array.isArray(shapeArgument) ? shapeArgument.join(',') : (shapeArgument as string);
    else {
      const typed = await vscode.window.showInputBox({
        title: `Input shapes for ${targets.length > 1 ? `${targets.length} models` : baseName(uri)}`,
        prompt: 'The signal input\'s shape, batch first in the model file\'s own layout (e.g. 1,3,224,224 for ONNX, 1,224,224,3 for TF.js); other inputs as NAME=2,1,128; entries separated by ";". Empty to use the model\'s own.',
        value: formatShapeEntries(controller.inputShapeFor(uri), controller.ioFor(uri).inputShapes),
        placeHolder: controller.settings().defaultInputShape?.join(',') ?? 'the model\'s own input shape',
        validateInput: validateInputShapeText,
      });
      if (typed === undefined) return undefined;
      text = typed;
    }
    const parsed = parseShapeEntries(text);
    const problem = 'error' in parsed ? parsed.error : unknownNames(Object.keys(parsed.named), await knownNames(uri, 'inputs'), 'input');
    if (problem || 'error' in parsed) {
      void vscode.window.showErrorMessage(`Input shapes for ${baseName(uri)}: ${problem}`);
      return undefined;
    }
    const summary = formatShapeEntries(parsed.signal, parsed.named) || 'from the model';
    for (const target of targets) {
      // The named shapes first: setInputShapeFor reads the .onnx editor's summary again with both.
      await controller.updateIoFor(target, { inputShapes: parsed.named });
      await controller.setInputShapeFor(target, parsed.signal);
      controller.log('info', `${baseName(target)}: input shapes ${summary}`);
    }
    // setInputShapeFor has read the .onnx editor's summary again.
    afterChoice(uri, !given, `Input shapes for ${baseName(uri)}: ${summary}`, false);
    if (Object.keys(parsed.named).length > 0) return parsed;
    return parsed.signal ?? null;
  };

  /** setInputValues(uri?, text?): "sr=16000; gain=0.5", fixed values of inputs held fixed; null or "" clears. */
  const setInputValues = async (argument?: unknown, valuesArgument?: unknown): Promise<Record<string, number> | null | undefined> => {
    const uri = await targetModel(surfaces, argument, true);
    if (!uri) return undefined;
    const given = valuesArgument === null || typeof valuesArgument === 'string';
    let text: string;
    if (given) text = valuesArgument ?? '';
    else {
      const typed = await vscode.window.showInputBox({
        title: `Input values for ${baseName(uri)}`,
        prompt: 'Fixed values of inputs held fixed, so that control flow on them folds: NAME=value entries separated by ";" (e.g. sr=16000). Empty for none.',
        value: formatInputValues(controller.ioFor(uri).inputValues),
        placeHolder: 'sr=16000',
        validateInput: validateInputValuesText,
      });
      if (typed === undefined) return undefined;
      text = typed;
    }
    const parsed = parseInputValues(text);
    const problem = 'error' in parsed ? parsed.error : unknownNames(Object.keys(parsed.values), await knownNames(uri, 'inputs'), 'input');
    if (problem || 'error' in parsed) {
      void vscode.window.showErrorMessage(`Input values for ${baseName(uri)}: ${problem}`);
      return undefined;
    }
    await controller.updateIoFor(uri, { inputValues: parsed.values });
    const summary = formatInputValues(parsed.values) || 'none';
    controller.log('info', `${baseName(uri)}: input values ${summary}`);
    afterChoice(uri, !given, `Input values for ${baseName(uri)}: ${summary}`);
    return Object.keys(parsed.values).length > 0 ? parsed.values : null;
  };

  /** chooseSignalInput(uri?, name?): the input the bound is taken with respect to; null or "" for the default. */
  const chooseSignalInput = async (argument?: unknown, nameArgument?: unknown): Promise<string | null | undefined> => {
    const uri = await targetModel(surfaces, argument, true);
    if (!uri) return undefined;
    const given = nameArgument === null || typeof nameArgument === 'string';
    const summary = await controller.modelSummary(uri);
    const inputs = summary?.inputs ?? [];
    let name: string | undefined;
    if (given) name = (nameArgument as string | null) || undefined;
    else {
      if (inputs.length === 0) {
        void vscode.window.showErrorMessage(`Could not read the inputs of ${baseName(uri)}: see the log.`);
        return undefined;
      }
      const current = controller.ioFor(uri).input;
      ioPicksRequested++;
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'Default', description: 'the first floating-point input', name: undefined as string | undefined, picked: !current },
          ...inputs.map((t) => ({ label: t.name, description: formatShape(t.shape), name: t.name as string | undefined, picked: t.name === current })),
        ],
        { title: `Signal input of ${baseName(uri)}`, placeHolder: 'The input the bound is taken with respect to; the others are held fixed' },
      );
      if (!picked) return undefined;
      name = picked.name;
    }
    const problem = name ? unknownNames([name], inputs.map((t) => t.name), 'input') : undefined;
    if (problem) {
      void vscode.window.showErrorMessage(`Signal input for ${baseName(uri)}: ${problem}`);
      return undefined;
    }
    await controller.updateIoFor(uri, { input: name });
    controller.log('info', `${baseName(uri)}: signal input ${name ?? 'by default'}`);
    afterChoice(uri, !given, `Signal input of ${baseName(uri)}: ${name ?? 'the default'}`);
    return name ?? null;
  };

  /**
   * chooseOutputs(uri?, names?): the values the bound is taken to (graph outputs or named
   * intermediate values); null or [] for every graph output. Menus pass (uri, uris[]): an array of
   * URIs is not a choice.
   */
  const chooseOutputs = async (argument?: unknown, namesArgument?: unknown): Promise<string[] | null | undefined> => {
    const uri = await targetModel(surfaces, argument, true);
    if (!uri) return undefined;
    const given = namesArgument === null || (Array.isArray(namesArgument) && namesArgument.every((n) => typeof n === 'string'));
    let names: string[];
    if (given) names = (namesArgument as string[] | null) ?? [];
    else {
      const values = await controller.valueNames(uri);
      const outputs = values?.outputs ?? [];
      if (!values || outputs.length === 0) {
        void vscode.window.showErrorMessage(`Could not read the outputs of ${baseName(uri)}: see the log.`);
        return undefined;
      }
      const current = controller.ioFor(uri).outputs ?? [];
      const graphNames = outputs.map((t) => t.name);
      const listed = new Set([...graphNames, ...values.intermediate.map((v) => v.name)]);
      const others = current.filter((n) => !listed.has(n));
      const OTHER = '\u0000other';
      type Item = vscode.QuickPickItem & { name: string };
      const separator = (label: string): Item => ({ label, kind: vscode.QuickPickItemKind.Separator, name: '' });
      ioPicksRequested++;
      const picked = await vscode.window.showQuickPick<Item>(
        [
          separator('Graph outputs'),
          ...outputs.map((t) => ({ label: t.name, description: formatShape(t.shape), name: t.name, picked: current.length === 0 || current.includes(t.name) })),
          separator('Intermediate values'),
          ...values.intermediate.map((v) => ({ label: v.name, description: `${v.op} ${formatShape(v.shape)}`, name: v.name, picked: current.includes(v.name) })),
          ...others.map((n) => ({ label: n, description: 'chosen earlier', name: n, picked: true })),
          { label: 'Other value by name…', description: 'a value not listed here', name: OTHER, picked: false },
        ],
        { title: `Outputs of ${baseName(uri)}`, placeHolder: 'The values the bound is taken to (none or all: every graph output)', canPickMany: true },
      );
      if (!picked) return undefined;
      names = picked.map((p) => p.name).filter((n) => n !== OTHER);
      if (picked.some((p) => p.name === OTHER)) {
        const typed = await vscode.window.showInputBox({
          title: `Intermediate values of ${baseName(uri)}`,
          prompt: 'Names of intermediate values, separated by ";" (ONNX tensor names, TF.js node names)',
          validateInput: (text) => (text.split(';').some((n) => n.trim() !== '') ? undefined : 'Give at least one name.'),
        });
        if (typed === undefined) return undefined;
        names.push(...typed.split(';').map((n) => n.trim()).filter((n) => n !== ''));
      }
      // Every graph output and nothing else is the default: store it as such, so both share a cache key.
      if (names.length === graphNames.length && graphNames.every((n) => names.includes(n))) names = [];
    }
    const stored = await controller.updateIoFor(uri, { outputs: names });
    controller.log('info', `${baseName(uri)}: outputs ${stored.outputs?.join(', ') ?? 'of the graph'}`);
    afterChoice(uri, !given, `Outputs of ${baseName(uri)}: ${stored.outputs?.join(', ') ?? 'every graph output'}`);
    return stored.outputs ?? null;
  };

  const showResults = async (argument?: unknown): Promise<boolean> => {
    const uri = await targetModel(surfaces, argument, false);
    if (!uri) {
      void vscode.window.showInformationMessage('No Lipschitz results yet: run "Lipschitz Lens: Estimate Lipschitz" first.');
      return false;
    }
    const session = await controller.sessionFor(uri);
    if (!session) return false;
    panels.show(uri, session);
    if (session.state.status === 'idle') void controller.showCached(uri, session.kind);
    return true;
  };

  /**
   * formatModelJson(uri?): pretty-prints a model.json (keeping every token's spelling, so the JSON
   * value is the same) and saves it when it had no unsaved edits. The results shown stay, and are
   * saved again under the file's new cache key. Resolves true when the text changed.
   */
  const formatModelJson = async (argument?: unknown): Promise<boolean> => {
    // Only the file given or in front: never the last model run elsewhere.
    const uri = argument instanceof vscode.Uri ? argument : typeof argument === 'string' ? vscode.Uri.parse(argument) : activeResourceUri();
    if (!uri || (await modelKindOf(uri)) !== 'tfjs') {
      void vscode.window.showInformationMessage('Format model.json works on a TF.js model.json: open one first.');
      return false;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    const text = document.getText();
    let formatted: string;
    try {
      formatted = formatJsonText(text);
    } catch (error) {
      void vscode.window.showErrorMessage(`${baseName(uri)} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
    if (formatted === text) return false;
    const wasDirty = document.isDirty;
    const session = controller.sessions.get(uri.toString());
    const report = session && !session.stale && session.state.status === 'done' ? session.report : undefined;
    if (session && !session.stale) surfaces.providers.expectFormatted(document, formatted);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(text.length)), formatted);
    if (!(await vscode.workspace.applyEdit(edit))) return false;
    // The re-keying below hashes the file, so what counts is the file holding the formatted text.
    // In code-server save() was seen to resolve false while the text reached the file anyway, and
    // the file to read back new only a moment after save() resolved: wait (briefly) for the file.
    let saved = false;
    if (!wasDirty) {
      await document.save();
      saved = await fileHolds(uri, formatted);
    }
    if (saved && report) await controller.rememberUnderCurrentKey(uri, report);
    controller.log('info', `${baseName(uri)}: formatted (${document.lineCount} lines)${wasDirty ? ', not saved: it had unsaved edits' : saved ? ', saved' : ', not saved'}${report ? '' : ' (no complete report to keep)'}`);
    return true;
  };

  /** revealLayer(uri, { entry }): the layer at that index of model.json's listing, in the editor. */
  const revealLayer = async (argument?: unknown, where?: unknown): Promise<boolean> => {
    const uri = argument instanceof vscode.Uri ? argument : typeof argument === 'string' ? vscode.Uri.parse(argument) : undefined;
    const entry = where && typeof where === 'object' ? (where as { entry?: unknown }).entry : undefined;
    if (!uri || typeof entry !== 'number' || !Number.isSafeInteger(entry)) return false;
    return revealModelJsonEntry(surfaces.providers, uri, entry);
  };

  let comparePanel: vscode.WebviewPanel | undefined;
  const runLabel = (run: RunRecord): RunLabel => {
    const model = vscode.Uri.parse(run.model);
    const when = new Date(run.savedAt).toLocaleString();
    return {
      title: `${baseName(model)}, ${when}`,
      detail: `${vscode.workspace.asRelativePath(model, true)} · input ${formatShape(run.report.model.inputShape)} · ${boundShort(run.report.bounds)}`,
    };
  };
  const showComparison = (a: RunRecord, b: RunRecord): RunComparison => {
    const comparison = compareReports(a.report, b.report);
    const title = `Compare: ${baseName(vscode.Uri.parse(a.model))} ↔ ${baseName(vscode.Uri.parse(b.model))}`;
    if (!comparePanel) {
      comparePanel = vscode.window.createWebviewPanel('lipschitzLens.compare', title, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      comparePanel.onDidDispose(() => (comparePanel = undefined));
    } else comparePanel.reveal();
    comparePanel.title = title;
    comparePanel.webview.html = compareHtml(comparison, runLabel(a), runLabel(b), makeNonce());
    return comparison;
  };
  type RunPick = vscode.QuickPickItem & { run: RunRecord };
  const runItem = (run: RunRecord, index: number, own: boolean): RunPick => {
    const label = runLabel(run);
    return { label: `${own ? (index === 0 ? 'Latest run' : `Run ${index + 1} back`) : 'Checkpoint'}: ${label.title}`, description: label.detail, run };
  };

  /**
   * compareRuns(…): two runs side by side. Forms: ({ a: { model, run? }, b: { model, run? } })
   * with run an index into the model's history (0 = newest; by default the two newest of one model,
   * or the newest of each); the explorer's (clicked, [two models]) compares their newest runs; a
   * single model (explorer, editor title, palette) asks for two runs among its own and those of
   * other files with the same architecture. Resolves with the comparison, undefined when dismissed.
   */
  const compareRuns = async (first?: unknown, second?: unknown): Promise<(RunComparison & { a: RunRecord; b: RunRecord }) | undefined> => {
    const named = first && typeof first === 'object' && !(first instanceof vscode.Uri) && ('a' in first || 'b' in first) ? (first as { a?: { model?: unknown; run?: unknown }; b?: { model?: unknown; run?: unknown } }) : undefined;
    const toUri = (value: unknown) => (value instanceof vscode.Uri ? value : typeof value === 'string' ? vscode.Uri.parse(value) : undefined);
    const pickRun = async (uri: vscode.Uri | undefined, index: unknown, fallback: number): Promise<RunRecord | undefined> => {
      if (!uri) return undefined;
      return (await controller.runsOf(uri))[typeof index === 'number' ? index : fallback];
    };
    let a: RunRecord | undefined;
    let b: RunRecord | undefined;
    const noRuns = (what: string) => void vscode.window.showInformationMessage(`Compare Runs needs two finished runs: ${what}. Estimate again (after training, or with another checkpoint) to add one.`);
    if (named) {
      const modelA = toUri(named.a?.model);
      const modelB = toUri(named.b?.model) ?? modelA;
      const same = modelA?.toString() === modelB?.toString();
      a = await pickRun(modelA, named.a?.run, same ? 1 : 0);
      b = await pickRun(modelB, named.b?.run, 0);
      if (!a || !b) {
        noRuns('one of the runs asked for is not in the history');
        return undefined;
      }
    } else {
      const selection = explorerSelection(second);
      if (selection && selection.length >= 2) {
        a = (await controller.runsOf(selection[0]))[0];
        b = (await controller.runsOf(selection[1]))[0];
        if (!a || !b) {
          noRuns(`${baseName(a ? selection[1] : selection[0])} has no run yet`);
          return undefined;
        }
      } else {
        const uri = await targetModel(surfaces, first, true);
        if (!uri) return undefined;
        const own = await controller.runsOf(uri);
        const architecture = own[0] ? architectureOf(own[0].report) : undefined;
        const others = architecture ? (await controller.allRuns()).filter((r) => r.model !== uri.toString() && architectureOf(r.report) === architecture) : [];
        const items = [...own.map((run, i) => runItem(run, i, true)), ...others.map((run, i) => runItem(run, i, false))];
        if (items.length < 2) {
          noRuns(`${baseName(uri)} has ${own.length === 0 ? 'none' : 'one'}, and no other file of its architecture has any`);
          return undefined;
        }
        ioPicksRequested++;
        a = (await vscode.window.showQuickPick(items, { title: `Compare runs of ${baseName(uri)}: first run (A)`, placeHolder: 'The run to compare from' }))?.run;
        if (!a) return undefined;
        ioPicksRequested++;
        b = (await vscode.window.showQuickPick(items.filter((item) => item.run !== a), { title: `Compare runs of ${baseName(uri)}: second run (B)`, placeHolder: 'The run to compare with A (ratios are B / A)' }))?.run;
        if (!b) return undefined;
      }
    }
    return { ...showComparison(a, b), a, b };
  };

  return [
    vscode.commands.registerCommand('lipschitzLens.formatModelJson', formatModelJson),
    vscode.commands.registerCommand('lipschitzLens.revealLayer', revealLayer),
    vscode.commands.registerCommand('lipschitzLens.compareRuns', compareRuns),
    vscode.commands.registerCommand('lipschitzLens.estimate', estimate),
    vscode.commands.registerCommand('lipschitzLens.cancel', cancel),
    vscode.commands.registerCommand('lipschitzLens.exportReport', exportCommand),
    vscode.commands.registerCommand('lipschitzLens.setInputShape', setInputShape),
    vscode.commands.registerCommand('lipschitzLens.setInputValues', setInputValues),
    vscode.commands.registerCommand('lipschitzLens.chooseSignalInput', chooseSignalInput),
    vscode.commands.registerCommand('lipschitzLens.chooseOutputs', chooseOutputs),
    vscode.commands.registerCommand('lipschitzLens.showResults', showResults),
    vscode.commands.registerCommand('lipschitzLens.showLog', () => controller.output.show(true)),
  ];
}

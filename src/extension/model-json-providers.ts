// CodeLens and hover on TF.js model.json files, and the context key that tells the menus which
// JSON files are TF.js models (by content: "modelTopology" and "weightsManifest").

import * as vscode from 'vscode';
import type { Controller } from './controller';
import type { SessionStore } from './sessions';
import { isLayerResult } from './panel-state';
import { layerHoverMarkdown, layerLenses, rowsForEntry, topLensTitle } from './lens-text';
import { entryAt, isTfjsModelJson, locateLayerEntries, type ModelJsonLocations } from './model-json-locations';
import { layerOutline } from './layer-outline';
import { isSingleLongLine } from './model-json-format';

/** Parses each document version once, for lenses and hovers alike. */
class LocationCache {
  private readonly cache = new Map<string, { version: number; tfjs: boolean; locations: ModelJsonLocations | undefined }>();

  isModel(document: vscode.TextDocument): boolean {
    return this.entry(document).tfjs;
  }

  locations(document: vscode.TextDocument): ModelJsonLocations {
    const entry = this.entry(document);
    entry.locations ??= locateLayerEntries(document.getText());
    return entry.locations;
  }

  forget(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
  }

  private entry(document: vscode.TextDocument) {
    const key = document.uri.toString();
    let entry = this.cache.get(key);
    if (!entry || entry.version !== document.version) {
      entry = { version: document.version, tfjs: isTfjsModelJson(document.getText()), locations: undefined };
      this.cache.set(key, entry);
    }
    return entry;
  }
}

export class ModelJsonProviders implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.DocumentSymbolProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changeEmitter.event;
  private readonly locations = new LocationCache();
  private readonly disposables: vscode.Disposable[] = [];
  /** Texts a format is about to give documents: that change keeps the results (same JSON value). */
  private readonly formatted = new Map<string, string>();

  constructor(private readonly controller: Controller) {
    this.disposables.push(
      this.changeEmitter,
      controller.sessions.onDidChange((session) => {
        if (session.kind === 'tfjs') this.changeEmitter.fire();
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length === 0) return;
        const key = event.document.uri.toString();
        const expected = this.formatted.get(key);
        if (expected !== undefined) {
          this.formatted.delete(key);
          // A format moved the layers, not their values: the lenses follow (new offsets), the results stay.
          if (event.document.getText() === expected) {
            this.changeEmitter.fire();
            return;
          }
        }
        // Results describe the file as it was: hide them once the text changes.
        controller.sessions.get(key)?.markStale();
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.locations.forget(document.uri)),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** True for a TF.js model.json document (cached per version). */
  isModel(document: vscode.TextDocument): boolean {
    return this.locations.isModel(document);
  }

  /** Where the layers of a model.json document are (cached per version). */
  locationsOf(document: vscode.TextDocument): ModelJsonLocations {
    return this.locations.locations(document);
  }

  /** Says that `document` is about to become `text` by a format: that edit keeps its results. */
  expectFormatted(document: vscode.TextDocument, text: string): void {
    this.formatted.set(document.uri.toString(), text);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.locations.isModel(document)) return [];
    const uri = document.uri;
    const session = this.controller.sessions.get(uri.toString());
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses: vscode.CodeLens[] = [];
    // One long line stacks every lens on line 1: offer to give each layer its own lines.
    if (isSingleLongLine(document.getText())) {
      lenses.push(new vscode.CodeLens(top, { title: '$(list-flat) Format model.json', tooltip: 'Pretty-print this one-line file so that each layer gets its own lines and lens (the JSON value is unchanged)', command: 'lipschitzLens.formatModelJson', arguments: [uri] }));
    }
    if (session?.state.status === 'running') {
      lenses.push(new vscode.CodeLens(top, { title: topLensTitle(session.state), command: 'lipschitzLens.showResults', arguments: [uri] }));
      lenses.push(new vscode.CodeLens(top, { title: 'Cancel', command: 'lipschitzLens.cancel', arguments: [uri] }));
    } else if (session && session.stale) {
      lenses.push(new vscode.CodeLens(top, { title: '$(pulse) Estimate Lipschitz (file changed since the last run)', command: 'lipschitzLens.estimate', arguments: [uri] }));
    } else {
      const rerun = session?.state.status === 'done';
      lenses.push(new vscode.CodeLens(top, { title: topLensTitle(session?.state), command: 'lipschitzLens.estimate', arguments: [uri, { force: rerun }] }));
      if (rerun) lenses.push(new vscode.CodeLens(top, { title: 'Show results', command: 'lipschitzLens.showResults', arguments: [uri] }));
    }
    if (!session || session.stale || !session.state.layers.some(isLayerResult)) return lenses;
    for (const spec of layerLenses(this.locations.locations(document).entries, session.state.layers)) {
      const position = document.positionAt(spec.offset);
      lenses.push(
        new vscode.CodeLens(new vscode.Range(position, position), {
          title: spec.title,
          tooltip: spec.tooltip,
          command: 'lipschitzLens.showResults',
          arguments: [uri, spec.row],
        }),
      );
    }
    return lenses;
  }

  /** The layers (or graph nodes) of a model.json as symbols, with class or op and values as detail. */
  provideDocumentSymbols(document: vscode.TextDocument): vscode.DocumentSymbol[] {
    if (!this.locations.isModel(document)) return [];
    const session = this.controller.sessions.get(document.uri.toString());
    const layers = session && !session.stale ? session.state.layers : undefined;
    const { entries, format } = this.locations.locations(document);
    const kind = format === 'tfjs-graph' ? vscode.SymbolKind.Function : vscode.SymbolKind.Class;
    return layerOutline(entries, layers).map((item) => {
      const range = new vscode.Range(document.positionAt(item.start), document.positionAt(item.end));
      const at = document.positionAt(item.nameOffset);
      // The selection is the "name" key: inside the range, and where a click puts the cursor.
      const selection = new vscode.Range(at, item.nameOffset === item.start ? at : document.positionAt(item.nameOffset + '"name"'.length));
      return new vscode.DocumentSymbol(item.label, item.detail, kind, range, selection);
    });
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const session = this.controller.sessions.get(document.uri.toString());
    if (!session || session.stale || session.state.layers.length === 0) return undefined;
    if (!this.locations.isModel(document)) return undefined;
    const entry = entryAt(this.locations.locations(document).entries, document.offsetAt(position));
    if (!entry) return undefined;
    const rows = rowsForEntry(entry, session.state.layers);
    if (rows.length === 0) return undefined;
    const markdown = new vscode.MarkdownString(rows.map((row) => layerHoverMarkdown(session.state.layers[row], session.state.bounds)).join('\n\n---\n\n'));
    markdown.supportThemeIcons = false;
    markdown.isTrusted = false;
    return new vscode.Hover(markdown, new vscode.Range(document.positionAt(entry.start), document.positionAt(entry.end)));
  }
}

/**
 * Tells the menus which JSON files are TF.js models, by content, through two context keys of
 * paths (`resourcePath in ...`): `lipschitzLens.tfjsModels`, JSON files holding "modelTopology" and
 * "weightsManifest" (whatever their name), and `lipschitzLens.otherJson`, files named model.json that
 * do not. A model.json not read yet counts as a model. Fed by a scan of the workspace's model.json
 * files, a watcher, and every JSON document opened or saved.
 */
export class TfjsModelIndex implements vscode.Disposable {
  /** fsPath (what `resourcePath` holds) → URI. */
  private readonly paths = new Map<string, vscode.Uri>();
  /** fsPaths of files named model.json that are not TF.js models. */
  private readonly others = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private publishTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/model.json');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => void this.check(uri)),
      watcher.onDidChange((uri) => void this.check(uri)),
      watcher.onDidDelete((uri) => this.set(uri, undefined)),
      vscode.workspace.onDidOpenTextDocument((document) => this.checkDocument(document)),
      vscode.workspace.onDidSaveTextDocument((document) => this.checkDocument(document)),
    );
    for (const document of vscode.workspace.textDocuments) this.checkDocument(document);
    this.publish();
  }

  /** Scans the workspace for model.json files; runs after activation, not during it. */
  async scan(): Promise<void> {
    const found = await vscode.workspace.findFiles('**/model.json', '**/node_modules/**', 2000);
    for (const uri of found) await this.check(uri);
  }

  has(uri: vscode.Uri): boolean {
    return this.paths.has(uri.fsPath);
  }

  /** Every known TF.js model, for the quick pick. */
  uris(): vscode.Uri[] {
    return [...this.paths.values()];
  }

  /** Records what a file is; `undefined` forgets it (deleted). */
  set(uri: vscode.Uri, isModel: boolean | undefined): void {
    const key = uri.fsPath;
    const wasModel = this.paths.has(key);
    const wasOther = this.others.has(key);
    const isOther = isModel === false && /(^|\/)model\.json$/i.test(uri.path);
    if (isModel === true) this.paths.set(key, uri);
    else this.paths.delete(key);
    if (isOther) this.others.add(key);
    else this.others.delete(key);
    if (wasModel !== (isModel === true) || wasOther !== isOther) this.schedulePublish();
  }

  private checkDocument(document: vscode.TextDocument): void {
    if (!/\.json$/i.test(document.uri.path)) return;
    this.set(document.uri, isTfjsModelJson(document.getText()));
  }

  private async check(uri: vscode.Uri): Promise<void> {
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > 64 * 1024 * 1024) return;
      this.set(uri, isTfjsModelJson(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))));
    } catch {
      this.set(uri, undefined);
    }
  }

  private schedulePublish(): void {
    if (this.publishTimer) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.publish();
    }, 50);
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', 'lipschitzLens.tfjsModels', [...this.paths.keys()]);
    void vscode.commands.executeCommand('setContext', 'lipschitzLens.otherJson', [...this.others]);
  }

  dispose(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Registers the model.json outline, and registers it again when a model.json's results change
 * (a run ends, a report is shown, the text went stale). VS Code keeps each document version's
 * symbols and has no event for "symbols changed"; a new registration is what makes the Outline
 * view and the breadcrumbs ask again, so σ appears there when the run ends.
 */
export class DocumentSymbolRegistration implements vscode.Disposable {
  private registration: vscode.Disposable;
  private readonly listener: { dispose(): void };
  private readonly shown = new Map<string, string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly selector: vscode.DocumentSelector,
    private readonly provider: ModelJsonProviders,
    sessions: SessionStore,
  ) {
    this.registration = this.register();
    this.listener = sessions.onDidChange((session) => {
      if (session.kind !== 'tfjs') return;
      const what = `${session.state.status}|${session.stale}|${session.report?.seconds ?? ''}|${session.report?.layers.length ?? ''}`;
      if (this.shown.get(session.key) === what) return;
      this.shown.set(session.key, what);
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.registration.dispose();
        this.registration = this.register();
      }, 200);
    });
  }

  private register(): vscode.Disposable {
    return vscode.languages.registerDocumentSymbolProvider(this.selector, this.provider, { label: 'Lipschitz layers' });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.listener.dispose();
    this.registration.dispose();
  }
}

// The "Lipschitz Layers" view in the explorer: the layers of the model in the active editor, each
// with its class or op and, once a report is shown, its σ or constant. A model.json lists its own
// layers in file order (click: the entry in the file); an .onnx lists the report's rows (click: the
// results). Follows the active editor as the status bar does.

import * as vscode from 'vscode';
import { isLayerResult } from './panel-state';
import { entryValueText, hasShownValue, layerHoverMarkdown } from './lens-text';
import { layerOutline, type OutlineItem } from './layer-outline';
import { baseName, modelKindCached } from './model-files';
import type { ModelJsonProviders } from './model-json-providers';
import type { SessionStore } from './sessions';

export const LAYERS_VIEW_ID = 'lipschitzLens.layers';

export interface LayerNode {
  label: string;
  description: string;
  /** model.json: the entry index; .onnx: the report row. */
  index: number;
  command: vscode.Command;
  tooltip: vscode.MarkdownString | string;
}

export class LayersView implements vscode.TreeDataProvider<LayerNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly view: vscode.TreeView<LayerNode>;
  /** The model followed, and its kind. */
  private model: { uri: vscode.Uri; kind: 'onnx' | 'tfjs' } | undefined;
  private generation = 0;

  constructor(
    private readonly sessions: SessionStore,
    private readonly providers: ModelJsonProviders,
  ) {
    this.view = vscode.window.createTreeView(LAYERS_VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.changeEmitter,
      this.view,
      vscode.window.onDidChangeActiveTextEditor(() => void this.follow()),
      vscode.window.tabGroups.onDidChangeTabs(() => void this.follow()),
      sessions.onDidChange((session) => {
        if (session.key === this.model?.uri.toString()) this.changeEmitter.fire();
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document.uri.toString() === this.model?.uri.toString()) this.changeEmitter.fire();
      }),
    );
    void this.follow();
  }

  /** The model the view lists now (tests). */
  followed(): vscode.Uri | undefined {
    return this.model?.uri;
  }

  private async follow(): Promise<void> {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : input === undefined ? vscode.window.activeTextEditor?.document.uri : undefined;
    // Another kind of tab (a results panel, the Output): keep the model last followed.
    if (!uri) return;
    const generation = ++this.generation;
    const kind = await modelKindCached(uri).catch(() => undefined);
    if (generation !== this.generation) return;
    if (kind === undefined) return;
    if (this.model?.uri.toString() === uri.toString()) return;
    this.model = { uri, kind };
    this.view.description = baseName(uri);
    this.changeEmitter.fire();
  }

  getTreeItem(node: LayerNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.command = node.command;
    item.id = `${this.model?.uri.toString()}#${node.index}`;
    return item;
  }

  async getChildren(parent?: LayerNode): Promise<LayerNode[]> {
    if (parent || !this.model) return [];
    const { uri, kind } = this.model;
    const session = this.sessions.get(uri.toString());
    const layers = session && !session.stale ? session.state.layers : undefined;
    if (kind === 'tfjs') {
      const document = await vscode.workspace.openTextDocument(uri);
      if (!this.providers.isModel(document)) return [];
      const outline = layerOutline(this.providers.locationsOf(document).entries, layers);
      return outline.map((item: OutlineItem) => ({
        label: item.label,
        description: item.detail,
        index: item.index,
        command: { title: 'Reveal', command: 'lipschitzLens.revealLayer', arguments: [uri, { entry: item.index }] },
        tooltip: item.rows.length && layers && session ? hoverOf(item.rows.map((row) => layerHoverMarkdown(layers[row], session.state.bounds))) : `${item.label} (${item.detail})`,
      }));
    }
    // .onnx: the rows of the report shown (or planned), by row.
    return (layers ?? []).map((layer, row) => ({
      label: layer.name,
      description: hasShownValue(layer) ? `${layer.op} · ${entryValueText([layer])}` : isLayerResult(layer) ? layer.op : `${layer.op} · pending`,
      index: row,
      command: { title: 'Show results', command: 'lipschitzLens.showResults', arguments: [uri, row] },
      tooltip: session ? hoverOf([layerHoverMarkdown(layer, session.state.bounds)]) : layer.name,
    }));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function hoverOf(parts: string[]): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(parts.join('\n\n---\n\n'));
  markdown.isTrusted = false;
  return markdown;
}

/**
 * revealLayer(uri, { entry }): opens model.json with the cursor on the layer's "name" and the layer
 * in view. Resolves true when the entry exists.
 */
export async function revealModelJsonEntry(providers: ModelJsonProviders, uri: vscode.Uri, entryIndex: number): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(uri);
  if (!providers.isModel(document)) return false;
  const item = layerOutline(providers.locationsOf(document).entries, undefined)[entryIndex];
  if (!item) return false;
  const at = document.positionAt(item.nameOffset);
  const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(at, at), preview: false });
  editor.revealRange(new vscode.Range(document.positionAt(item.start), document.positionAt(item.end)), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return true;
}

// The read-only custom editor for *.onnx: the model summary (a 'describe' job) above the same
// results table as the panel, an Estimate button, cached results shown at once, and the graph's
// node list, where a click on a row or a bar (in this editor or in the model's results panel)
// reveals the row's node.

import * as vscode from 'vscode';
import type { Controller } from './controller';
import { baseName } from './model-files';
import { ONNX_EDITOR_VIEW_TYPE } from './onnx-editor-id';
import { connectWebview, recordReveal, webviewHtml, webviewOptions, type OnnxNodeRevealer } from './webview-host';

export { ONNX_EDITOR_VIEW_TYPE } from './onnx-editor-id';

/** An editor's page: posts only reach it once it has loaded (and until it is hidden, which unloads it). */
interface EditorPage {
  panel: vscode.WebviewPanel;
  ready: boolean;
}

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider, OnnxNodeRevealer {
  /** Models open in this editor, and how many editors show each: the panel is not opened for them. */
  private readonly open = new Map<string, number>();
  private readonly pages = new Map<string, Set<EditorPage>>();
  /** A reveal waiting for an editor's page to load, per model. */
  private readonly pendingReveal = new Map<string, number>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: Controller,
  ) {}

  isOpen(uri: vscode.Uri): boolean {
    return (this.open.get(uri.toString()) ?? 0) > 0;
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const uri = document.uri;
    const key = uri.toString();
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, baseName(uri), 'editor');
    const session = this.controller.sessionOf(uri, 'onnx');
    const page: EditorPage = { panel, ready: false };
    const pages = this.pages.get(key) ?? new Set<EditorPage>();
    this.pages.set(key, pages.add(page));
    const connection = connectWebview(panel.webview, uri, session, this.controller, {
      onnxNodes: this,
      onReady: () => {
        page.ready = true;
        this.deliverReveal(key);
      },
    });
    // Without retainContextWhenHidden a hidden page is unloaded; it posts 'ready' again when shown.
    const visibility = panel.onDidChangeViewState(() => {
      if (!panel.visible) page.ready = false;
    });
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    panel.onDidDispose(() => {
      connection.dispose();
      visibility.dispose();
      pages.delete(page);
      this.open.set(key, (this.open.get(key) ?? 1) - 1);
    });

    if (session.state.status === 'running' || session.report) {
      if (!session.state.summary) void this.controller.describe(uri, 'onnx');
      return;
    }
    const cached = await this.controller.showCached(uri, 'onnx');
    void this.controller.describe(uri, 'onnx');
    if (cached) return;
    const { autoRunMaxBytes } = this.controller.settings();
    if (autoRunMaxBytes > 0) {
      const bytes = await this.controller.modelBytes(uri, 'onnx');
      if (bytes !== undefined && bytes <= autoRunMaxBytes) void this.controller.estimate(uri, { auto: true });
    }
  }

  /**
   * Shows row `row`'s node: opens (or brings forward) this editor on the model, and asks its page
   * to scroll its node list to the node and mark it, once the page has loaded.
   */
  async revealNode(uri: vscode.Uri, row: number): Promise<boolean> {
    const key = uri.toString();
    const layer = this.controller.sessions.get(key)?.state.layers[row];
    if (!layer) return false;
    this.pendingReveal.set(key, row);
    recordReveal({ uri: key, row, kind: 'onnx-node', node: layer.sourceIndex ?? null });
    // An editor already open on the model is brought forward where it is; else it opens in the first column.
    const existing = vscode.window.tabGroups.all.find((group) =>
      group.tabs.some((tab) => tab.input instanceof vscode.TabInputCustom && tab.input.viewType === ONNX_EDITOR_VIEW_TYPE && tab.input.uri.toString() === key),
    );
    await vscode.commands.executeCommand('vscode.openWith', uri, ONNX_EDITOR_VIEW_TYPE, { viewColumn: existing?.viewColumn ?? vscode.ViewColumn.One, preview: false });
    this.deliverReveal(key);
    return true;
  }

  /** Posts the pending reveal to the model's loaded, visible editor pages, if any. */
  private deliverReveal(key: string): void {
    const row = this.pendingReveal.get(key);
    if (row === undefined) return;
    let delivered = false;
    for (const page of this.pages.get(key) ?? []) {
      if (!page.ready || !page.panel.visible) continue;
      void Promise.resolve(page.panel.webview.postMessage({ type: 'reveal', row })).catch(() => undefined);
      delivered = true;
    }
    if (delivered) {
      this.pendingReveal.delete(key);
      this.revealsDelivered.push({ uri: key, row });
    }
  }

  /** Reveals posted to a loaded editor page, for the real-VS-Code tests. */
  readonly revealsDelivered: { uri: string; row: number }[] = [];
}

// The read-only custom editor for *.onnx: the model summary (a 'describe' job) above the same
// results table as the panel, an Estimate button, and cached results shown at once.

import * as vscode from 'vscode';
import type { Controller } from './controller';
import { baseName } from './model-files';
import { connectWebview, webviewHtml, webviewOptions } from './webview-host';

export { ONNX_EDITOR_VIEW_TYPE } from './onnx-editor-id';

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  /** Models open in this editor, and how many editors show each: the panel is not opened for them. */
  private readonly open = new Map<string, number>();

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
    const connection = connectWebview(panel.webview, uri, session, this.controller);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    panel.onDidDispose(() => {
      connection.dispose();
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
}

// The extension's side of the results page, shared by the results panel and the .onnx editor:
// the HTML shell, the webview options, and the validated messages from the page.

import * as vscode from 'vscode';
import { parseFromWebview, type FromWebview } from '../protocol/messages';
import type { Controller } from './controller';
import { entryForLayer, locateLayerEntries } from './model-json-locations';
import { baseName } from './model-files';
import type { ModelSession } from './sessions';
import { buildWebviewHtml, makeNonce } from './webview-html';

/** Scripts on, and only the extension's dist and media folders readable. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string, view: 'panel' | 'editor'): string {
  return buildWebviewHtml({
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css')).toString(),
    nonce: makeNonce(),
    title,
    view,
  });
}

/** Connects a webview to a model's session: state out, validated commands in. */
export function connectWebview(webview: vscode.Webview, uri: vscode.Uri, session: ModelSession, controller: Controller): vscode.Disposable {
  session.attach(webview);
  const subscription = webview.onDidReceiveMessage((raw: unknown) => {
    const message = parseFromWebview(raw);
    if (!message) {
      controller.log('warn', 'ignored a malformed message from the results page');
      return;
    }
    void handleMessage(message, webview, uri, session, controller);
  });
  return { dispose: () => {
    subscription.dispose();
    session.detach(webview);
  } };
}

async function handleMessage(message: FromWebview, webview: vscode.Webview, uri: vscode.Uri, session: ModelSession, controller: Controller): Promise<void> {
  switch (message.type) {
    case 'ready':
      session.resend(webview);
      return;
    case 'estimate':
      // The .onnx editor's shape field: set the shape first (the summary then says it is in use).
      if (message.inputShape) await controller.setInputShapeFor(uri, message.inputShape);
      // The page's button means "compute now": a finished or cached report is recomputed.
      await controller.estimate(uri, { force: session.state.status === 'done' && !message.inputShape });
      return;
    case 'cancel':
      controller.cancel(uri);
      return;
    case 'export':
      await vscode.commands.executeCommand('lipschitzLens.exportReport', uri, message.format);
      return;
    case 'reveal':
      await revealLayer(uri, session, message.index);
      return;
  }
}

/**
 * Opens model.json at the entry of the row `row` of the session's table. The row's name and
 * sourceIndex come from the extension's own state; the page only chooses a row number.
 */
export async function revealLayer(uri: vscode.Uri, session: ModelSession, row: number): Promise<boolean> {
  if (session.kind !== 'tfjs') return false;
  const layer = session.state.layers[row];
  if (!layer) return false;
  const document = await vscode.workspace.openTextDocument(uri);
  const { entries } = locateLayerEntries(document.getText());
  const entry = entryForLayer(entries, layer);
  if (!entry) {
    void vscode.window.showInformationMessage(`${layer.name} was not found in ${baseName(uri)}.`);
    return false;
  }
  const at = document.positionAt(entry.nameOffset ?? entry.start);
  const range = new vscode.Range(document.positionAt(entry.start), document.positionAt(entry.end));
  await vscode.window.showTextDocument(document, {
    viewColumn: vscode.ViewColumn.One,
    selection: new vscode.Range(at, at),
    preview: false,
  });
  vscode.window.activeTextEditor?.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return true;
}

/** One results panel per model, reused. */
export class ResultsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: Controller,
  ) {}

  show(uri: vscode.Uri, session: ModelSession, preserveFocus = false): vscode.WebviewPanel {
    const existing = this.panels.get(session.key);
    if (existing) {
      existing.reveal(undefined, preserveFocus);
      return existing;
    }
    const title = `Lipschitz: ${baseName(uri)}`;
    const panel = vscode.window.createWebviewPanel(
      'lipschitzLens.results',
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { ...webviewOptions(this.extensionUri), retainContextWhenHidden: false },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'lens.svg');
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, title, 'panel');
    const connection = connectWebview(panel.webview, uri, session, this.controller);
    this.panels.set(session.key, panel);
    panel.onDidDispose(() => {
      connection.dispose();
      this.panels.delete(session.key);
    });
    return panel;
  }

  has(key: string): boolean {
    return this.panels.has(key);
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
  }
}

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

/** Shows a row's node in the .onnx editor (its node list): the OnnxEditorProvider. */
export interface OnnxNodeRevealer {
  revealNode(uri: vscode.Uri, row: number): Promise<boolean>;
}

export interface ConnectOptions {
  /** Where an .onnx model's reveal goes; without it, .onnx rows do not reveal. */
  onnxNodes?: OnnxNodeRevealer;
  /** Called after the page has (re)loaded and been sent the state. */
  onReady?: () => void;
}

/** Where the last reveal went, for the real-VS-Code tests (the testing API's lastReveal). */
export type RevealRecord =
  | { uri: string; row: number; kind: 'text'; line: number; character: number }
  | { uri: string; row: number; kind: 'onnx-node'; node: number | null };
let lastReveal: RevealRecord | undefined;

export function lastRevealForTesting(): RevealRecord | undefined {
  return lastReveal;
}

export function recordReveal(record: RevealRecord): void {
  lastReveal = record;
}

/** Connects a webview to a model's session: state out, validated commands in. */
export function connectWebview(webview: vscode.Webview, uri: vscode.Uri, session: ModelSession, controller: Controller, options: ConnectOptions = {}): vscode.Disposable {
  session.attach(webview);
  const subscription = webview.onDidReceiveMessage((raw: unknown) => {
    const message = parseFromWebview(raw);
    if (!message) {
      controller.log('warn', 'ignored a malformed message from the results page');
      return;
    }
    void handleMessage(message, webview, uri, session, controller, options);
  });
  return { dispose: () => {
    subscription.dispose();
    session.detach(webview);
  } };
}

/**
 * A message from a model's page, as the page would send it: for the real-VS-Code tests, which
 * cannot click inside a webview. Validated like a real one; 'ready' needs a real page.
 */
export async function pageMessageForTesting(raw: unknown, uri: vscode.Uri, session: ModelSession, controller: Controller, options: ConnectOptions): Promise<boolean> {
  const message = parseFromWebview(raw);
  if (!message || message.type === 'ready') return false;
  await handleMessage(message, undefined, uri, session, controller, options);
  return true;
}

async function handleMessage(message: FromWebview, webview: vscode.Webview | undefined, uri: vscode.Uri, session: ModelSession, controller: Controller, options: ConnectOptions): Promise<void> {
  switch (message.type) {
    case 'ready':
      if (!webview) return;
      session.resend(webview);
      options.onReady?.();
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
      if (session.kind === 'onnx') await options.onnxNodes?.revealNode(uri, message.index);
      else await revealLayer(uri, session, message.index);
      return;
  }
}

/**
 * Opens model.json at the entry of the row `row` of the session's table (an .onnx model's rows
 * reveal their node in the .onnx editor instead: OnnxEditorProvider.revealNode). The row's name and
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
  recordReveal({ uri: uri.toString(), row, kind: 'text', line: at.line, character: at.character });
  return true;
}

/** One results panel per model, reused. */
export class ResultsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: Controller,
    private readonly onnxNodes?: OnnxNodeRevealer,
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
    const connection = connectWebview(panel.webview, uri, session, this.controller, { onnxNodes: this.onnxNodes });
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

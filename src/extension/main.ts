// Extension entry. Activation registers the surfaces and loads nothing heavy: the engine (and
// tfjs) lives in the worker, spawned on the first estimate.

import * as vscode from 'vscode';
import type { PanelState } from '../protocol/messages';
import { ioPicksRequestedForTesting, registerCommands } from './commands';
import { Controller } from './controller';
import { modelKindOf, modelKindReadsForTesting } from './model-files';
import { DocumentSymbolRegistration, ModelJsonProviders, TfjsModelIndex } from './model-json-providers';
import { ONNX_EDITOR_VIEW_TYPE, OnnxEditorProvider } from './onnx-editor';
import { lastRevealForTesting, pageMessageForTesting, ResultsPanels, type RevealRecord } from './webview-host';
import { LayersView } from './layers-view';

let controller: Controller | undefined;

/** What activate returns: hooks for the real-VS-Code tests. */
export interface LipschitzLensApi {
  testing: {
    terminateWorker(): Promise<void>;
    /** What a model's panel shows now (status, rows done, bounds): tests wait on it instead of sleeping. */
    panelState(uri: vscode.Uri): PanelState | undefined;
    /** The input shape set for a model (Set Input Shape), or undefined for the model's own. */
    inputShape(uri: vscode.Uri): number[] | undefined;
    /** What the status bar item shows now, and which model it follows. */
    statusBar(): { visible: boolean; text: string; tooltip: string; model: string | undefined };
    /** How many quick picks Choose Signal Input / Choose Outputs / Compare Runs have asked VS Code to show so far. */
    ioPicksRequested(): number;
    /** Handles `message` as if the model's results page had posted it (validated the same way); false when refused. */
    pageMessage(uri: vscode.Uri, message: unknown): Promise<boolean>;
    /** Where the last reveal went: the line in model.json, or the node asked of the .onnx editor. */
    lastReveal(): RevealRecord | undefined;
    /** Reveals the .onnx editor has posted to a loaded page of its own. */
    onnxRevealsDelivered(): { uri: string; row: number }[];
    /** How many times a JSON file's text was read to tell whether it is a model (the status bar and the layers view ask on every editor switch). */
    modelKindReads(): number;
    /** The model the "Lipschitz Layers" view lists, and its items as the view shows them. */
    layersView(): Promise<{ model: string | undefined; items: { label: string; description: string; command: string; arguments: unknown[] }[] }>;
    /** The runs kept for a model (Compare Runs), newest first. */
    history(uri: vscode.Uri): Promise<{ savedAt: string; key: string; inputShape: number[] }[]>;
  };
}

export function activate(context: vscode.ExtensionContext): LipschitzLensApi {
  controller = new Controller(context);
  const onnxEditor = new OnnxEditorProvider(context.extensionUri, controller);
  const panels = new ResultsPanels(context.extensionUri, controller, onnxEditor);
  const tfjsIndex = new TfjsModelIndex();
  const providers = new ModelJsonProviders(controller);
  const layersView = new LayersView(controller.sessions, providers);
  const jsonFiles: vscode.DocumentSelector = [{ language: 'json' }, { language: 'jsonc' }, { pattern: '**/*.json' }];

  context.subscriptions.push(
    controller,
    panels,
    tfjsIndex,
    providers,
    layersView,
    vscode.window.registerCustomEditorProvider(ONNX_EDITOR_VIEW_TYPE, onnxEditor, {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.languages.registerCodeLensProvider(jsonFiles, providers),
    vscode.languages.registerHoverProvider(jsonFiles, providers),
    new DocumentSymbolRegistration(jsonFiles, providers, controller.sessions),
    ...registerCommands({ controller, panels, onnxEditor, tfjsIndex, providers }),
    vscode.workspace.onDidOpenTextDocument((document) => void onModelJsonOpened(document)),
  );
  for (const document of vscode.workspace.textDocuments) void onModelJsonOpened(document);
  // After activation returns: find the workspace's TF.js models for the menus.
  setTimeout(() => void tfjsIndex.scan().catch((error: unknown) => controller?.log('warn', `workspace scan: ${String(error)}`)), 0);
  const c = controller;
  return {
    testing: {
      terminateWorker: () => c.terminateWorkerForTesting(),
      panelState: (uri) => c.sessions.get(uri.toString())?.state,
      inputShape: (uri) => c.inputShapeFor(uri),
      statusBar: () => c.statusBar.snapshot(),
      ioPicksRequested: () => ioPicksRequestedForTesting(),
      pageMessage: async (uri, message) => {
        const session = c.sessions.get(uri.toString());
        return session ? pageMessageForTesting(message, uri, session, c, { onnxNodes: onnxEditor }) : false;
      },
      lastReveal: () => lastRevealForTesting(),
      onnxRevealsDelivered: () => [...onnxEditor.revealsDelivered],
      modelKindReads: () => modelKindReadsForTesting(),
      history: async (uri) => (await c.runsOf(uri)).map((run) => ({ savedAt: run.savedAt, key: run.key, inputShape: run.report.model.inputShape })),
      layersView: async () => ({
        model: layersView.followed()?.toString(),
        items: (await layersView.getChildren()).map((node) => ({ label: node.label, description: node.description, command: node.command.command, arguments: node.command.arguments ?? [] })),
      }),
    },
  };
}

/** A TF.js model.json opened: show its cached results at once, or run it when small enough. */
async function onModelJsonOpened(document: vscode.TextDocument): Promise<void> {
  const c = controller;
  if (!c || !/\.json$/i.test(document.uri.path) || document.uri.scheme === 'git') return;
  if (c.sessions.get(document.uri.toString())?.report) return;
  if ((await modelKindOf(document.uri)) !== 'tfjs') return;
  if (await c.showCached(document.uri, 'tfjs')) return;
  const { autoRunMaxBytes } = c.settings();
  if (autoRunMaxBytes <= 0) return;
  const bytes = await c.modelBytes(document.uri, 'tfjs');
  if (bytes !== undefined && bytes <= autoRunMaxBytes) await c.estimate(document.uri, { auto: true });
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.shutdown();
}

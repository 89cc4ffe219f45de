// Entry of the results webview (bundled to dist/webview.js as an IIFE). Talks to the extension only
// through the protocol's messages, and saves its state with setState so a hidden panel comes back
// as it was without retainContextWhenHidden.
//
// What the host page must provide: dist/webview.css as a <link>, this script with the CSP nonce,
// <div id="app"> (src/extension/webview-html.ts; else the page fills <body>). The CSP needs no 'unsafe-inline':
// script-src 'nonce-…'; style-src <webview.cspSource>. The page posts {type:'ready'} on every
// load; the extension answers with a full {type:'state'}, then streams 'layer' and 'status'.
// {type:'reveal', index} carries the row's index in PanelState.layers (the report's layer index);
// the extension answers an .onnx model's reveal with {type:'reveal', row} to the .onnx editor's page.

import type { FromWebview } from '../src/protocol/messages';
import { applyMessage, DEFAULT_SORT, emptyPanel, isToWebview, nextSort, restoreViewState, viewState, type SortSpec } from './model';
import { createView } from './view';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called only once per page.
const vscode = acquireVsCodeApi();
const restored = restoreViewState(vscode.getState());
let panel = restored?.panel ?? emptyPanel();
let sort: SortSpec = restored?.sort ?? DEFAULT_SORT;
let filter = restored?.filter ?? '';

const post = (message: FromWebview) => vscode.postMessage(message);

const root = document.getElementById('app') ?? document.getElementById('root') ?? document.body;
const view = createView(root, {
  post,
  sort(key) {
    sort = nextSort(sort, key);
    update();
  },
  filter(text) {
    filter = text;
    update();
  },
});

// Saving the whole panel on every layer message of a long run costs more than the render, so
// layer messages save at most every SAVE_DELAY ms; everything else saves at once.
const SAVE_DELAY = 250;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function saveNow(): void {
  if (saveTimer !== undefined) clearTimeout(saveTimer);
  saveTimer = undefined;
  vscode.setState(viewState(panel, sort, filter));
}

function saveSoon(): void {
  saveTimer ??= setTimeout(saveNow, SAVE_DELAY);
}

function update(save: 'now' | 'soon' = 'now'): void {
  view.render(panel, sort, filter);
  if (save === 'now') saveNow();
  else saveSoon();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isToWebview(event.data)) return;
  if (event.data.type === 'reveal') {
    view.revealNode(event.data.row);
    return;
  }
  panel = applyMessage(panel, event.data);
  update(event.data.type === 'layer' ? 'soon' : 'now');
});

window.addEventListener('pagehide', () => {
  if (saveTimer !== undefined) saveNow();
});

update();
post({ type: 'ready' });

// The status bar item follows the model in front of the user: the active editor's file when it is
// a model (its run, its bound, or an offer to estimate it), nothing for other files. A results panel
// or the Output view in front keeps the model last followed.

import * as vscode from 'vscode';
import type { PanelState } from '../protocol/messages';
import type { Report } from '../protocol/report';
import { boundShort, boundSummary, CERTIFIED_MEANING, ESTIMATE_MEANING } from './lens-text';
import { baseName, modelKindCached } from './model-files';
import type { ModelSession, SessionStore } from './sessions';

export interface StatusBarView {
  text: string;
  tooltip: string;
  command: vscode.Command | string;
}

/** What the item says for one model (pure apart from the command objects). */
export function statusBarView(uri: vscode.Uri, state: PanelState | undefined, report: Report | undefined): StatusBarView {
  const name = baseName(uri);
  if (state?.status === 'running') {
    return {
      text: `$(sync~spin) Lipschitz ${state.total ? `${state.done}/${state.total}` : '…'}`,
      tooltip: `Estimating ${name}. Click to cancel.`,
      command: { title: 'Cancel', command: 'lipschitzLens.cancel', arguments: [uri] },
    };
  }
  if (state?.status === 'done' && report) {
    const lines = [`${name}: ${boundSummary(report.bounds)}${state.fromCache ? ' (cached)' : ''}.`];
    if (report.bounds.certified !== null) lines.push(CERTIFIED_MEANING);
    if (report.bounds.product !== null) lines.push(ESTIMATE_MEANING);
    lines.push('Click to show the results.');
    return { text: `$(pulse) ${boundShort(report.bounds)}`, tooltip: lines.join('\n'), command: { title: 'Show results', command: 'lipschitzLens.showResults', arguments: [uri] } };
  }
  if (state?.status === 'error' || state?.status === 'cancelled') {
    return {
      text: state.status === 'error' ? '$(error) Lipschitz' : '$(circle-slash) Lipschitz',
      tooltip: `${name}: ${state.status === 'error' ? state.error ?? 'failed' : 'cancelled'}. Click to show the log.`,
      command: 'lipschitzLens.showLog',
    };
  }
  return { text: '$(pulse) Lipschitz', tooltip: `${name}: not estimated yet. Click to estimate its Lipschitz constant.`, command: { title: 'Estimate', command: 'lipschitzLens.estimate', arguments: [uri] } };
}

/** The file of the active editor tab when it is a text or custom editor; null for other tabs (webviews, output), undefined for none. */
function activeEditorFile(): vscode.Uri | null | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  const input = tab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return input.uri;
  if (input instanceof vscode.TabInputTextDiff) return input.modified;
  if (tab) return null;
  return vscode.window.activeTextEditor?.document.uri;
}

export class ModelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** The model the item follows, or undefined when it is hidden. */
  private followed: vscode.Uri | undefined;
  private visible = false;
  private generation = 0;

  constructor(private readonly sessions: SessionStore) {
    this.item = vscode.window.createStatusBarItem('lipschitzLens.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Lipschitz Lens';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => void this.followActiveEditor()),
      vscode.window.tabGroups.onDidChangeTabs(() => void this.followActiveEditor()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => void this.followActiveEditor()),
      sessions.onDidChange((session) => this.onSessionChanged(session)),
    );
    void this.followActiveEditor();
  }

  /** For the real-VS-Code tests: what the item shows now. */
  snapshot(): { visible: boolean; text: string; tooltip: string; model: string | undefined } {
    return { visible: this.visible, text: this.item.text, tooltip: typeof this.item.tooltip === 'string' ? this.item.tooltip : '', model: this.followed?.toString() };
  }

  private async followActiveEditor(): Promise<void> {
    const file = activeEditorFile();
    if (file === null) return;
    const generation = ++this.generation;
    const kind = file ? await modelKindCached(file).catch(() => undefined) : undefined;
    if (generation !== this.generation) return;
    this.followed = kind && file ? file : undefined;
    this.render();
  }

  private onSessionChanged(session: ModelSession): void {
    if (this.followed?.toString() === session.key) this.render();
  }

  private render(): void {
    if (!this.followed) {
      this.item.hide();
      this.visible = false;
      return;
    }
    const session = this.sessions.get(this.followed.toString());
    const view = statusBarView(this.followed, session?.state, session?.report);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.show();
    this.visible = true;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

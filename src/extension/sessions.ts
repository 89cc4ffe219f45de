// One session per model file: its panel state, its last report, the webviews that show it, and
// the job that is filling it. Pure (no vscode): the panel, the .onnx editor, the lenses and the
// status bar all read from here and listen for changes.

import type { FromWorker, PanelState, ToWebview } from '../protocol/messages';
import type { Report } from '../protocol/report';
import { applyWorkerMessage, cancelRun, failRun, initialPanelState, startRun, stateFromReport } from './panel-state';

export type ModelKind = 'onnx' | 'tfjs';

/** What the session needs of a webview: a way to post messages. */
export interface WebviewSink {
  postMessage(message: ToWebview): PromiseLike<boolean> | boolean | void;
}

export class ModelSession {
  state: PanelState;
  report: Report | undefined;
  /** The job whose messages this session applies; messages of older jobs are ignored. */
  jobId: number | undefined;
  /** True once the model.json text changed after the results: lenses and hovers hide them. */
  stale = false;
  readonly views = new Set<WebviewSink>();

  constructor(
    readonly key: string,
    readonly kind: ModelKind,
    private readonly changed: (session: ModelSession) => void,
  ) {
    // model.json rows reveal their layer in the text; .onnx rows their node in the .onnx editor.
    this.state = initialPanelState(true);
  }

  /** Adds a view and sends it the whole state. */
  attach(view: WebviewSink): void {
    this.views.add(view);
    this.send(view, { type: 'state', state: this.state });
  }

  detach(view: WebviewSink): void {
    this.views.delete(view);
  }

  /** Sends the whole state again (a webview that reloaded asks with 'ready'). */
  resend(view: WebviewSink): void {
    this.send(view, { type: 'state', state: this.state });
  }

  begin(jobId: number): void {
    this.jobId = jobId;
    this.stale = false;
    this.update(startRun(this.state));
  }

  /** Applies a worker message if it belongs to the current job. */
  apply(message: FromWorker): boolean {
    if (message.type === 'log') return false;
    if (message.jobId !== this.jobId && message.type !== 'described') return false;
    if (message.type === 'done') this.report = message.report;
    this.update(applyWorkerMessage(this.state, message));
    return true;
  }

  /** Shows a finished report (from the cache, or a run whose 'done' was already applied). */
  showReport(report: Report, fromCache: boolean): void {
    this.report = report;
    this.stale = false;
    this.jobId = undefined;
    const state = stateFromReport(report, this.state, fromCache);
    this.update({ state, messages: [{ type: 'state', state }] });
  }

  fail(jobId: number | undefined, error: string): void {
    if (jobId !== undefined && jobId !== this.jobId) return;
    this.update(failRun(this.state, error));
  }

  cancelled(jobId: number | undefined): void {
    if (jobId !== undefined && jobId !== this.jobId) return;
    if (this.state.status !== 'running') return;
    this.update(cancelRun(this.state));
  }

  markStale(): void {
    if (this.stale || this.state.status === 'idle') return;
    this.stale = true;
    this.changed(this);
  }

  private update(result: { state: PanelState; messages: ToWebview[] }): void {
    this.state = result.state;
    for (const view of this.views) for (const message of result.messages) this.send(view, message);
    this.changed(this);
  }

  private send(view: WebviewSink, message: ToWebview): void {
    try {
      const sent = view.postMessage(message);
      // A disposed webview rejects; it is detached when its panel closes.
      if (sent && typeof (sent as PromiseLike<boolean>).then === 'function') (sent as PromiseLike<boolean>).then(undefined, () => undefined);
    } catch {
      this.views.delete(view);
    }
  }
}

export class SessionStore {
  private readonly sessions = new Map<string, ModelSession>();
  private readonly listeners = new Set<(session: ModelSession) => void>();
  /** The session that changed last: what the status bar shows. */
  last: ModelSession | undefined;

  get(key: string): ModelSession | undefined {
    return this.sessions.get(key);
  }

  getOrCreate(key: string, kind: ModelKind): ModelSession {
    let session = this.sessions.get(key);
    if (!session) {
      session = new ModelSession(key, kind, (s) => this.fire(s));
      this.sessions.set(key, session);
    }
    return session;
  }

  all(): ModelSession[] {
    return [...this.sessions.values()];
  }

  running(): ModelSession[] {
    return this.all().filter((s) => s.state.status === 'running');
  }

  onDidChange(listener: (session: ModelSession) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(session: ModelSession): void {
    this.last = session;
    for (const listener of this.listeners) listener(session);
  }
}

// Runs estimates for the commands, the panel, the .onnx editor and the lenses: the cache, the
// worker jobs, the progress notification, the status bar, the output channel and the context keys.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FromWorker, LogMessage, ModelSource } from '../protocol/messages';
import type { ModelInfo, Report } from '../protocol/report';
import { cacheFileName, cacheKey, companionsUnchanged, decodeCacheFile, encodeCacheEntry, type HashedFile } from './cache-key';
import { formatSeconds } from '../protocol/format-number';
import { boundSummary } from './lens-text';
import { shownReport } from './panel-state';
import { baseName, companionFiles, FileHasher, gatherModelFiles, modelKindOf, modelSource, type ModelFiles } from './model-files';
import { estimateSettings, normalizeIoChoice, readSettings, sizeRefusal, type ExtensionSettings, type ModelIoChoice } from './settings';
import { ModelStatusBar } from './status-bar';
import { SessionStore, type ModelKind, type ModelSession } from './sessions';
import { WorkerClient, WorkerJobError } from './worker-client';
import { addRun, decodeHistory, encodeHistory, historyFileName, type RunRecord } from './run-history';

const INPUT_SHAPES_KEY = 'lipschitzLens.inputShapes';
const MODEL_IO_KEY = 'lipschitzLens.modelIo';

export type EstimateOutcome =
  | { kind: 'done'; report: Report; fromCache: boolean }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string; badInput: boolean };

export interface EstimateOptions {
  /** Ignore the cache and compute again. */
  force?: boolean;
  /** Started by opening a file: no error pop-ups, no notification unless it runs. */
  auto?: boolean;
}

export class Controller implements vscode.Disposable {
  readonly sessions = new SessionStore();
  readonly output: vscode.OutputChannel;
  readonly statusBar: ModelStatusBar;
  private runClient: WorkerClient | undefined;
  private describeClient: WorkerClient | undefined;
  private readonly hasher = new FileHasher();
  private readonly inFlight = new Map<string, Promise<EstimateOutcome>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Lipschitz Lens');
    this.statusBar = new ModelStatusBar(this.sessions);
    this.disposables.push(this.output, this.statusBar, this.sessions.onDidChange((session) => this.onSessionChanged(session)));
  }

  /** Stops the workers (jobs in flight end as cancelled). */
  async shutdown(): Promise<void> {
    const clients = [this.runClient, this.describeClient];
    this.runClient = undefined;
    this.describeClient = undefined;
    await Promise.all(clients.map((c) => c?.dispose()));
  }

  dispose(): void {
    void this.shutdown();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  settings(): ExtensionSettings {
    const config = vscode.workspace.getConfiguration('lipschitzLens');
    const settings = readSettings((key) => config.get(key));
    // A mistyped declaration is ignored, and said once (not at every read of the settings).
    const problems = settings.customLayerProblems.join('\n');
    if (problems !== this.shownSettingProblems) {
      this.shownSettingProblems = problems;
      for (const problem of settings.customLayerProblems) {
        this.log('warn', problem);
        void vscode.window.showWarningMessage(`Lipschitz Lens: ${problem}. The entry is ignored.`);
      }
    }
    return settings;
  }

  private shownSettingProblems = '';

  log(level: LogMessage['level'], text: string): void {
    this.output.appendLine(`${new Date().toISOString().slice(11, 23)} [${level}] ${text}`);
  }

  private workerScript(): string {
    return path.join(this.context.extensionPath, 'dist', 'worker.js');
  }

  private client(lane: 'run' | 'describe'): WorkerClient {
    // Summaries use their own worker so an open .onnx editor never waits behind a long run; it
    // stops when idle. The run worker stays warm for re-runs.
    const make = (idleMs?: number) =>
      new WorkerClient({ scriptPath: this.workerScript(), idleMs, onLog: (m) => this.log(m.level, m.jobId ? `job ${m.jobId}: ${m.text}` : m.text) });
    if (lane === 'run') return (this.runClient ??= make());
    return (this.describeClient ??= make(30_000));
  }

  // ---- input shapes ------------------------------------------------------------------------

  inputShapeFor(uri: vscode.Uri): number[] | undefined {
    return this.context.workspaceState.get<Record<string, number[]>>(INPUT_SHAPES_KEY, {})[uri.toString()];
  }

  async setInputShapeFor(uri: vscode.Uri, shape: number[] | undefined): Promise<void> {
    const all = { ...this.context.workspaceState.get<Record<string, number[]>>(INPUT_SHAPES_KEY, {}) };
    if (shape) all[uri.toString()] = shape;
    else delete all[uri.toString()];
    await this.context.workspaceState.update(INPUT_SHAPES_KEY, all);
    // The .onnx editor's summary says which shape is in use: read it again with the new one.
    const session = this.sessions.get(uri.toString());
    if (session?.state.summary) await this.describe(uri, session.kind);
  }

  /** The signal input, fixed inputs' shapes and values, and chosen outputs remembered for a file. */
  ioFor(uri: vscode.Uri): ModelIoChoice {
    return normalizeIoChoice(this.context.workspaceState.get<Record<string, ModelIoChoice>>(MODEL_IO_KEY, {})[uri.toString()]);
  }

  /** Changes some members of a file's choice (undefined or empty clears a member). */
  async updateIoFor(uri: vscode.Uri, change: Partial<ModelIoChoice>): Promise<ModelIoChoice> {
    const all = { ...this.context.workspaceState.get<Record<string, ModelIoChoice>>(MODEL_IO_KEY, {}) };
    const next = normalizeIoChoice({ ...this.ioFor(uri), ...change });
    for (const member of Object.keys(change) as (keyof ModelIoChoice)[]) if (change[member] === undefined) delete next[member];
    if (Object.keys(next).length > 0) all[uri.toString()] = next;
    else delete all[uri.toString()];
    await this.context.workspaceState.update(MODEL_IO_KEY, all);
    return next;
  }

  // ---- cache -------------------------------------------------------------------------------

  private cacheUri(key: string): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'cache', cacheFileName(key));
  }

  /** The cached report for `key`, if any and if the companions it recorded are unchanged. */
  private async readCache(key: string, model: ModelFiles): Promise<Report | undefined> {
    try {
      const entry = decodeCacheFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(this.cacheUri(key))), key);
      if (!entry) return undefined;
      if (entry.companions.length > 0) {
        const current = await this.hasher.hash(await companionFiles(model, entry.companions.map((file) => file.path)), new Map());
        if (!companionsUnchanged(entry.companions, current)) return undefined;
      }
      return entry.report;
    } catch {
      // Unreadable entry, or a companion that is gone: no cache hit.
      return undefined;
    }
  }

  /**
   * Saves a report under `key` with the hashes of the companions the worker read beyond the key's
   * own files (an ONNX model's external data), so that a changed companion is a cache miss.
   */
  private async writeCache(key: string, report: Report, model: ModelFiles, companions: readonly string[]): Promise<void> {
    try {
      const inKey = new Set(model.files.map((file) => file.relative));
      const extra = companions.filter((path) => !inKey.has(path));
      const hashed: HashedFile[] = extra.length > 0 ? await this.hasher.hash(await companionFiles(model, extra), new Map()) : [];
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(this.context.globalStorageUri, 'cache'));
      await vscode.workspace.fs.writeFile(this.cacheUri(key), new TextEncoder().encode(encodeCacheEntry(key, report, new Date(), hashed)));
    } catch (error) {
      this.log('warn', `could not save the cache entry: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Files whose bytes changed but whose JSON value did not (Format model.json, then saved): the
   * report shown is still the file's, so it is saved again under the file's new cache key, and
   * the next open or run finds it.
   */
  async rememberUnderCurrentKey(uri: vscode.Uri, report: Report): Promise<void> {
    const kind = await modelKindOf(uri);
    if (!kind) return;
    try {
      const { key, files } = await this.prepare(uri, kind, this.settings());
      await this.writeCache(key, report, files, []);
      this.log('info', `${baseName(uri)}: its report saved again under the file's new cache key ${key.slice(0, 12)}…`);
    } catch (error) {
      this.log('warn', `could not save the report of ${baseName(uri)} again: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- run history (Compare Runs) ----------------------------------------------------------

  private historyFolder(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'history');
  }

  /** The model's last runs, newest first (at most the historySize setting, as last written). */
  async runsOf(uri: vscode.Uri): Promise<RunRecord[]> {
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(this.historyFolder(), historyFileName(uri.toString()))));
      return decodeHistory(text, uri.toString());
    } catch {
      return [];
    }
  }

  /** Every model's runs in the history (for checkpoints of one architecture in other files). */
  async allRuns(): Promise<RunRecord[]> {
    let names: [string, vscode.FileType][];
    try {
      names = await vscode.workspace.fs.readDirectory(this.historyFolder());
    } catch {
      return [];
    }
    const runs: RunRecord[] = [];
    for (const [name] of names.filter(([n, type]) => type === vscode.FileType.File && n.endsWith('.json'))) {
      try {
        const value = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(this.historyFolder(), name)))) as { model?: unknown };
        if (typeof value.model === 'string' && historyFileName(value.model) === name) runs.push(...decodeHistory(JSON.stringify(value), value.model));
      } catch {
        // An unreadable history file: its runs are not offered.
      }
    }
    return runs;
  }

  /** Adds a finished run to the model's history (the last historySize runs are kept). */
  private async recordRun(uri: vscode.Uri, key: string, report: Report): Promise<void> {
    try {
      const model = uri.toString();
      const runs = addRun(await this.runsOf(uri), { model, savedAt: new Date().toISOString(), key, report }, this.settings().historySize);
      await vscode.workspace.fs.createDirectory(this.historyFolder());
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(this.historyFolder(), historyFileName(model)), new TextEncoder().encode(encodeHistory(model, runs)));
    } catch (error) {
      this.log('warn', `could not save the run history: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- sessions ----------------------------------------------------------------------------

  async sessionFor(uri: vscode.Uri): Promise<ModelSession | undefined> {
    const existing = this.sessions.get(uri.toString());
    if (existing) return existing;
    const kind = await modelKindOf(uri);
    return kind ? this.sessions.getOrCreate(uri.toString(), kind) : undefined;
  }

  sessionOf(uri: vscode.Uri, kind: ModelKind): ModelSession {
    return this.sessions.getOrCreate(uri.toString(), kind);
  }

  /** Files, size check, hashes and cache key of a model. */
  private async prepare(uri: vscode.Uri, kind: ModelKind, settings: ExtensionSettings) {
    const files = await gatherModelFiles(uri, kind);
    const refusal = sizeRefusal(baseName(uri), files.totalBytes, settings.maxModelBytes);
    if (refusal) throw new RefusedError(refusal);
    const bytes = new Map<string, Uint8Array>();
    const estimate = estimateSettings(settings, this.inputShapeFor(uri), this.ioFor(uri));
    const started = Date.now();
    const hashed = await this.hasher.hash(files, bytes);
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed > 0.5) this.log('info', `hashed ${baseName(uri)} (${(files.totalBytes / 1024 ** 2).toFixed(1)} MB) in ${formatSeconds(elapsed)}`);
    return { files, bytes, estimate, key: cacheKey(hashed, estimate) };
  }

  /** Shows the cached report of a model, if its files and settings have one. */
  async showCached(uri: vscode.Uri, kind: ModelKind): Promise<boolean> {
    const session = this.sessionOf(uri, kind);
    if (session.state.status === 'running') return false;
    try {
      const { key, files } = await this.prepare(uri, kind, this.settings());
      const cached = await this.readCache(key, files);
      if (!cached) return false;
      session.showReport(cached, true);
      return true;
    } catch {
      return false;
    }
  }

  /** Total bytes of a model (main file plus shards), or undefined when they cannot be read. */
  async modelBytes(uri: vscode.Uri, kind: ModelKind): Promise<number | undefined> {
    try {
      return (await gatherModelFiles(uri, kind)).totalBytes;
    } catch {
      return undefined;
    }
  }

  // ---- estimate ----------------------------------------------------------------------------

  /**
   * Estimates a model, or shows its cached report. A second call for a model that is already being
   * estimated shares the first one's outcome (unless `force`, which restarts it).
   */
  estimate(uri: vscode.Uri, options: EstimateOptions = {}): Promise<EstimateOutcome> {
    const key = uri.toString();
    const inFlight = this.inFlight.get(key);
    if (inFlight && !options.force) return inFlight;
    const outcome = this.estimateNow(uri, options).finally(() => {
      if (this.inFlight.get(key) === outcome) this.inFlight.delete(key);
    });
    this.inFlight.set(key, outcome);
    return outcome;
  }

  private fail(session: ModelSession | undefined, jobId: number | undefined, message: string, badInput: boolean, options: EstimateOptions): EstimateOutcome {
    this.log('error', message);
    session?.fail(jobId, message);
    if (!options.auto) {
      if (badInput) void vscode.window.showErrorMessage(message);
      else {
        void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => {
          if (choice) this.output.show(true);
        });
      }
    }
    return { kind: 'error', message, badInput };
  }

  private async estimateNow(uri: vscode.Uri, options: EstimateOptions): Promise<EstimateOutcome> {
    const kind = await modelKindOf(uri);
    const name = baseName(uri);
    if (!kind) return this.fail(undefined, undefined, `${name} is not an ONNX model or a TF.js model.json (it needs "modelTopology" and "weightsManifest").`, true, options);
    const session = this.sessionOf(uri, kind);
    const client = this.client('run');

    const settings = this.settings();
    let prepared: Awaited<ReturnType<Controller['prepare']>>;
    let source: ModelSource;
    try {
      prepared = await this.prepare(uri, kind, settings);
      if (!options.force) {
        const cached = await this.readCache(prepared.key, prepared.files);
        if (cached) {
          this.log('info', `${name}: cached report ${prepared.key.slice(0, 12)}… (file and settings unchanged), ${boundSummary(cached.bounds)}`);
          session.showReport(cached, true);
          return { kind: 'done', report: cached, fromCache: true };
        }
      }
      source = await modelSource(prepared.files, prepared.bytes);
    } catch (error) {
      return this.fail(session, undefined, error instanceof Error ? error.message : String(error), true, options);
    }

    const started = Date.now();
    const { estimate } = prepared;
    this.log('info', `${name}: estimating (${estimate.method}, tol ${estimate.tol}, at most ${estimate.maxIter} iterations${estimate.inputShape ? `, input ${estimate.inputShape.join('x')}` : ''}${source.kind === 'bytes' ? ', bytes read through the workspace file system' : ''})`);

    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Lipschitz Lens: ${name}`, cancellable: true },
      async (progress, token): Promise<EstimateOutcome> => {
        let reported = 0;
        // Expected seconds (the engine's cost model) per layer and in all, for a countdown scaled by
        // the observed rate.
        let expected: number[] = [];
        let expectedTotal = 0;
        let expectedDone = 0;
        const left = (): string => {
          if (!(expectedTotal > 0)) return '';
          const elapsed = (Date.now() - started) / 1000;
          const rate = expectedDone > 0.05 * expectedTotal ? elapsed / expectedDone : 1;
          return `, ~${Math.max(0, Math.round((expectedTotal - expectedDone) * rate))} s left`;
        };
        const onMessage = (message: FromWorker) => {
          session.apply(message);
          if (message.type === 'model') {
            for (const warning of message.warnings) this.log('warn', `${name}: ${warning}`);
            expected = message.layers.map((layer) => layer.expectedSeconds ?? 0);
            expectedTotal = message.expectedSeconds ?? 0;
            progress.report({ message: `${message.layers.length} layers${expectedTotal > 0 ? `, expected ~${Math.max(1, Math.round(expectedTotal))} s` : ''}` });
          } else if (message.type === 'layer') {
            expectedDone += expected[message.index] ?? 0;
            const fraction = message.total > 0 ? (100 * message.done) / message.total : 0;
            progress.report({ increment: fraction - reported, message: `${message.done}/${message.total} ${message.layer.name}${left()}` });
            reported = fraction;
          }
        };
        const handle = client.run(session.key, source, estimate, onMessage);
        session.begin(handle.jobId);
        const subscription = token.onCancellationRequested(() => handle.cancel());
        try {
          const outcome = await handle.result;
          if (outcome.kind === 'cancelled') {
            session.cancelled(handle.jobId);
            this.log('info', `${name}: cancelled after ${formatSeconds((Date.now() - started) / 1000)}`);
            return { kind: 'cancelled' };
          }
          const report = outcome.report;
          // The 'done' message normally arrived first; show the report in any case.
          if (session.report !== report) session.showReport(report, false);
          await this.writeCache(prepared.key, report, prepared.files, outcome.companions);
          await this.recordRun(uri, prepared.key, report);
          this.log('info', `${name}: ${boundSummary(report.bounds)} in ${formatSeconds(report.seconds)} (wall ${formatSeconds((Date.now() - started) / 1000)}${report.backend ? `, ${report.backend}` : ''})`);
          for (const warning of report.warnings ?? []) this.log('warn', `${name}: ${warning}`);
          return { kind: 'done', report, fromCache: false };
        } catch (error) {
          const badInput = error instanceof WorkerJobError && error.badInput;
          return this.fail(session, handle.jobId, error instanceof Error ? error.message : String(error), badInput, options);
        } finally {
          subscription.dispose();
        }
      },
    );
  }

  /** For the real-VS-Code tests: kills the run worker as a crash would. */
  async terminateWorkerForTesting(): Promise<void> {
    await this.runClient?.terminateForTesting();
  }

  /**
   * Reads the model's summary for the .onnx editor (a separate worker, so it never waits on a run),
   * under the file's remembered input choice. Resolves with the summary, or undefined on failure.
   */
  async describe(uri: vscode.Uri, kind: ModelKind): Promise<ModelInfo | undefined> {
    const session = this.sessionOf(uri, kind);
    try {
      const settings = this.settings();
      const files = await gatherModelFiles(uri, kind);
      const refusal = sizeRefusal(baseName(uri), files.totalBytes, settings.maxModelBytes);
      if (refusal) throw new RefusedError(refusal);
      const source = await modelSource(files, new Map());
      const described = await this.client('describe').describe(source, this.inputShapeFor(uri) ?? settings.defaultInputShape, this.ioFor(uri)).result;
      session.apply(described);
      return described.model;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(error instanceof WorkerJobError && !error.badInput ? 'error' : 'warn', `describe: ${message}`);
      if (session.state.status === 'idle') session.fail(undefined, message);
      return undefined;
    }
  }

  /**
   * The values an output choice can name: the graph's outputs and every row's output values in the
   * whole graph (read without the file's output choice, so earlier choices do not hide the rest).
   */
  async valueNames(uri: vscode.Uri): Promise<{ outputs: { name: string; shape: (number | string)[] }[]; intermediate: { name: string; op: string; shape: number[] }[] } | undefined> {
    const kind = await modelKindOf(uri);
    if (!kind) return undefined;
    try {
      const settings = this.settings();
      const files = await gatherModelFiles(uri, kind);
      const refusal = sizeRefusal(baseName(uri), files.totalBytes, settings.maxModelBytes);
      if (refusal) throw new RefusedError(refusal);
      const { outputs: _chosen, ...io } = this.ioFor(uri);
      const described = await this.client('describe').describe(await modelSource(files, new Map()), this.inputShapeFor(uri) ?? settings.defaultInputShape, io).result;
      const graphOutputs = described.model.outputs ?? [];
      const seen = new Set(graphOutputs.map((t) => t.name));
      const intermediate: { name: string; op: string; shape: number[] }[] = [];
      for (const layer of described.layers) {
        for (const name of layer.outputs ?? []) {
          if (seen.has(name)) continue;
          seen.add(name);
          intermediate.push({ name, op: layer.op, shape: layer.outputShape });
        }
      }
      return { outputs: graphOutputs, intermediate };
    } catch (error) {
      this.log('warn', `reading the values of ${baseName(uri)}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /**
   * The model's inputs and outputs as the file declares them, for the input and output pickers:
   * from the summary or report already shown, else read now. Undefined when the file cannot be read.
   */
  async modelSummary(uri: vscode.Uri): Promise<ModelInfo | undefined> {
    const kind = await modelKindOf(uri);
    if (!kind) return undefined;
    const session = this.sessionOf(uri, kind);
    const known = session.state.summary ?? session.report?.model;
    if (known?.inputs && known.outputs) return known;
    return this.describe(uri, kind);
  }

  /** Cancels the run of one model, or every run. Returns how many were cancelled. */
  cancel(uri?: vscode.Uri): number {
    const client = this.runClient;
    if (!client) return 0;
    if (uri) return client.cancel(uri.toString()) ? 1 : 0;
    let count = 0;
    for (const session of this.sessions.running()) if (client.cancel(session.key)) count++;
    return count;
  }

  // ---- status bar and context keys ---------------------------------------------------------

  private onSessionChanged(_session: ModelSession): void {
    void vscode.commands.executeCommand('setContext', 'lipschitzLens.running', this.sessions.running().length > 0);
    void vscode.commands.executeCommand('setContext', 'lipschitzLens.hasReport', this.sessions.all().some((s) => shownReport(s.state, s.report) !== undefined));
  }
}

/** A model the settings refuse to run (too large). */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

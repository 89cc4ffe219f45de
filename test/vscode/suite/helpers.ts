// Helpers for the in-host tests: the extension under test, its commands, running an estimate
// and waiting for things. The contract these tests assume is written in test/vscode/README.md.
import * as vscode from 'vscode';

export const EXTENSION_ID = 'lipschitz-lens.lipschitz-lens';
export const COMMANDS = [
  'lipschitzLens.estimate',
  'lipschitzLens.cancel',
  'lipschitzLens.exportReport',
  'lipschitzLens.setInputShape',
  'lipschitzLens.setInputValues',
  'lipschitzLens.chooseSignalInput',
  'lipschitzLens.chooseOutputs',
  'lipschitzLens.showLog',
  'lipschitzLens.compareRuns',
  'lipschitzLens.formatModelJson',
  'lipschitzLens.revealLayer',
] as const;
export const ONNX_VIEW_TYPE = 'lipschitzLens.onnxEditor';

/** The report fields the tests read (see docs/report.md). */
export interface LayerRow {
  name: string;
  op: string;
  kind: string;
  weightShape: number[] | null;
  sigma: number | null;
  upperBound: number | null;
  /** The entry of the row in the model's own listing (model.json layer or ONNX node). */
  sourceIndex?: number;
}
export interface ReportLike {
  model: { path: string; format: string; inputShape: number[] };
  layers: LayerRow[];
  bounds: { product: number | null; certified: number | null | boolean; unsupported: { name: string; op: string }[] };
  seconds: number;
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded in this extension host`);
  return ext;
}

export async function activated(): Promise<vscode.Extension<unknown>> {
  const ext = extension();
  if (!ext.isActive) await ext.activate();
  return ext;
}

export function isReport(value: unknown): value is ReportLike {
  return typeof value === 'object' && value !== null && Array.isArray((value as ReportLike).layers) && 'bounds' in value;
}

/** Runs lipschitzLens.estimate on `uri`; the command resolves with the Report when the run ends. */
export async function estimate(uri: vscode.Uri, timeoutMs = 45_000): Promise<unknown> {
  return withTimeout(Promise.resolve(vscode.commands.executeCommand('lipschitzLens.estimate', uri)), timeoutMs, `estimate ${uri.fsPath}`);
}

export async function estimateReport(uri: vscode.Uri, timeoutMs?: number): Promise<ReportLike> {
  const result = await estimate(uri, timeoutMs);
  if (!isReport(result)) {
    throw new Error(`lipschitzLens.estimate(${uri.fsPath}) resolved with ${JSON.stringify(result)?.slice(0, 200)}, expected the Report`);
  }
  return result;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(probe: () => T | Promise<T>, ms: number, what: string, every = 100): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(every);
  }
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Rows with a weight (conv/dense/...): the layers that get CodeLenses and a computed σ. */
export function weighted(report: ReportLike): LayerRow[] {
  return report.layers.filter((l) => Array.isArray(l.weightShape) && l.weightShape.length > 0);
}

/** What the extension's testing API offers (see test/vscode/README.md). */
export interface TestingApi {
  terminateWorker(): Promise<void>;
  panelState(uri: vscode.Uri): { status: string; done: number; total: number; fromCache?: boolean } | undefined;
  inputShape(uri: vscode.Uri): number[] | undefined;
  statusBar(): { visible: boolean; text: string; tooltip: string; model: string | undefined };
  ioPicksRequested(): number;
  pageMessage(uri: vscode.Uri, message: unknown): Promise<boolean>;
  lastReveal(): { uri: string; row: number; kind: 'text'; line: number; character: number } | { uri: string; row: number; kind: 'onnx-node'; node: number | null } | undefined;
  onnxRevealsDelivered(): { uri: string; row: number }[];
  modelKindReads(): number;
  layersView(): Promise<{ model: string | undefined; items: { label: string; description: string; command: string; arguments: unknown[] }[] }>;
  history(uri: vscode.Uri): Promise<{ savedAt: string; key: string; inputShape: number[] }[]>;
}

export async function testingApi(): Promise<TestingApi> {
  const api = (await activated()).exports as { testing?: Partial<TestingApi> } | undefined;
  const testing = api?.testing;
  if (!testing) throw new Error('the extension exports no testing API (see test/vscode/README.md)');
  // Each function is checked where it is called, so a test fails on the behaviour it needs.
  return new Proxy(testing, {
    get(target, name: string | symbol) {
      // Not a thenable: an async function returns this object.
      if (typeof name !== 'string' || name === 'then') return undefined;
      const value = target[name as keyof TestingApi];
      if (typeof value !== 'function') throw new Error(`the extension exports no testing.${name}() (see test/vscode/README.md)`);
      return value;
    },
  }) as TestingApi;
}

/** Waits until the model's run has started solving (a row is done), however loaded the machine. */
export async function runningWithRows(uri: vscode.Uri): Promise<void> {
  const api = await testingApi();
  await waitFor(() => {
    const state = api.panelState(uri);
    return state?.status === 'running' && state.done > 0;
  }, 60_000, `a running estimate of ${uri.path.split('/').pop()} with a finished row`, 20);
}

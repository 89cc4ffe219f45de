// Command-line arguments of `lipschitz-lens`.

import { DEFAULT_SETTINGS, type EstimateSettings } from '../protocol/report';
import { parseCustomLayers } from '../protocol/custom-layers';

export const USAGE = `usage: lipschitz-lens MODEL [options]

Estimates the Lipschitz constant (spectral norm) of every layer of an ONNX model or a
TensorFlow.js model.json, and the bound for the whole network. The network bound L ≤ … is
composed from certified per-layer upper bounds; L ≈ … composes the per-layer σ estimates and is
an estimate, not a bound.

options:
  --input-shape 1,3,224,224   shape of the signal input (needed when the model's is dynamic)
  --input-shape NAME=2,1,128  shape of the named input (repeatable; inputs other than the signal
                              are held fixed)
  --input NAME                the input the bound is taken with respect to (default: the first
                              floating-point input)
  --input-value NAME=16000    fixes a scalar control input, so that control flow on it folds
  --output NAME               bound the sub-network from the input to this value only (a graph
                              output or a named intermediate value; repeatable)
  --json                      print the report as one JSON object on stdout
  --tol 1e-4                  target relative accuracy of each σ
  --max-iter N                iteration cap per layer (default ${DEFAULT_SETTINGS.maxIter})
  --seed N                    seed of the solver's start vectors (default ${DEFAULT_SETTINGS.seed})
  --method lanczos|power      solver (default ${DEFAULT_SETTINGS.method})
  --threads N                 layers solved at once, one worker thread each (default 0: one per
                              core, at most 3, on models large enough; 1: one worker)
  --input-range LO,HI         the input lies in [LO, HI] entrywise: products bounded only on that box
                              (squeeze-excitation gates) get a bound valid for such inputs, and the
                              network bound is stated "on inputs in [LO, HI]" (default: all inputs);
                              the bracket's lower-bound search draws its inputs from it (default 0,1)
  --input-range NAME=LO,HI    the named input lies in [LO, HI] (repeatable): for an input held fixed
                              (a recurrent state), bounds that need its size hold for every value
                              in that box
  --custom-layer CLASS=DECL   what a custom Keras layer class computes, which its file does not say
                              (repeatable): identity, scale:A, depth-to-space:B, lipschitz:L or
                              same-shape, where A, B, L are numbers or names of the layer's config
                              fields, e.g. --custom-layer MultiplyBeta=scale:beta
  --fail-above X              exit 1 unless the certified network bound (L ≤ …) is at most X;
                              a model without a certified bound fails, with the reason
  --fail-above-estimate X     exit 1 when the estimate (L ≈ …, bounds.product) exceeds X or
                              cannot be computed
  --bracket[=on|auto|off]     bracket the true constant: a measured lower bound and a tighter
                              certified upper bound (docs/bracket.md); default auto: on for small
                              models only
  --samples DIR               also start the lower bound's search from these inputs (.npy / .json)
  --fail-above-measured X     exit 1 when the MEASURED lower bound exceeds X: the network is then
                              certainly more sensitive than X (runs the bracket)
  --max-bytes N               refuse models (file plus weight shards or external data) over N bytes
  -q, --quiet                 no progress on stderr
  -h, --help                  this help
  --version                   the version

exit codes: 0 ok, 1 a --fail-above or --fail-above-estimate check failed, 2 bad input or usage,
3 internal error, 130 cancelled by SIGINT or SIGTERM (the layers done so far are printed)`;

export interface CliOptions {
  model: string;
  settings: EstimateSettings;
  json: boolean;
  /** Gate on bounds.certified. */
  failAbove?: number;
  /** Gate on bounds.product, the estimate. */
  failAboveEstimate?: number;
  /** Gate on the measured lower bound (bounds.lower). */
  failAboveMeasured?: number;
  /** Folder of sample inputs for the bracket's lower bound. */
  samples?: string;
  maxBytes?: number;
  quiet: boolean;
}

export class UsageError extends Error {}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions };

export function parseArgs(argv: string[]): ParsedArgs {
  const settings: EstimateSettings = { ...DEFAULT_SETTINGS, bracket: 'auto' };
  let failAboveMeasured: number | undefined;
  let samples: string | undefined;
  let model: string | undefined;
  let json = false;
  let quiet = false;
  let failAbove: number | undefined;
  let failAboveEstimate: number | undefined;
  let maxBytes: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--version':
        return { kind: 'version' };
      case '--json':
        json = true;
        break;
      case '-q':
      case '--quiet':
        quiet = true;
        break;
      case '--input-shape': {
        const text = value();
        const named = splitNamed(text);
        if (named) settings.inputShapes = { ...settings.inputShapes, [named.name]: parseShape(named.value) };
        else settings.inputShape = parseShape(text);
        break;
      }
      case '--input':
        settings.input = value();
        if (!settings.input) throw new UsageError('--input needs an input name');
        break;
      case '--input-value': {
        const text = value();
        const named = splitNamed(text);
        const number = named ? Number(named.value) : NaN;
        if (!named || named.value.trim() === '' || !Number.isFinite(number)) throw new UsageError(`--input-value must be NAME=NUMBER, e.g. sr=16000 (got "${text}")`);
        settings.inputValues = { ...settings.inputValues, [named.name]: number };
        break;
      }
      case '--output': {
        const name = value();
        if (!name) throw new UsageError('--output needs a value name');
        settings.outputs = [...(settings.outputs ?? []), name];
        break;
      }
      case '--input-range': {
        const text = value();
        const named = splitNamed(text);
        const range = (named ? named.value : text).split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
        if (range.length !== 2 || !range.every(Number.isFinite) || !(range[0] <= range[1]) || (!named && !(range[0] < range[1]))) {
          throw new UsageError(`--input-range must be LO,HI with LO < HI, or NAME=LO,HI with LO ≤ HI for a named input (got "${text}")`);
        }
        if (named) settings.inputRanges = { ...settings.inputRanges, [named.name]: [range[0], range[1]] };
        else settings.inputRange = [range[0], range[1]];
        break;
      }
      case '--custom-layer': {
        const text = value();
        const named = splitNamed(text);
        if (!named) throw new UsageError(`--custom-layer must be CLASS=DECLARATION, e.g. MultiplyBeta=scale:beta (got "${text}")`);
        const parsed = parseCustomLayers({ [named.name.trim()]: named.value });
        if (typeof parsed === 'string') throw new UsageError(`--custom-layer: ${parsed}`);
        settings.customLayers = { ...settings.customLayers, [named.name.trim()]: named.value.trim() };
        break;
      }
      case '--tol':
        settings.tol = parsePositive(flag, value());
        if (settings.tol >= 1) throw new UsageError('--tol must be below 1');
        break;
      case '--max-iter':
        settings.maxIter = parseInteger(flag, value(), 1);
        break;
      case '--seed':
        settings.seed = parseInteger(flag, value(), 0);
        break;
      case '--method': {
        const method = value();
        if (method !== 'lanczos' && method !== 'power') throw new UsageError(`--method must be lanczos or power, not "${method}"`);
        settings.method = method;
        break;
      }
      case '--threads':
        settings.threads = parseInteger(flag, value(), 0);
        break;
      case '--fail-above':
        failAbove = parsePositive(flag, value());
        break;
      case '--fail-above-estimate':
        failAboveEstimate = parsePositive(flag, value());
        break;
      case '--bracket': {
        const mode = inline ?? 'on';
        if (mode !== 'on' && mode !== 'auto' && mode !== 'off') throw new UsageError(`--bracket must be on, auto or off, not "${mode}"`);
        settings.bracket = mode;
        break;
      }
      case '--samples':
        samples = value();
        if (settings.bracket !== 'off') settings.bracket = 'on';
        break;
      case '--fail-above-measured':
        failAboveMeasured = parsePositive(flag, value());
        settings.bracket = 'on';
        break;
      case '--max-bytes':
        maxBytes = parseInteger(flag, value(), 1);
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        if (model !== undefined) throw new UsageError(`one model at a time (got "${model}" and "${arg}")`);
        model = arg;
    }
  }
  if (model === undefined) throw new UsageError('no MODEL given');
  return {
    kind: 'run',
    options: {
      model,
      settings,
      json,
      quiet,
      ...(failAbove !== undefined ? { failAbove } : {}),
      ...(failAboveEstimate !== undefined ? { failAboveEstimate } : {}),
      ...(failAboveMeasured !== undefined ? { failAboveMeasured } : {}),
      ...(samples !== undefined ? { samples } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    },
  };
}

/** "NAME=rest" split at the last "=" (names may hold "=" but shapes and numbers never do); undefined without one. */
function splitNamed(text: string): { name: string; value: string } | undefined {
  const at = text.lastIndexOf('=');
  if (at <= 0) return undefined;
  return { name: text.slice(0, at), value: text.slice(at + 1) };
}

export function parseShape(text: string): number[] {
  const parts = text.split(/[,x×\s]+/).filter(Boolean);
  const dims = parts.map(Number);
  if (dims.length === 0 || dims.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
    throw new UsageError(`--input-shape must be positive integers separated by commas, e.g. 1,3,224,224 (got "${text}")`);
  }
  return dims;
}

function parsePositive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number (got "${text}")`);
  return value;
}

function parseInteger(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${flag} must be an integer ≥ ${min} (got "${text}")`);
  return value;
}

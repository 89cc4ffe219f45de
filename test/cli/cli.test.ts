// The `lipschitz-lens` command as a user runs it: the bundled dist/cli.js in a child process.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Report } from '../../src/protocol/report';
import { attr, buildModel, floats, node, seeded } from '../helpers/onnx-builder';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const torchFixtures = join(root, 'test', 'fixtures', 'onnx', 'torch');

/**
 * The CLI with the bracket off: these tests pin the per-layer numbers, the bounds and the exit
 * codes, and the bracket's seconds of search (its own tests are under test/unit/bracket) would only
 * slow them. The README test runs the defaults.
 */
function run(...args: string[]) {
  return runAsIs(...args, '--bracket=off');
}

function runAsIs(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runJson(...args: string[]): Report {
  const { status, stdout, stderr } = run(...args, '--json');
  assert.equal(status, 0, stderr);
  return JSON.parse(stdout) as Report;
}

interface SigmaReference {
  inputShape: number[];
  layers: { name: string; op: string; sigma: number; inputShape: number[]; weightShape?: number[] }[];
}

const reference = (name: string): SigmaReference => JSON.parse(readFileSync(join(torchFixtures, `${name}.sigma.json`), 'utf8'));
const row = (report: Report, name: string) => {
  const found = report.layers.find((layer) => layer.name === name);
  assert.ok(found, `no row named ${name} in ${report.layers.map((l) => l.name).join(', ')}`);
  return found;
};

before(() => {
  if (!existsSync(cli)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
});

describe('usage', () => {
  test('--help prints the usage and exits 0', () => {
    const { status, stdout } = run('--help');
    assert.equal(status, 0);
    assert.match(stdout, /usage: lipschitz-lens MODEL/);
    assert.match(stdout, /--fail-above X +exit 1 unless the certified network bound/);
    assert.match(stdout, /--fail-above-estimate X/);
    assert.match(stdout, /130 cancelled by SIGINT or SIGTERM/);
  });

  test('no model, an unknown option or a bad shape exit 2 with one line naming the problem', () => {
    for (const [args, pattern] of [
      [[], /no MODEL given/],
      [['x.onnx', '--frobnicate'], /unknown option --frobnicate/],
      [['x.onnx', '--input-shape', '1,a,3'], /--input-shape must be positive integers/],
      [['x.onnx', '--tol', '-1'], /--tol must be a positive number/],
    ] as const) {
      const { status, stderr } = run(...args);
      assert.equal(status, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr.split('\n')[0], pattern);
    }
  });
});

describe('per-layer σ on real PyTorch exports, against float64 SVDs of the explicit matrices', () => {
  for (const name of ['small_cnn', 'residual', 'concat', 'conv_variants', 'conv_transpose']) {
    test(`${name}.onnx: every layer within 1e-5 of its exact σ1, on its real input shape`, () => {
      const expected = reference(name);
      const report = runJson(join(torchFixtures, `${name}.onnx`), '--tol', '1e-7', '--max-iter', '400');
      assert.equal(report.model.format, 'onnx');
      for (const layer of expected.layers) {
        const actual = row(report, layer.name);
        assert.equal(actual.op, layer.op);
        assert.deepEqual(actual.inputShape, layer.inputShape, `${layer.name} input shape`);
        assert.ok(actual.sigma !== null);
        const error = Math.abs(actual.sigma - layer.sigma) / layer.sigma;
        assert.ok(error < 1e-5, `${layer.name}: σ ${actual.sigma} vs exact ${layer.sigma} (relative error ${error.toExponential(2)})`);
        if (actual.upperBound !== null) assert.ok(actual.upperBound >= layer.sigma * (1 - 1e-6), `${layer.name}: upper bound ${actual.upperBound} below exact ${layer.sigma}`);
      }
    });
  }

  test('compute workers (--threads 2) give the same numbers as one thread', () => {
    const path = join(torchFixtures, 'conv_variants.onnx');
    const one = runJson(path, '--threads', '1');
    const two = runJson(path, '--threads', '2');
    assert.ok(one.layers.filter((layer) => layer.kind === 'linear').length >= 3);
    for (const [index, layer] of one.layers.entries()) {
      assert.equal(two.layers[index].name, layer.name);
      assert.equal(two.layers[index].sigma, layer.sigma, layer.name);
      assert.equal(two.layers[index].upperBound, layer.upperBound, layer.name);
      assert.equal(two.layers[index].iterations, layer.iterations, layer.name);
    }
    assert.deepEqual(two.bounds, one.bounds);
  });

  test('two identical layers solved on two compute workers share one solve', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'll-twins-'));
    const path = join(scratch, 'twins.onnx');
    const weight = floats('w', [8, 8, 3, 3], seeded(8 * 8 * 9, 5));
    writeFileSync(path, buildModel({
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 8, 12, 12] }],
      outputs: [{ name: 'z', shape: [1, 8, 12, 12] }],
      initializers: [weight],
      nodes: [
        node('Conv', ['x', 'w'], ['y'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])], 'first'),
        node('Conv', ['y', 'w'], ['z'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])], 'second'),
      ],
    }));
    const report = runJson(path, '--threads', '2');
    const [first, second] = [row(report, 'first'), row(report, 'second')];
    assert.equal(first.sigma, second.sigma);
    assert.equal(first.upperBound, second.upperBound);
    // Exactly one of the two rows did the work; the other says it reused it.
    assert.equal([first, second].filter((layer) => layer.note?.includes('result reused')).length, 1);
    assert.equal(Math.min(first.iterations, second.iterations), 0);
    assert.ok(Math.max(first.iterations, second.iterations) > 0);
  });

  test('the report keeps the field names of docs/report.md', () => {
    const report = runJson(join(torchFixtures, 'small_cnn.onnx'));
    assert.deepEqual(Object.keys(report.model).slice(0, 3), ['path', 'format', 'inputShape']);
    for (const key of ['name', 'op', 'kind', 'weightShape', 'inputShape', 'outputShape', 'sigma', 'upperBound', 'iterations', 'converged', 'seconds']) {
      assert.ok(key in report.layers[0], `layer field ${key}`);
    }
    for (const key of ['product', 'certified', 'unsupported']) assert.ok(key in report.bounds, `bounds field ${key}`);
    assert.equal(typeof report.seconds, 'number');
  });
});

describe('network bound, checked by hand', () => {
  test('residual block: (1 + σ(conv1)·σ(conv2)) · 1/√(H·W) · σ(fc)', () => {
    const expected = reference('residual');
    const sigma = (name: string) => expected.layers.find((l) => l.name === name)!.sigma;
    // BN is folded into the convs by the exporter; ReLUs are 1; the skip adds 1.
    const byHand = (1 + sigma('/conv1/Conv') * sigma('/conv2/Conv')) * (1 / 8) * sigma('/fc/Gemm');
    const report = runJson(join(torchFixtures, 'residual.onnx'), '--tol', '1e-7');
    assert.ok(report.bounds.product !== null);
    assert.ok(Math.abs(report.bounds.product - byHand) / byHand < 1e-5, `${report.bounds.product} vs ${byHand}`);
    // Every layer of this block has a certified upper bound, so the network has one, above the estimate.
    assert.ok(report.bounds.certified !== null, 'no certified bound');
    assert.ok(report.bounds.certified >= byHand * (1 - 1e-6), `certified ${report.bounds.certified} below ${byHand}`);
  });

  test('concat block: √(σ(b1)² + σ(b3)²) · σ(merge) · 1/4 (sigmoid)', () => {
    const expected = reference('concat');
    const sigma = (name: string) => expected.layers.find((l) => l.name === name)!.sigma;
    const byHand = Math.hypot(sigma('/branch1/Conv'), sigma('/branch3/Conv')) * sigma('/merge/Conv') * 0.25;
    const report = runJson(join(torchFixtures, 'concat.onnx'), '--tol', '1e-7');
    assert.ok(report.bounds.product !== null);
    assert.ok(Math.abs(report.bounds.product - byHand) / byHand < 1e-5, `${report.bounds.product} vs ${byHand}`);
  });

  test('--fail-above gates on the certified bound: exit 1 above it (one stderr line), 0 at or below it', () => {
    const path = join(torchFixtures, 'residual.onnx');
    const { certified, product } = runJson(path).bounds;
    assert.ok(certified !== null && product !== null && certified > product);
    // Between the estimate and the certified bound: the estimate would pass, the certified bound does not.
    const between = String((product + certified) / 2);
    const above = run(path, '--fail-above', between);
    assert.equal(above.status, 1);
    assert.match(above.stderr, /certified network bound L ≤ \S+ exceeds --fail-above/);
    assert.equal(above.stderr.trim().split('\n').length, 1, above.stderr);
    assert.equal(run(path, '--fail-above-estimate', between).status, 0, 'the estimate is below it');
    assert.equal(run(path, '--fail-above', String(certified * 1.001)).status, 0);
    const estimateAbove = run(path, '--fail-above-estimate', String(product * 0.9));
    assert.equal(estimateAbove.status, 1);
    assert.match(estimateAbove.stderr, /network estimate L ≈ \S+ exceeds --fail-above-estimate/);
  });

  test('--fail-above without a certified bound exits 1 with the reason on one line', () => {
    // PaddleOCR's classifier multiplies data tensors (hard-swish, squeeze-excitation): no bound at all.
    const dir = join(root, 'test', 'fixtures', 'onnx', 'paddle');
    const path = join(dir, readdirSync(dir).find((f) => f.endsWith('.onnx'))!);
    const { status, stderr } = run(path, '--input-shape', '1,3,48,192', '--tol', '1e-2', '-q', '--fail-above', '1e30');
    assert.equal(status, 1, stderr);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /no certified network bound to check against --fail-above 1e\+30: unbounded: .*Mul/);
  });
});

describe('the example model and the readable table', () => {
  test('the README command runs the shipped example and prints a table with the network bound', () => {
    const { status, stdout, stderr } = runAsIs(join(root, 'examples', 'cifar-cnn.onnx'));
    assert.equal(status, 0, stderr);
    // A small model: the default (auto) brackets the true constant too.
    assert.match(stdout, /^bracket: +L ∈ \[\d\S*, \d\S*\], width ×\d/m);
    assert.match(stdout, /measured lower bound: +L ≥ \d\S* \(measured, not certified/);
    // What is proven is labelled ≤; the composition of estimates ≈, and says it is not a bound.
    assert.match(stdout, /^network bound: +L ≤ \d/m);
    assert.match(stdout, /^network estimate: +L ≈ \d\S* \(estimate from per-layer σ, not a bound\)$/m);
    assert.doesNotMatch(stdout, /≤[^\n]*estimate|estimate[^\n]*≤/);
    assert.match(stdout, /Conv/);
    assert.match(stdout, /Gemm/);
  });

  test('power iteration is selectable and agrees with Lanczos', () => {
    const lanczos = runJson(join(torchFixtures, 'conv_variants.onnx'), '--tol', '1e-6');
    const power = runJson(join(torchFixtures, 'conv_variants.onnx'), '--method', 'power', '--tol', '1e-6', '--max-iter', '3000');
    for (const layer of lanczos.layers.filter((l) => l.kind === 'linear')) {
      const other = row(power, layer.name);
      assert.ok(Math.abs(other.sigma! - layer.sigma!) / layer.sigma! < 1e-4, `${layer.name}: power ${other.sigma} vs lanczos ${layer.sigma}`);
      assert.equal(other.method, 'power');
    }
  });
});

describe('bad input exits 2 with one line that names the file and the problem', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'll-cli-'));
  const TFJS_0X = /: is a TF\.js 0\.x model .*not supported: re-convert it with tensorflowjs_converter 1\.0 or later to get a model\.json$/;
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** What tfjs-converter 0.x wrote (a GraphDef with one node, its manifest, a shard); the path of `file` in it, or of the folder. */
  const legacyFolder = (name: string, file: string) => {
    const p = join(scratch, name);
    mkdirSync(p);
    writeFileSync(join(p, 'tensorflowjs_model.pb'), Uint8Array.from([0x0a, 0x10, 0x0a, 0x01, 0x78, 0x12, 0x0b, ...Buffer.from('Placeholder')]));
    writeFileSync(join(p, 'weights_manifest.json'), JSON.stringify([{ paths: ['group1-shard1of1'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }]));
    writeFileSync(join(p, 'group1-shard1of1'), new Uint8Array(8));
    return file ? join(p, file) : p;
  };
  const cases: [string, () => string, RegExp][] = [
    ['a missing file', () => join(scratch, 'missing.onnx'), /no such file/],
    ['an empty file', () => { const p = join(scratch, 'empty.onnx'); writeFileSync(p, ''); return p; }, /empty/],
    ['a directory', () => { const p = join(scratch, 'dir.onnx'); mkdirSync(p, { recursive: true }); return p; }, /directory/],
    ['random bytes', () => { const p = join(scratch, 'noise.onnx'); writeFileSync(p, Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 251))); return p; }, /./],
    ['a truncated real model', () => { const p = join(scratch, 'truncated.onnx'); const bytes = readFileSync(join(torchFixtures, 'small_cnn.onnx')); writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2))); return p; }, /./],
    ['JSON that is not a TF.js model', () => { const p = join(scratch, 'model.json'); writeFileSync(p, '{"name": "not a model"}'); return p; }, /./],
    ['a TF.js 0.x frozen graph (tensorflowjs_model.pb)', () => legacyFolder('legacy-pb', 'tensorflowjs_model.pb'), TFJS_0X],
    ['a TF.js 0.x weights_manifest.json', () => legacyFolder('legacy-manifest', 'weights_manifest.json'), TFJS_0X],
    ['a folder holding a TF.js 0.x model', () => legacyFolder('legacy-folder', ''), TFJS_0X],
    ['a folder holding a model.json', () => { const p = join(scratch, 'converted'); mkdirSync(p); writeFileSync(join(p, 'model.json'), '{}'); return p; }, new RegExp(`: is a directory, not a model file: did you mean ${escapeRegExp(join(scratch, 'converted', 'model.json'))}\\?$`)],
  ];
  for (const [what, make, pattern] of cases) {
    test(what, () => {
      const path = make();
      const { status, stdout, stderr } = run(path, '--json');
      assert.equal(status, 2, `status ${status}: ${stderr}`);
      assert.equal(stdout, '');
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0].includes(path), `names the file: ${lines[0]}`);
      assert.match(lines[0], pattern);
      assert.doesNotMatch(stderr, /\n\s+at /);
    });
  }
});

describe('other real exports load', () => {
  test('PaddlePaddle (paddle2onnx) PaddleOCR direction classifier: every weighted layer has a σ', () => {
    const dir = join(root, 'test', 'fixtures', 'onnx', 'paddle');
    const file = readdirSync(dir).find((f) => f.endsWith('.onnx'));
    assert.ok(file);
    // Its input is fully dynamic (p2o.DynamicDimension.*): without a shape the CLI must refuse, naming the dims.
    const refused = run(join(dir, file));
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /dynamic dims.*--input-shape/);
    const report = runJson(join(dir, file), '--input-shape', '1,3,48,192', '--tol', '1e-3');
    // Its hard-swish and squeeze-excitation blocks multiply two data tensors: unbounded, said so.
    assert.equal(report.bounds.product, null);
    assert.ok(report.bounds.unbounded!.some((u) => u.op === 'Mul'));
    const linear = report.layers.filter((l) => l.kind === 'linear');
    assert.ok(linear.length >= 10, `${linear.length} linear layers`);
    for (const layer of linear) {
      assert.ok(layer.sigma !== null && layer.sigma > 0 && Number.isFinite(layer.sigma), `${layer.name}: ${layer.sigma}`);
      assert.equal(layer.inputShape[0], 1);
    }
  });
});

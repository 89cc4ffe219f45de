import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import { ENGINE_RESULTS_VERSION } from '../../../src/protocol/results-version';
import { cacheFileName, cacheKey, canonicalJson, companionsUnchanged, decodeCacheEntry, decodeCacheFile, encodeCacheEntry, sha256File, sha256Hex } from '../../../src/extension/cache-key';
import { estimateSettings, readSettings, type ModelIoChoice } from '../../../src/extension/settings';
import { sampleReport } from './sample-report';

test('sha256Hex and sha256File agree with the known digest', async () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const dir = mkdtempSync(join(tmpdir(), 'll-cache-'));
  try {
    const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
    writeFileSync(join(dir, 'm.bin'), big);
    assert.equal(await sha256File(join(dir, 'm.bin')), sha256Hex(big));
    await assert.rejects(sha256File(join(dir, 'missing.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('canonicalJson sorts keys and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }], e: undefined }), '{"a":[1,{"c":"x"}],"b":1}');
});

test('the key changes with any file content or setting, not with file order or key order', () => {
  const files = [
    { path: 'model.json', sha256: sha256Hex('topology') },
    { path: 'group1-shard1of1.bin', sha256: sha256Hex('weights') },
  ];
  const key = cacheKey(files, DEFAULT_SETTINGS);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(cacheKey([...files].reverse(), DEFAULT_SETTINGS), key);
  assert.equal(cacheKey(files, { method: 'lanczos', seed: 0, maxIter: 300, tol: 1e-4 }), key);
  assert.equal(cacheKey(files, { ...DEFAULT_SETTINGS, threads: 3 }), key, 'the thread count does not change the numbers');
  assert.notEqual(cacheKey([files[0], { ...files[1], sha256: sha256Hex('weights!') }], DEFAULT_SETTINGS), key);
  assert.notEqual(cacheKey(files, { ...DEFAULT_SETTINGS, tol: 1e-5 }), key);
  assert.notEqual(cacheKey(files, { ...DEFAULT_SETTINGS, method: 'power' }), key);
  assert.notEqual(cacheKey(files, { ...DEFAULT_SETTINGS, inputShape: [1, 3, 32, 32] }), key);
  assert.notEqual(cacheKey([files[0]], DEFAULT_SETTINGS), key);
});

test('the signal input, fixed inputs\' shapes and values and the chosen outputs each give their own key', () => {
  const files = [{ path: 'vad.onnx', sha256: sha256Hex('graph') }];
  const settings = readSettings(() => undefined);
  const keyOf = (io: ModelIoChoice | undefined) => cacheKey(files, estimateSettings(settings, undefined, io));
  const choices: (ModelIoChoice | undefined)[] = [
    undefined,
    { input: 'state' },
    { input: 'x' },
    { inputShapes: { state: [2, 1, 128] } },
    { inputShapes: { state: [2, 1, 64] } },
    { inputShapes: { h: [2, 1, 128] } },
    { inputValues: { sr: 16000 } },
    { inputValues: { sr: 8000 } },
    { outputs: ['y'] },
    { outputs: ['y2'] },
    { outputs: ['y', 'y2'] },
    { input: 'x', outputs: ['y'] },
  ];
  const keys = choices.map(keyOf);
  assert.equal(new Set(keys).size, choices.length, 'every choice has its own key');
  // Nothing chosen has one key however it is written, and the order of named entries does not matter.
  assert.equal(keyOf({ input: '', inputShapes: {}, inputValues: {}, outputs: [] }), keys[0]);
  assert.equal(keyOf({ inputShapes: { a: [1], b: [2] } }), keyOf({ inputShapes: { b: [2], a: [1] } }));
  assert.equal(keyOf({ outputs: ['y', 'y'] }), keyOf({ outputs: ['y'] }));
});

test('a bumped engine results version misses the cache: another key, another file, and the old entry refused', () => {
  const files = [{ path: 'm.onnx', sha256: sha256Hex('m') }];
  assert.ok(Number.isInteger(ENGINE_RESULTS_VERSION) && ENGINE_RESULTS_VERSION >= 2, 'above the version the unversioned keys implied');
  const current = cacheKey(files, DEFAULT_SETTINGS);
  assert.equal(cacheKey(files, DEFAULT_SETTINGS, ENGINE_RESULTS_VERSION), current, 'the current version is the default');
  const bumped = cacheKey(files, DEFAULT_SETTINGS, ENGINE_RESULTS_VERSION + 1);
  assert.match(bumped, /^[0-9a-f]{64}$/);
  assert.notEqual(bumped, current);
  // The lookup as the extension does it: the entry's file is named by the key, and its key must match.
  const folder = new Map([[cacheFileName(current), encodeCacheEntry(current, sampleReport())]]);
  const lookup = (key: string) => {
    const text = folder.get(cacheFileName(key));
    return text === undefined ? undefined : decodeCacheEntry(text, key);
  };
  assert.deepEqual(lookup(current), sampleReport(), 'same engine: a hit');
  assert.equal(lookup(bumped), undefined, 'bumped engine: a miss');
  assert.equal(decodeCacheEntry(folder.get(cacheFileName(current))!, bumped), undefined, 'even read by another name, the old entry is refused');
});

test('cache entries round-trip and are refused for another key or a damaged file', () => {
  const key = cacheKey([{ path: 'm.onnx', sha256: sha256Hex('m') }], DEFAULT_SETTINGS);
  const text = encodeCacheEntry(key, sampleReport());
  assert.deepEqual(decodeCacheEntry(text, key), sampleReport());
  assert.equal(decodeCacheEntry(text, 'f'.repeat(64)), undefined);
  assert.equal(decodeCacheEntry(text.slice(0, -2), key), undefined);
  assert.equal(decodeCacheEntry(JSON.stringify({ version: 1, key, report: { layers: 'x' } }), key), undefined);
});

test('an entry carries the hashes of companions outside the key (ONNX external data), and is valid only while they match', () => {
  const key = cacheKey([{ path: 'm.onnx', sha256: sha256Hex('m') }], DEFAULT_SETTINGS);
  const companions = [{ path: 'weights.bin', sha256: sha256Hex('w') }, { path: 'more/w2.bin', sha256: sha256Hex('w2') }];
  const entry = decodeCacheFile(encodeCacheEntry(key, sampleReport(), new Date(0), companions), key);
  assert.deepEqual(entry, { report: sampleReport(), companions });
  assert.deepEqual(decodeCacheFile(encodeCacheEntry(key, sampleReport()), key)?.companions, [], 'no companions: none recorded');
  assert.ok(companionsUnchanged(companions, [...companions]));
  assert.ok(!companionsUnchanged(companions, [companions[0], { path: 'more/w2.bin', sha256: sha256Hex('changed') }]), 'a changed companion');
  assert.ok(!companionsUnchanged(companions, [companions[0]]), 'a missing companion');
  const damaged = JSON.stringify({ version: 1, key, savedAt: '', report: sampleReport(), companions: [{ path: 'weights.bin' }] });
  assert.equal(decodeCacheFile(damaged, key), undefined, 'a companion without a hash makes the entry invalid');
});

test('cache file names are the hex key only', () => {
  const key = 'a'.repeat(64);
  assert.equal(cacheFileName(key), `${key}.json`);
  assert.throws(() => cacheFileName('../../etc/passwd'));
});

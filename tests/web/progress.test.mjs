// progress.js: loaded/total over a simulated load with network chunks, cache
// hits, a restart (Range ignored), a refetch after a hash failure and
// interleaved files: loaded is monotonic, never above total, equal to total
// exactly at the end; layersReady counts layer files; throttling.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LoadProgress, manifestSizes } from '../../web/src/progress.js';

const SHA = '0'.repeat(64);
const MANIFEST = {
  config: { num_hidden_layers: 3 },
  files: [
    { path: 'tokenizer.swt', bytes: 1000, sha256: SHA, role: 'tokenizer' },
    { path: 'embedding.swc', bytes: 5000, sha256: SHA, role: 'embedding' },
    { path: 'layer-000.swc', bytes: 3000, sha256: SHA, role: 'layer', layer: 0 },
    { path: 'layer-001.swc', bytes: 3000, sha256: SHA, role: 'layer', layer: 1 },
    { path: 'layer-002.swc', bytes: 3000, sha256: SHA, role: 'layer', layer: 2 },
  ],
};
const TOTAL = 15000;

function check(events) {
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    assert.equal(e.total, TOTAL);
    assert.equal(e.layers, 3);
    assert.ok(e.loaded >= 0 && e.loaded <= e.total, `event ${i}: loaded ${e.loaded}`);
    if (i > 0) {
      assert.ok(e.loaded >= events[i - 1].loaded, `event ${i}: loaded went back from ${events[i - 1].loaded} to ${e.loaded}`);
      assert.ok(e.layersReady >= events[i - 1].layersReady);
    }
  }
  // once at total, it stays there (only phase events may follow)
  const full = events.findIndex((e) => e.loaded === TOTAL);
  if (full >= 0) assert.ok(events.slice(full).every((e) => e.loaded === TOTAL && e.layersReady === 3));
}

test('manifestSizes sums the files and takes layers from the config', () => {
  const s = manifestSizes(MANIFEST);
  assert.equal(s.total, TOTAL);
  assert.equal(s.layers, 3);
  assert.deepEqual(s.files.get('layer-001.swc'), { bytes: 3000, role: 'layer', layer: 1 });
});

test('a load with cache hits, a restart and a refetch stays consistent', () => {
  const events = [];
  const p = new LoadProgress(MANIFEST, { onProgress: (e) => events.push(e), minStep: 0 });
  p.setPhase('manifest');
  assert.deepEqual(events.at(-1), { loaded: 0, total: TOTAL, layersReady: 0, layers: 3, phase: 'manifest' });

  // the tokenizer and layer 0 come from the cache
  p.bytes('tokenizer.swt', 1000, 'cache');
  p.done('tokenizer.swt', 'cache');
  p.bytes('layer-000.swc', 3000, 'cache');
  assert.equal(p.loaded, 1000 + 2999, 'a file not yet done counts at most size - 1');
  p.done('layer-000.swc', 'cache');
  assert.equal(events.at(-1).phase, 'cache');
  assert.equal(events.at(-1).layersReady, 1);
  assert.equal(events.at(-1).file, 'layer-000.swc');

  // embedding and layer 1 download interleaved
  p.bytes('embedding.swc', 2000);
  p.bytes('layer-001.swc', 1500);
  p.bytes('embedding.swc', 1000);
  assert.equal(events.at(-1).phase, 'download');
  assert.equal(p.loaded, 4000 + 3000 + 1500);
  // the embedding's server ignored a Range: 3000 counted bytes are discarded
  p.bytes('embedding.swc', -3000);
  assert.equal(p.loaded, 4000 + 3000 + 1500, 'a restart does not lower loaded');
  p.bytes('embedding.swc', 2500);
  assert.equal(p.loaded, 8500, 'below the high-water mark nothing moves');
  p.bytes('embedding.swc', 2500); // now 5000 of 5000, not yet verified
  assert.equal(p.loaded, 4000 + 4999 + 1500);
  p.done('embedding.swc');

  p.bytes('layer-001.swc', 1500);
  // layer 1 fails its hash: fetched again from 0
  p.restart('layer-001.swc');
  p.bytes('layer-001.swc', 3000);
  p.done('layer-001.swc');

  // a delta larger than the file is clamped
  p.bytes('layer-002.swc', 99999);
  assert.ok(p.loaded < TOTAL);
  assert.equal(p.complete, false);
  p.done('layer-002.swc');
  assert.equal(p.complete, true);
  assert.equal(p.loaded, TOTAL);
  p.setPhase('init');

  check(events);
  const last = events.at(-1);
  assert.deepEqual(last, { loaded: TOTAL, total: TOTAL, layersReady: 3, layers: 3, phase: 'init' });
  assert.equal(events.filter((e) => e.loaded === TOTAL)[0].file, 'layer-002.swc', '100% is reached by the last file done');
  assert.equal(p.bytesFromCache, 4000);
  assert.equal(p.bytesDownloaded, 11000);
  assert.equal(p.networkBytes, 2000 + 1500 + 1000 + 2500 + 2500 + 1500 + 3000 + 3000, 'clamped to the file size');
  // done twice, bytes after done: no effect
  p.done('layer-002.swc');
  p.bytes('layer-002.swc', 10);
  assert.equal(p.layersReady, 3);
  assert.equal(p.loaded, TOTAL);
});

test('byte events are throttled to minStep; completions always emit', () => {
  const events = [];
  const p = new LoadProgress(MANIFEST, { onProgress: (e) => events.push(e) }); // minStep = 15
  assert.equal(p.minStep, 15);
  for (let i = 0; i < 1000; i++) p.bytes('embedding.swc', 1);
  // 999 countable bytes (size - 1 cap... 1000 < 4999): one event per 15 bytes
  assert.equal(events.length, Math.floor(1000 / 15));
  p.done('tokenizer.swt');
  assert.equal(events.at(-1).file, 'tokenizer.swt');
  check(events);
});

test('every file done in any order ends at exactly total', () => {
  for (let seed = 1; seed <= 20; seed++) {
    let x = seed;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const events = [];
    const p = new LoadProgress(MANIFEST, { onProgress: (e) => events.push(e), minStep: 0 });
    const left = new Map(MANIFEST.files.map((f) => [f.path, f.bytes]));
    while (left.size) {
      const paths = [...left.keys()];
      const path = paths[Math.floor(rnd() * paths.length)];
      const n = Math.min(left.get(path), 1 + Math.floor(rnd() * 1500));
      if (rnd() < 0.05) {
        p.bytes(path, -(MANIFEST.files.find((f) => f.path === path).bytes - left.get(path))); // restart
        left.set(path, MANIFEST.files.find((f) => f.path === path).bytes);
        continue;
      }
      p.bytes(path, n);
      left.set(path, left.get(path) - n);
      if (left.get(path) === 0) {
        p.done(path);
        left.delete(path);
      }
    }
    check(events);
    assert.equal(events.at(-1).loaded, TOTAL);
    assert.equal(events.at(-1).layersReady, 3);
  }
});

test('bad input: unknown file, unknown phase; a throwing onProgress does not break the load', async () => {
  const p = new LoadProgress(MANIFEST, { minStep: 0 });
  assert.throws(() => p.bytes('nope.swc', 1), /progress: nope\.swc is not in the manifest/);
  assert.throws(() => p.setPhase('stream'), /unknown phase stream/);
  const reported = [];
  const saved = globalThis.reportError;
  globalThis.reportError = (e) => reported.push(e);
  try {
    const q = new LoadProgress(MANIFEST, { onProgress: () => { throw new Error('user bug'); }, minStep: 0 });
    q.bytes('tokenizer.swt', 10);
    q.done('tokenizer.swt');
    assert.equal(q.loaded, 1000);
    assert.equal(reported.length, 2);
    assert.equal(reported[0].message, 'user bug');
  } finally {
    if (saved) globalThis.reportError = saved;
    else delete globalThis.reportError;
  }
});

// device.js: detectDevice with real and stubbed globals, the feature probes
// (checked against binaryen's validator when it is installed), and
// chooseTier over a table of devices x models built from the real shapes
// (tools/gen/shapes.c) and q4 sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { PROBES, TIER_RULES, chooseTier, detectDevice, kvBytesPerToken, memoryBudget, modelShape } from '../../web/src/device.js';
import { SmolwebError } from '../../web/src/errors.js';

// ---- models: shapes from tools/gen/shapes.c, sizes of the q4 (embedding q8) chunking

const SHA = 'ab'.repeat(32);
function manifest(name, { hidden, inter, layers, heads, kv, maxPos, totalBytes }) {
  const vocab = 49152;
  const tok = 797512;
  const emb = Math.ceil((vocab * hidden * 34) / 32) + hidden * 4 + 4096; // q8 rows + final norm + header
  const layer = Math.floor((totalBytes - tok - emb) / layers);
  const files = [
    { path: 'tokenizer.swt', bytes: tok, sha256: SHA, role: 'tokenizer' },
    { path: 'embedding.swc', bytes: emb, sha256: SHA, role: 'embedding' },
  ];
  for (let i = 0; i < layers; i++) files.push({ path: `layer-${String(i).padStart(3, '0')}.swc`, bytes: layer, sha256: SHA, role: 'layer', layer: i });
  files[files.length - 1].bytes += totalBytes - tok - emb - layer * layers; // exact total
  return {
    format: 'smolweb-model',
    name,
    config: {
      hidden_size: hidden, intermediate_size: inter, num_hidden_layers: layers, num_attention_heads: heads,
      num_key_value_heads: kv, head_dim: hidden / heads, vocab_size: vocab, max_position_embeddings: maxPos,
    },
    files,
  };
}
const M135 = manifest('SmolLM2-135M-Instruct', { hidden: 576, inter: 1536, layers: 30, heads: 9, kv: 3, maxPos: 8192, totalBytes: 90758152 });
const M360 = manifest('SmolLM2-360M-Instruct', { hidden: 960, inter: 2560, layers: 32, heads: 15, kv: 5, maxPos: 8192, totalBytes: 228e6 });
const M1_7 = manifest('SmolLM2-1.7B-Instruct', { hidden: 2048, inter: 8192, layers: 24, heads: 32, kv: 32, maxPos: 8192, totalBytes: 1014e6 });
const FAKE = manifest('fake-3.8GB', { hidden: 2048, inter: 8192, layers: 24, heads: 32, kv: 32, maxPos: 8192, totalBytes: 3.8e9 });

// ---- devices (what detectDevice reports)
const dev = (memoryGB, cores, threads = true) => ({ memoryGB, cores, wasm: true, simd: true, threads, storageQuota: null, storageUsage: null });
const PHONE = dev(2, 8);
const LAPTOP = dev(8, 8);
const DESKTOP = dev(16, 16);
const NO_MEMORY_INFO = dev(null, 8); // Firefox, Safari

test('the model shapes add up to the given q4 sizes', () => {
  const sum = (m) => m.files.reduce((a, f) => a + f.bytes, 0);
  assert.equal(sum(M135), 90758152);
  assert.equal(sum(M360), 228e6);
  assert.equal(sum(M1_7), 1014e6);
  assert.equal(sum(FAKE), 3.8e9);
  assert.equal(modelShape(M135).weightBytes, 90758152);
});

test('KV cache bytes per token (f32: 2 * layers * kv_heads * head_dim * 4)', () => {
  assert.equal(kvBytesPerToken(modelShape(M135)), 2 * 30 * 3 * 64 * 4); // 46080
  assert.equal(kvBytesPerToken(modelShape(M360)), 2 * 32 * 5 * 64 * 4); // 81920
  assert.equal(kvBytesPerToken(modelShape(M1_7)), 2 * 24 * 32 * 64 * 4); // 393216
  assert.equal(kvBytesPerToken(modelShape(M1_7), 'f16'), 2 * 24 * 32 * 64 * 2);
});

test('memory budgets: half the device less 256 MiB; unknown memory assumed 4 GB', () => {
  const MiB = 2 ** 20;
  assert.equal(memoryBudget(PHONE).bytes, 768 * MiB);
  assert.equal(memoryBudget(LAPTOP).bytes, 3840 * MiB);
  assert.equal(memoryBudget(DESKTOP).bytes, 7936 * MiB);
  assert.equal(memoryBudget(NO_MEMORY_INFO).bytes, 1792 * MiB);
  assert.equal(memoryBudget(NO_MEMORY_INFO).known, false);
  assert.equal(TIER_RULES.wasmCapBytes, 3.5 * 2 ** 30);
});

// [device name, device, model, expected {tier, contextLength, threads} or 'too large: <text in message>']
const TABLE = [
  ['phone 2 GB', PHONE, M135, { tier: 'full', contextLength: 8192, threads: 4 }],
  // 8192 tokens of f32 KV (671 MB) + 228 MB weights exceed the 805 MB budget
  ['phone 2 GB', PHONE, M360, { tier: 'reduced', contextLength: 4096, threads: 2 }],
  ['phone 2 GB', PHONE, M1_7, 'too large: 1.01 GB + a 512-token f32 KV cache 201.3 MB + scratch and overhead need 1.40 GB, over this device\'s 805.3 MB budget'],
  ['phone 2 GB', PHONE, FAKE, 'too large: over the 3.76 GB (3.5 GiB) a wasm32 page can use'],
  ['laptop 8 GB', LAPTOP, M135, { tier: 'full', contextLength: 8192, threads: 4 }],
  ['laptop 8 GB', LAPTOP, M360, { tier: 'full', contextLength: 8192, threads: 4 }],
  // 8192 tokens of KV = 3.2 GB: over wasm32 and over the 4.03 GB budget
  ['laptop 8 GB', LAPTOP, M1_7, { tier: 'reduced', contextLength: 4096, threads: 2 }],
  ['laptop 8 GB', LAPTOP, FAKE, 'too large: over the 3.76 GB (3.5 GiB) a wasm32 page can use'],
  ['desktop 16 GB', DESKTOP, M135, { tier: 'full', contextLength: 8192, threads: 4 }],
  ['desktop 16 GB', DESKTOP, M360, { tier: 'full', contextLength: 8192, threads: 4 }],
  // only wasm32 binds here, so the threads stay
  ['desktop 16 GB', DESKTOP, M1_7, { tier: 'reduced', contextLength: 4096, threads: 4 }],
  ['desktop 16 GB', DESKTOP, FAKE, 'too large: over the 3.76 GB (3.5 GiB) a wasm32 page can use'],
  ['no deviceMemory', NO_MEMORY_INFO, M135, { tier: 'full', contextLength: 8192, threads: 4 }],
  ['no deviceMemory', NO_MEMORY_INFO, M360, { tier: 'full', contextLength: 8192, threads: 4 }],
  ['no deviceMemory', NO_MEMORY_INFO, M1_7, { tier: 'reduced', contextLength: 1024, threads: 2 }],
  ['no deviceMemory', NO_MEMORY_INFO, FAKE, 'too large: over the 3.76 GB (3.5 GiB) a wasm32 page can use'],
];

for (const [dname, device, m, want] of TABLE) {
  test(`chooseTier: ${dname}, ${m.name}`, () => {
    if (typeof want === 'string') {
      assert.throws(
        () => chooseTier(device, m),
        (e) => {
          assert.ok(e instanceof SmolwebError);
          assert.equal(e.code, 'MODEL_TOO_LARGE');
          assert.ok(e.message.startsWith(`${m.name} is too large: weights `), e.message);
          assert.ok(e.message.includes(want.slice('too large: '.length)), e.message);
          return true;
        },
      );
      return;
    }
    const r = chooseTier(device, m);
    assert.deepEqual({ tier: r.tier, contextLength: r.contextLength, threads: r.threads }, want, r.reason);
    assert.equal(r.kvType, 'f32');
    assert.ok(r.memory.heap <= r.memory.wasmCap && r.memory.device <= r.memory.budget);
    assert.equal(r.memory.kv, r.contextLength * kvBytesPerToken(modelShape(m)));
    assert.ok(r.reason.startsWith(`${r.tier}: ${r.contextLength}-token context`), r.reason);
  });
}

test('chooseTier: the reason names the sizes and the limit', () => {
  const r = chooseTier(PHONE, M360);
  assert.equal(
    r.reason,
    'reduced: 4096-token context (8192 tokens would need 1.02 GB, over the budget); needs 684.0 MB (weights 228.0 MB, ' +
      'f32 KV cache 335.5 MB, scratch, overhead, a download buffer) of a 805.3 MB budget (half of 2 GB device memory less 256 MiB); 2 threads',
  );
  assert.match(chooseTier(DESKTOP, M1_7).reason, /8192 tokens would need 4\.31 GB of wasm memory, over the 3\.76 GB \(3\.5 GiB\) a wasm32 page can use/);
});

test('chooseTier: one thread without wasm threads; min(cores, 4) with them', () => {
  assert.equal(chooseTier(dev(8, 8, false), M135).threads, 1);
  assert.match(chooseTier(dev(8, 8, false), M135).reason, /1 thread \(no wasm threads here\)$/);
  assert.equal(chooseTier(dev(8, 2), M135).threads, 2);
  assert.equal(chooseTier(dev(8, null), M135).threads, 2, 'unknown core count: 2');
  assert.equal(chooseTier(dev(8, 8), M135, { threads: 6 }).threads, 6);
  assert.equal(chooseTier(PHONE, M360, { threads: 3 }).threads, 3, 'an explicit count is not halved by the reduced tier');
  assert.equal(chooseTier(dev(8, 8, false), M135, { threads: 6 }).threads, 1);
  assert.throws(() => chooseTier(LAPTOP, M135, { threads: 0 }), TypeError);
});

test('chooseTier: options (forced tier, f16 KV, context cap)', () => {
  const red = chooseTier(DESKTOP, M135, { tier: 'reduced' });
  assert.deepEqual([red.tier, red.contextLength, red.threads], ['reduced', 4096, 2]);
  // a forced full tier must still fit
  assert.throws(() => chooseTier(LAPTOP, M1_7, { tier: 'full' }), (e) => e.code === 'MODEL_TOO_LARGE' && /8192-token f32 KV cache/.test(e.message));
  // f16 KV halves the cache: 1.7B gets its whole context on a 16 GB desktop
  const f16 = chooseTier(DESKTOP, M1_7, { kvType: 'f16' });
  assert.deepEqual([f16.tier, f16.contextLength, f16.kvType], ['full', 8192, 'f16']);
  // a caller's context length caps the full tier (e.g. the benchmark's 1024)
  const c = chooseTier(PHONE, M360, { contextLength: 1024 });
  assert.deepEqual([c.tier, c.contextLength, c.threads], ['full', 1024, 4]);
  assert.throws(() => chooseTier(PHONE, M135, { tier: 'stream' }), TypeError);
  assert.throws(() => chooseTier(PHONE, M135, { kvType: 'q8' }), TypeError);
});

test('chooseTier is pure: same answer, inputs untouched', () => {
  const before = JSON.stringify([LAPTOP, M1_7]);
  const a = chooseTier(LAPTOP, M1_7);
  const b = chooseTier(LAPTOP, M1_7);
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify([LAPTOP, M1_7]), before);
});

test('chooseTier: a manifest without the sizes it needs is BAD_MANIFEST', () => {
  const noLayers = structuredClone(M135);
  delete noLayers.config.num_hidden_layers;
  assert.throws(() => chooseTier(LAPTOP, noLayers), (e) => e.code === 'BAD_MANIFEST' && e.message === 'manifest.json: config.num_hidden_layers must be a positive integer (got undefined)');
  const badBytes = structuredClone(M135);
  badBytes.files[3].bytes = -1;
  assert.throws(() => chooseTier(LAPTOP, badBytes), (e) => e.code === 'BAD_MANIFEST' && e.message === 'manifest.json: files[3].bytes must be a positive integer (got -1)');
  assert.throws(() => chooseTier(LAPTOP, null), (e) => e.code === 'BAD_MANIFEST');
  assert.throws(() => chooseTier(LAPTOP, { config: M135.config, files: [] }), (e) => e.code === 'BAD_MANIFEST' && /no files array/.test(e.message));
});

test('chooseTier on the example manifest (manifest/examples/smollm2-135m-q4.json)', () => {
  const src = process.env.SMOLWEB_SRC || path.resolve(new URL('../..', import.meta.url).pathname);
  const m = JSON.parse(fs.readFileSync(path.join(src, 'manifest/examples/smollm2-135m-q4.json'), 'utf8'));
  const r = chooseTier(PHONE, m);
  assert.deepEqual([r.tier, r.contextLength], ['full', 8192]);
  assert.equal(r.memory.weights, m.total_bytes);
});

// ---- detection

test('detectDevice in Node: wasm, SIMD and threads are there, no deviceMemory', async () => {
  const d = await detectDevice();
  assert.equal(d.wasm, true);
  assert.equal(d.simd, true, 'V8 in Node 18+ has wasm SIMD');
  assert.equal(d.threads, true, 'Node has SharedArrayBuffer and no cross-origin isolation rule');
  assert.equal(d.crossOriginIsolated, null);
  assert.ok(d.cores === null || d.cores >= 1);
  for (const k of ['memoryGB', 'storageQuota', 'storageUsage']) assert.ok(d[k] === null || typeof d[k] === 'number', k);
});

test('detectDevice with a browser-like environment', async () => {
  const env = {
    navigator: { deviceMemory: 4, hardwareConcurrency: 6, storage: { estimate: async () => ({ quota: 2e9, usage: 5e6 }) } },
    WebAssembly,
    SharedArrayBuffer,
    crossOriginIsolated: true,
  };
  assert.deepEqual(await detectDevice(env), {
    memoryGB: 4, cores: 6, wasm: true, simd: true, threads: true, crossOriginIsolated: true, storageQuota: 2e9, storageUsage: 5e6,
  });
  // not cross-origin isolated: no threads, even where SharedArrayBuffer exists
  const notIsolated = await detectDevice({ ...env, crossOriginIsolated: false });
  assert.equal(notIsolated.threads, false);
  assert.equal(notIsolated.crossOriginIsolated, false);
  // no SharedArrayBuffer (what Chromium does without COOP/COEP)
  assert.equal((await detectDevice({ ...env, SharedArrayBuffer: undefined })).threads, false);
  // Firefox/Safari: no deviceMemory; storage estimate refused
  const ff = await detectDevice({ ...env, navigator: { hardwareConcurrency: 4, storage: { estimate: async () => { throw new Error('no'); } } } });
  assert.equal(ff.memoryGB, null);
  assert.equal(ff.storageQuota, null);
  assert.equal(ff.storageUsage, null);
  // an engine without SIMD or threads: validate says no to the probes
  const validate = (b) => b !== PROBES.simd && b !== PROBES.threads;
  const old = await detectDevice({ ...env, WebAssembly: { validate, Memory: WebAssembly.Memory } });
  assert.equal(old.simd, false);
  assert.equal(old.threads, false);
  // no WebAssembly at all; no navigator (a strange worker)
  const none = await detectDevice({});
  assert.deepEqual(none, { memoryGB: null, cores: null, wasm: false, simd: false, threads: false, crossOriginIsolated: null, storageQuota: null, storageUsage: null });
});

test('the probes validate, and stop validating when their feature opcode is broken', () => {
  assert.ok(WebAssembly.validate(PROBES.simd));
  assert.ok(WebAssembly.validate(PROBES.threads));
  const simd = PROBES.simd.slice();
  simd[simd.indexOf(0xfd) + 1] = 0x7f; // no such SIMD opcode
  assert.ok(!WebAssembly.validate(simd));
  const thr = PROBES.threads.slice();
  thr[thr.indexOf(0xfe) + 1] = 0x7f; // no such atomic opcode
  assert.ok(!WebAssembly.validate(thr));
});

// binaryen (Debian's binaryen package) as an independent validator: the probes
// are refused with only MVP features and accepted with their feature enabled.
const wasmOpt = spawnSync('wasm-opt', ['--version']).status === 0;
test('binaryen: the SIMD probe needs SIMD, the threads probe needs threads', { skip: !wasmOpt && 'wasm-opt not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-probes-'));
  try {
    for (const [name, feature] of [['simd', '--enable-simd'], ['threads', '--enable-threads']]) {
      const f = path.join(dir, `${name}.wasm`);
      fs.writeFileSync(f, PROBES[name]);
      assert.notEqual(spawnSync('wasm-opt', ['--mvp-features', f, '-o', path.join(dir, 'out.wasm')]).status, 0, `${name} probe valid without ${feature}`);
      assert.equal(spawnSync('wasm-opt', ['--mvp-features', feature, f, '-o', path.join(dir, 'out.wasm')]).status, 0, `${name} probe invalid with ${feature}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

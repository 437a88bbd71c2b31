// cache_test.mjs: web/src/cache.js in headless Chromium (the Cache API is not
// in Node 18), plus what else needs a browser from the pure modules:
// device.js and chat.js in a page and a module worker.
//   node tests/browser/cache_test.mjs        (tests/test_web_cache.sh runs it)
// Checks, each printed as "ok - ..." (the first failure exits 1):
//   put/get round trip (bytes, headers), keys by URL + SHA-256, a 3 MiB
//   chunk streamed in slices, a view of a SharedArrayBuffer, a getter; an
//   interrupted put leaves no entry; remove; manifests: listModels (name,
//   params, quant, total/cached bytes, complete), getManifest, deleteModel
//   (every version of its files, not another model's); a QuotaExceededError
//   from Cache.put becomes SmolwebError QUOTA and stores nothing; checkQuota,
//   requestPersist; cache.js and detectDevice in a module worker; SIMD and
//   threads detected with COOP/COEP, no threads without; chat.js in the page
//   through the import map renders SmolLM2's template exactly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const ROOT = process.env.SMOLWEB_SRC || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = process.env.SMOLWEB_SHARED || path.resolve(ROOT, '../shared');
const mounts = {
  '/': path.join(ROOT, 'tests/browser/web_page'),
  '/src/': path.join(ROOT, 'web/src'),
  '/vendor/jinja/': path.join(ROOT, 'node_modules/@huggingface/jinja/dist'),
};
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(SHARED, 'models/smollm2-135m-instruct/tokenizer_config.json'), 'utf8'));

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

let failed = false;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed = true;
    console.log(`not ok - ${name}\n${e && e.stack}`);
  }
}

const srv = await serve({ mounts, coi: true });
const plain = await serve({ mounts, coi: false });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${srv.url}/`);

  await check('put/get round trip, keyed by URL + SHA-256', async () => {
    const r = await page.evaluate(async ([SHA_A, SHA_B]) => {
      const { openCache, chunkKey } = await import('/src/cache.js');
      const c = await openCache();
      const url = `${location.origin}/models/m/layer-000.swc`;
      const bytes = new Uint8Array(1000).map((_, i) => i & 255);
      await c.put(url, SHA_A, bytes);
      const res = await c.get(url, SHA_A);
      const back = new Uint8Array(await res.arrayBuffer());
      const keys = (await (await caches.open('smolweb-v1')).keys()).map((k) => k.url);
      return {
        same: back.length === 1000 && back.every((b, i) => b === (i & 255)),
        type: res.headers.get('Content-Type'),
        sha: res.headers.get('X-Smolweb-Sha256'),
        otherSha: await c.get(url, SHA_B),
        otherUrl: await c.get(`${location.origin}/models/m/layer-001.swc`, SHA_A),
        keys,
        key: chunkKey(url, SHA_A),
      };
    }, [SHA_A, SHA_B]);
    assert.ok(r.same);
    assert.equal(r.type, 'application/octet-stream');
    assert.equal(r.sha, SHA_A);
    assert.equal(r.otherSha, null);
    assert.equal(r.otherUrl, null);
    assert.equal(r.key, `${srv.url}/models/m/layer-000.swc?smolweb-sha256=${SHA_A}`);
    assert.deepEqual(r.keys, [r.key]);
  });

  await check('a 3 MiB chunk, a SharedArrayBuffer view and a getter all store exactly', async () => {
    const r = await page.evaluate(async (SHA_A) => {
      const { openCache } = await import('/src/cache.js');
      const c = await openCache();
      const n = 3 * 1024 * 1024 + 17;
      const fill = (u8) => { for (let i = 0; i < u8.length; i++) u8[i] = (i * 31 + (i >> 12)) & 255; return u8; };
      const plainBytes = fill(new Uint8Array(n));
      const shared = fill(new Uint8Array(new SharedArrayBuffer(n)));
      const out = {};
      const read = async (u) => new Uint8Array(await (await c.get(u, SHA_A)).arrayBuffer());
      const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
      await c.put(`${location.origin}/m/big.swc`, SHA_A, plainBytes);
      out.big = eq(await read(`${location.origin}/m/big.swc`), plainBytes);
      await c.put(`${location.origin}/m/shared.swc`, SHA_A, shared);
      out.shared = eq(await read(`${location.origin}/m/shared.swc`), plainBytes);
      let calls = 0;
      await c.put(`${location.origin}/m/getter.swc`, SHA_A, () => { calls++; return shared; });
      out.getter = eq(await read(`${location.origin}/m/getter.swc`), plainBytes);
      out.getterCalls = calls;
      out.isolated = crossOriginIsolated;
      for (const f of ['big', 'shared', 'getter']) await c.remove(`${location.origin}/m/${f}.swc`, SHA_A);
      return out;
    }, SHA_A);
    assert.deepEqual(r, { big: true, shared: true, getter: true, getterCalls: 1 + 4, isolated: true });
  });

  await check('an interrupted put leaves no entry', async () => {
    const r = await page.evaluate(async (SHA_A) => {
      const { openCache } = await import('/src/cache.js');
      const c = await openCache();
      const url = `${location.origin}/m/broken.swc`;
      const bytes = new Uint8Array(3 * 1024 * 1024);
      let calls = 0;
      let error = null;
      try {
        await c.put(url, SHA_A, () => {
          if (++calls === 3) throw new Error('heap went away');
          return bytes;
        });
      } catch (e) {
        error = e.message;
      }
      return { error, stored: await c.get(url, SHA_A) };
    }, SHA_A);
    assert.equal(r.error, 'heap went away');
    assert.equal(r.stored, null);
  });

  await check('remove', async () => {
    const r = await page.evaluate(async (SHA_A) => {
      const { openCache } = await import('/src/cache.js');
      const c = await openCache();
      const url = `${location.origin}/models/m/layer-000.swc`;
      const first = await c.remove(url, SHA_A);
      return { first, second: await c.remove(url, SHA_A), after: await c.get(url, SHA_A) };
    }, SHA_A);
    assert.deepEqual(r, { first: true, second: false, after: null });
  });

  await check('manifests: listModels, getManifest, deleteModel', async () => {
    const r = await page.evaluate(async ([SHA_A, SHA_B]) => {
      const { openCache } = await import('/src/cache.js');
      const c = await openCache();
      const base = `${location.origin}/models/`;
      const manifest = (name, dir) => ({
        format: 'smolweb-model', name, params: 1234, quantization: { weights: 'q4', embedding: 'q8', group_size: 32 },
        config: {},
        files: [
          { path: 'tokenizer.swt', bytes: 10, sha256: SHA_A, role: 'tokenizer' },
          { path: 'embedding.swc', bytes: 20, sha256: SHA_A, role: 'embedding' },
          { path: 'layer-000.swc', bytes: 30, sha256: SHA_A, role: 'layer', layer: 0 },
        ],
      });
      const one = `${base}one/manifest.json`;
      const two = `${base}two/manifest.json`;
      await c.putManifest(one, JSON.stringify(manifest('One', 'one')));
      await c.putManifest(two, JSON.stringify(manifest('Two', 'two')));
      await c.put(`${base}one/tokenizer.swt`, SHA_A, new Uint8Array(10));
      await c.put(`${base}one/embedding.swc`, SHA_A, new Uint8Array(20));
      await c.put(`${base}one/embedding.swc`, SHA_B, new Uint8Array(20)); // a stale version
      for (const f of ['tokenizer.swt', 'embedding.swc', 'layer-000.swc']) await c.put(`${base}two/${f}`, SHA_A, new Uint8Array(5));
      const strip = (l) => l.map(({ storedAt, ...m }) => ({ ...m, hasDate: typeof storedAt === 'string' })).sort((a, b) => a.name.localeCompare(b.name));
      const before = strip(await c.listModels());
      const text = await c.getManifest(one);
      const missing = await c.getManifest(`${base}three/manifest.json`);
      const deleted = await c.deleteModel(one);
      const after = strip(await c.listModels());
      const keys = (await (await caches.open('smolweb-v1')).keys()).map((k) => k.url.slice(location.origin.length)).sort();
      await c.deleteModel(two);
      const empty = (await (await caches.open('smolweb-v1')).keys()).length;
      return { before, textName: JSON.parse(text).name, missing, deleted, after, keys, empty };
    }, [SHA_A, SHA_B]);
    const base = `${srv.url}/models/`;
    const entry = (name, dir, cachedBytes, cachedFiles) => ({
      manifestUrl: `${base}${dir}/manifest.json`, name, params: 1234, quant: 'q4', totalBytes: 60, cachedBytes, files: 3, cachedFiles,
      complete: cachedFiles === 3, hasDate: true,
    });
    assert.deepEqual(r.before, [entry('One', 'one', 30, 2), entry('Two', 'two', 60, 3)]);
    assert.equal(r.textName, 'One');
    assert.equal(r.missing, null);
    assert.deepEqual(r.deleted, { files: 3, bytes: 30 }, 'both versions of embedding.swc went');
    assert.deepEqual(r.after, [entry('Two', 'two', 60, 3)]);
    assert.deepEqual(r.keys, [
      '/models/two/embedding.swc?smolweb-sha256=' + SHA_A,
      '/models/two/layer-000.swc?smolweb-sha256=' + SHA_A,
      '/models/two/manifest.json?smolweb-manifest=1',
      '/models/two/tokenizer.swt?smolweb-sha256=' + SHA_A,
    ]);
    assert.equal(r.empty, 0);
  });

  await check('QuotaExceededError from Cache.put becomes QUOTA, and nothing is stored', async () => {
    const r = await page.evaluate(async (SHA_A) => {
      const { openCache } = await import('/src/cache.js');
      const { SmolwebError } = await import('/src/errors.js');
      const c = await openCache();
      const url = `${location.origin}/models/q/layer-000.swc`;
      const real = Cache.prototype.put;
      Cache.prototype.put = async function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
      let err = null;
      let manifestErr = null;
      try {
        await c.put(url, SHA_A, new Uint8Array(4096));
      } catch (e) {
        err = { isSmolweb: e instanceof SmolwebError, code: e.code, message: e.message, cause: e.cause && e.cause.name, file: e.file };
      }
      try {
        await c.putManifest(`${location.origin}/models/q/manifest.json`, '{}');
      } catch (e) {
        manifestErr = e.code;
      } finally {
        Cache.prototype.put = real;
      }
      return { err, manifestErr, stored: await c.get(url, SHA_A) };
    }, SHA_A);
    assert.deepEqual(r.err, {
      isSmolweb: true,
      code: 'QUOTA',
      message: `${srv.url}/models/q/layer-000.swc: storage quota exceeded while caching 4096 bytes; the model runs from memory and will download again next time`,
      cause: 'QuotaExceededError',
      file: `${srv.url}/models/q/layer-000.swc`,
    });
    assert.equal(r.manifestErr, 'QUOTA');
    assert.equal(r.stored, null);
  });

  await check('checkQuota and requestPersist', async () => {
    const r = await page.evaluate(async () => {
      const { checkQuota, requestPersist } = await import('/src/cache.js');
      return { small: await checkQuota(1000), huge: await checkQuota(Number.MAX_SAFE_INTEGER), persist: await requestPersist() };
    });
    assert.equal(r.small.ok, true);
    assert.ok(r.small.quota > 0 && r.small.available > 1000 && r.small.usage >= 0, JSON.stringify(r.small));
    assert.equal(r.huge.ok, false);
    assert.equal(typeof r.persist, 'boolean');
  });

  await check('detectDevice in a cross-origin isolated page: SIMD and threads', async () => {
    const d = await page.evaluate(async () => (await import('/src/device.js')).detectDevice());
    assert.equal(d.wasm, true);
    assert.equal(d.simd, true);
    assert.equal(d.threads, true);
    assert.equal(d.crossOriginIsolated, true);
    assert.ok(typeof d.memoryGB === 'number' && d.memoryGB > 0, `deviceMemory ${d.memoryGB}`);
    assert.ok(d.cores >= 1);
    assert.ok(d.storageQuota > 0);
  });

  await check('cache.js and detectDevice in a module worker', async () => {
    const r = await page.evaluate(
      (SHA_A) =>
        new Promise((resolve, reject) => {
          const w = new Worker('/worker.mjs', { type: 'module' });
          w.onmessage = (e) => {
            resolve(e.data);
            w.terminate();
          };
          w.onerror = (e) => reject(new Error(e.message || 'worker failed'));
          w.postMessage({ sha: SHA_A });
        }),
      SHA_A,
    );
    assert.deepEqual(r.cache, { ok: true });
    assert.equal(r.device.ok, true);
    assert.equal(r.device.value.threads, true);
    assert.equal(r.device.value.simd, true);
    // what the import map does (not) do for a worker: printed, not asserted
    console.log(`# a module worker importing '@huggingface/jinja' with the page's import map: ${r.jinja.ok ? 'resolved' : `failed (${r.jinja.error})`}`);
  });

  await check('chat.js in the page: @huggingface/jinja through the import map', async () => {
    const text = await page.evaluate(async (template) => {
      const { renderChat } = await import('/src/chat.js');
      return renderChat(template, [{ role: 'user', content: 'Hi' }]);
    }, tokenizerConfig.chat_template);
    assert.equal(
      text,
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  await check('without COOP/COEP: no threads', async () => {
    const p2 = await browser.context.newPage();
    await p2.goto(`${plain.url}/`);
    const d = await p2.evaluate(async () => (await import('/src/device.js')).detectDevice());
    assert.equal(d.crossOriginIsolated, false);
    assert.equal(d.threads, false);
    assert.equal(d.simd, true);
    await p2.close();
  });
} finally {
  await browser.close();
  await srv.close();
  await plain.close();
}
if (failed) process.exit(1);
console.log('cache_test: ok');

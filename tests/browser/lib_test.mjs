// lib_test.mjs: the public JavaScript API (web/src/index.js) in headless
// Chromium against a tiny random-weight model made by the native tools.
//
//   node tests/browser/lib_test.mjs WORK PROMPT
//     WORK/models/tiny   the model (q4), WORK/ids.json native greedy ids
//
// Checks (each prints ok/FAIL): load with monotonic progress ending at
// loaded == total; greedy ids and text equal native smolweb-run's; chat
// messages give the native --chat ids; a stop string; a second load served
// from the cache with zero chunk requests; abort during generation (model
// usable after, KV prefix reused); BUSY; errors: manifest 404, chunk 404,
// chunk 500, a connection dropped mid-chunk, a corrupted chunk (INTEGRITY,
// nothing cached), a truncated chunk, a manifest failing validation, a model
// too large for the device (refused before any chunk request), abort during
// download (finished
// chunks stay cached, the rest load on the next visit); threads on (COOP/COEP,
// 2 threads, the SIMD+threads build) and off (the SIMD build, 1 thread).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { serve } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { checker } from '../checks.mjs';

const [work, prompt] = process.argv.slice(2);
const SRC = process.cwd();
const BUILD = process.env.SMOLWEB_BUILD;
const models = path.join(work, 'models');
const nativeIds = JSON.parse(fs.readFileSync(path.join(work, 'ids.json'), 'utf8'));
const N = nativeIds.length;
const t0 = Date.now();

const checks = checker();
const { check } = checks;
const same = (a, b) => Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
const native = (args) => execFileSync(path.join(BUILD, 'smolweb-run'), args, { encoding: 'utf8' });

// ---- model copies for the error paths ----
function copyModel(name, edit) {
  const dir = path.join(models, name);
  fs.cpSync(path.join(models, 'tiny'), dir, { recursive: true });
  edit(dir);
}
copyModel('corrupt', (d) => {
  const f = path.join(d, 'layer-002.swc');
  const b = fs.readFileSync(f);
  b[b.length - 100] ^= 1;
  fs.writeFileSync(f, b);
});
copyModel('badmanifest', (d) => {
  const f = path.join(d, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  m.config.num_attention_heads = 5; // hidden 64 is not a multiple of 5 heads: the C validator refuses it
  fs.writeFileSync(f, JSON.stringify(m));
});
copyModel('huge', (d) => {
  const f = path.join(d, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  for (const file of m.files) if (file.role === 'layer') file.bytes = 1.2e9;
  m.total_bytes = m.files.reduce((a, x) => a + x.bytes, 0);
  fs.writeFileSync(f, JSON.stringify(m));
});
const manifest = JSON.parse(fs.readFileSync(path.join(models, 'tiny', 'manifest.json'), 'utf8'));
const chunkPaths = manifest.files.map((f) => f.path);
const nativeChatIds = JSON.parse(
  native([path.join(models, 'tiny'), '--chat', '--prompt', 'Hi there!', '-n', '8', '--temperature', '0', '--ignore-eos', '--ids-out']),
);
// smolweb-run ends its text with a newline of its own
const nativeText = native([path.join(models, 'tiny'), '--prompt', prompt, '-n', String(N), '--temperature', '0', '--ignore-eos']).replace(/\n$/, '');

const mounts = { '/': SRC, '/models/': models };
const coi = await serve({ mounts, coi: true });
const plain = await serve({ mounts, coi: false });
const { context, close } = await launchChromium();
const chunkRequests = (srv, model) =>
  [...srv.requests.entries()].filter(([p]) => p.startsWith(`/models/${model}/`) && !p.endsWith('manifest.json')).reduce((a, [, n]) => a + n, 0);

async function openPage(srv) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  page.on('crash', () => console.log('page crashed'));
  page.on('console', (m) => m.type() === 'error' && console.log(`console: ${m.text()}`));
  await page.goto(`${srv.url}/tests/browser/lib_page/index.html`);
  await page.waitForFunction(() => window.smolwebReady === true, null, { timeout: 20000 });
  return page;
}

// Runs fn(smolweb, arg) in the page; returns its result or { error: {name, code, message} }.
async function inPage(page, fn, arg) {
  return page.evaluate(
    async ([src, a]) => {
      const f = new Function(`return (${src})`)();
      try {
        return await f(window.smolweb, a);
      } catch (e) {
        return { error: { name: e.name, code: e.code, message: e.message, lastRun: e.lastRun || null } };
      }
    },
    [fn.toString(), arg],
  );
}

// load + greedy generation, with progress events recorded
const loadAndGenerate = async (sw, { url, prompt, n, threads }) => {
  const events = [];
  const model = await sw.loadModel(url, { onProgress: (p) => events.push(p), threads });
  const stream = model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens: n, ignoreEos: true });
  const pieces = [];
  for await (const piece of stream) pieces.push(piece);
  const out = { info: model.info, events, pieces, lastRun: model.lastRun };
  window.keep = model;
  return out;
};

try {
  // ---- load, progress, greedy ids (threads on: COOP/COEP, 2 threads) ----
  let page = await openPage(coi);
  const tinyUrl = '/models/tiny/manifest.json';
  let r = await inPage(page, loadAndGenerate, { url: tinyUrl, prompt, n: N, threads: 2 });
  check(!r.error, 'threads build: load and generate', r.error && JSON.stringify(r.error));
  if (!r.error) {
    const ev = r.events;
    const last = ev[ev.length - 1];
    check(ev.every((e, i) => i === 0 || e.loaded >= ev[i - 1].loaded), 'progress: loaded never goes back', `${ev.length} events`);
    check(last.loaded === last.total && last.total === manifest.total_bytes, 'progress: ends at loaded == total == manifest total', `${last.loaded}/${last.total}`);
    check(ev.some((e) => e.layersReady > 0 && e.layersReady < e.layers), 'progress: layers become ready one by one');
    check(r.info.threads === 2 && r.info.variant === 'simd-threads' && r.info.simd, 'threads on: SIMD+threads build with 2 threads', JSON.stringify({ t: r.info.threads, v: r.info.variant }));
    check(same(r.lastRun.ids, nativeIds), 'threads on: greedy ids equal native smolweb-run', `${JSON.stringify(r.lastRun.ids)} vs ${JSON.stringify(nativeIds)}`);
    check(r.pieces.join('') === nativeText, 'threads on: streamed text equals native', JSON.stringify(r.pieces.join('').slice(0, 60)));
    check(r.pieces.length > 1, 'text streamed in pieces', `${r.pieces.length} pieces`);
    check(r.lastRun.finishReason === 'length' && r.lastRun.promptTokens > 0 && r.lastRun.ttftMs > 0 && r.lastRun.decodeTps > 0, 'lastRun figures', JSON.stringify({ ...r.lastRun, ids: undefined }));
    check(r.info.bytesDownloaded === manifest.total_bytes && r.info.bytesFromCache === 0, 'first visit: every byte from the network');
  }

  // ---- an f16 KV cache (kvType): native --kv-f16's greedy ids ----
  {
    const nativeF16 = JSON.parse(native([path.join(models, 'tiny'), '--prompt', prompt, '-n', String(N), '--temperature', '0', '--ignore-eos', '--ids-out', '--kv-f16']));
    const f = await inPage(page, async (sw, { url, prompt, n }) => {
      const model = await sw.loadModel(url, { threads: 2, kvType: 'f16' });
      const stream = model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens: n, ignoreEos: true });
      for await (const piece of stream) void piece; // ids come from lastRun once the stream ends
      const out = { kvType: model.info.kvType, threads: model.info.threads, ids: model.lastRun.ids };
      await model.dispose();
      return out;
    }, { url: tinyUrl, prompt, n: N });
    check(!f.error && f.kvType === 'f16' && f.threads === 2 && same(f.ids, nativeF16), 'kvType f16: greedy ids equal native smolweb-run --kv-f16',
      f.error ? JSON.stringify(f.error) : `${JSON.stringify(f.ids)} vs ${JSON.stringify(nativeF16)}`);
    check(!r.error && r.info.kvType === 'f32', 'default KV cache: f32', r.info && r.info.kvType);
  }

  // ---- chat messages, stop string, BUSY, abort during generation ----
  r = await inPage(page, async () => {
    const model = window.keep;
    const read = async (s) => {
      const out = [];
      for await (const p of s) out.push(p);
      return out.join('');
    };
    const res = {};
    await read(model.generate([{ role: 'user', content: 'Hi there!' }], { temperature: 0, repeatPenalty: 1, maxTokens: 8, ignoreEos: true }));
    res.chatIds = model.lastRun.ids;
    // BUSY: a second generate while one runs
    const s1 = model.generate('Hello', { maxTokens: 4, temperature: 0 });
    try {
      model.generate('Hello again', { maxTokens: 4 });
      res.busy = 'no error';
    } catch (e) {
      res.busy = e.code;
    }
    await read(s1);
    return res;
  });
  check(!r.error && same(r.chatIds, nativeChatIds), 'chat messages: ids equal native --chat (jinja template == C ChatML renderer)', r.error ? JSON.stringify(r.error) : `${JSON.stringify(r.chatIds)} vs ${JSON.stringify(nativeChatIds)}`);
  check(!r.error && r.busy === 'BUSY', 'a second generate while one runs: BUSY', r.busy);

  r = await inPage(page, async (sw, { prompt, stop }) => {
    const model = window.keep;
    const pieces = [];
    for await (const p of model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens: 24, ignoreEos: true, stop: [stop] })) pieces.push(p);
    return { text: pieces.join(''), lastRun: model.lastRun };
  }, { prompt, stop: nativeText.slice(5, 9) });
  const stopAt = nativeText.indexOf(nativeText.slice(5, 9));
  check(!r.error && r.text === nativeText.slice(0, stopAt) && r.lastRun.finishReason === 'stop', 'stop string: text ends before it, finishReason stop', r.error ? JSON.stringify(r.error) : JSON.stringify(r.text));

  r = await inPage(page, async (sw, { prompt, n }) => {
    const model = window.keep;
    const ctl = new AbortController();
    const res = {};
    try {
      for await (const p of model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens: 200, ignoreEos: true, signal: ctl.signal })) {
        if (p) ctl.abort();
      }
      res.aborted = 'no';
    } catch (e) {
      res.aborted = e.name;
    }
    res.abortRun = model.lastRun;
    const again = [];
    for await (const p of model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens: n, ignoreEos: true })) again.push(p);
    res.again = model.lastRun;
    return res;
  }, { prompt, n: N });
  check(!r.error && r.aborted === 'AbortError' && r.abortRun.finishReason === 'abort' && r.abortRun.ids.length < 10, 'abort during generation: AbortError within a token or two', JSON.stringify(r.error || { a: r.aborted, n: r.abortRun && r.abortRun.ids.length }));
  check(!r.error && same(r.again.ids, nativeIds) && r.again.reusedTokens > 0, 'after the abort: same greedy ids, prompt prefix reused from the KV cache', JSON.stringify(r.error || { reused: r.again.reusedTokens }));
  await page.close();

  // ---- second visit: from the cache, no chunk requests ----
  const before = chunkRequests(coi, 'tiny');
  page = await openPage(coi);
  r = await inPage(page, loadAndGenerate, { url: tinyUrl, prompt, n: N, threads: 2 });
  check(!r.error && chunkRequests(coi, 'tiny') === before, 'second load: zero chunk requests', `${chunkRequests(coi, 'tiny') - before} requests`);
  check(!r.error && r.info.bytesFromCache === manifest.total_bytes && r.info.bytesDownloaded === 0, 'second load: every byte from the cache', JSON.stringify(r.error || r.info));
  check(!r.error && same(r.lastRun.ids, nativeIds), 'second load: same greedy ids');
  r = await inPage(page, async (sw) => sw.listCachedModels());
  check(Array.isArray(r) && r.some((m) => m.manifestUrl.endsWith('/models/tiny/manifest.json') && m.complete), 'listCachedModels lists the model as complete', JSON.stringify(r).slice(0, 200));
  await page.close();

  // ---- threads off: no COOP/COEP ----
  page = await openPage(plain);
  r = await inPage(page, loadAndGenerate, { url: tinyUrl, prompt, n: N, threads: 2 });
  check(!r.error && r.info.threads === 1 && r.info.variant === 'simd', 'threads off: SIMD build, 1 thread', JSON.stringify(r.error || { t: r.info.threads, v: r.info.variant }));
  check(!r.error && same(r.lastRun.ids, nativeIds), 'threads off: greedy ids equal native');

  // ---- errors (no cache so each load goes to the network) ----
  const loadErr = (sw, { url, opts }) => sw.loadModel(url, { cache: false, ...opts }).then((m) => ({ loaded: m.info }));
  const expectErr = async (label, url, code, fileRe, setup, opts = {}) => {
    if (setup) setup();
    const res = await inPage(page, loadErr, { url, opts });
    const e = res.error;
    check(e && e.code === code && (!fileRe || fileRe.test(e.message)), `${label}: ${code}`, e ? `${e.code}: ${e.message}` : 'loaded');
    return res;
  };
  await expectErr('manifest 404', '/models/none/manifest.json', 'HTTP_STATUS', /manifest\.json.*404|404.*manifest/);
  plain.fault('/models/tiny/layer-001.swc', { status: 404 });
  await expectErr('chunk 404', tinyUrl, 'HTTP_STATUS', /layer-001\.swc/);
  plain.fault('/models/tiny/layer-001.swc', { status: 500 });
  await expectErr('chunk 500 (after retries)', tinyUrl, 'HTTP_STATUS', /layer-001\.swc.*500/);
  plain.fault('/models/tiny/layer-001.swc', { drop: 0 });
  await expectErr('connection dropped mid-chunk (after retries with backoff)', tinyUrl, 'NETWORK', /layer-001\.swc/);
  plain.fault('/models/tiny/layer-001.swc', { truncate: 1000 });
  await expectErr('truncated chunk', tinyUrl, 'BAD_CHUNK', /layer-001\.swc/);
  plain.fault('/models/tiny/layer-001.swc', null);
  await expectErr('manifest failing validation', '/models/badmanifest/manifest.json', 'BAD_MANIFEST', /manifest\.json/);
  const hugeBefore = chunkRequests(plain, 'huge');
  await expectErr('model too large for the device', '/models/huge/manifest.json', 'MODEL_TOO_LARGE', /GB|GiB|MB/);
  check(chunkRequests(plain, 'huge') === hugeBefore, 'too large: refused before any chunk request');
  // corrupted chunk, with the cache on: INTEGRITY, and nothing of it cached
  r = await inPage(page, (sw, { url }) => sw.loadModel(url).then(() => 'loaded'), { url: '/models/corrupt/manifest.json' });
  check(r.error && r.error.code === 'INTEGRITY' && /layer-002\.swc/.test(r.error.message), 'corrupted chunk: INTEGRITY naming it', JSON.stringify(r.error || r));
  r = await inPage(page, async () => {
    const c = await caches.open('smolweb-v1');
    return (await c.keys()).map((k) => k.url).filter((u) => u.includes('/models/corrupt/layer-002.swc'));
  });
  check(Array.isArray(r) && r.length === 0, 'corrupted chunk: not in the cache', JSON.stringify(r));
  await page.close();

  // abort during download: the chunks finished so far stay cached; the next visit fetches only the rest
  page = await openPage(plain);
  const url2 = '/models/tiny/manifest.json?visit=abort';
  r = await inPage(page, async (sw, { url }) => {
    const ctl = new AbortController();
    await caches.delete('smolweb-v1');
    try {
      await sw.loadModel(url, { signal: ctl.signal, maxInFlight: 1, onProgress: (p) => p.layersReady >= 2 && ctl.abort() });
      return { aborted: 'no' };
    } catch (e) {
      return { aborted: e.name };
    }
  }, { url: url2 });
  check(r.aborted === 'AbortError', 'abort during download: AbortError', JSON.stringify(r));
  const mid = chunkRequests(plain, 'tiny');
  r = await inPage(page, async (sw, { url }) => {
    const m = await sw.loadModel(url);
    return m.info;
  }, { url: url2 });
  const second = chunkRequests(plain, 'tiny') - mid;
  check(!r.error && r.bytesFromCache > 0 && r.bytesDownloaded > 0 && second < chunkPaths.length, 'after the abort: finished chunks come from the cache, the rest from the network', JSON.stringify(r.error || { fromCache: r.bytesFromCache, downloaded: r.bytesDownloaded, requests: second }));
  await page.close();
} finally {
  await close();
  await coi.close();
  await plain.close();
}
console.log(`lib_test: ${checks.failures ? `${checks.failures} FAILED` : 'all ok'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(checks.failures ? 1 : 0);

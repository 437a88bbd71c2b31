// app.js: the smolweb demo page. Uses only the library's public API
// (DESIGN.md section 3), imported the way a page without a bundler would:
// ../src/index.js beside this folder in the repository and the npm package.
// The import is dynamic so that a missing or unsupported library is shown as
// an error on the page instead of a blank, silent one.
import { hintFor, fmtBytes, fmtMs, fmtRate } from './text.js';

const LIB_URL = '../src/index.js';
// models/index.json ([{name, path, bytes, quant}], path relative to it);
// ?models=URL points the page at another list
const INDEX_URL = new URL(new URLSearchParams(location.search).get('models') || '../../models/index.json', location.href).href;
const SW_CACHE = 'smolweb-demo-v1'; // sw.js's cache (for the manifests of deleted models)
const STALL_MS = 20000;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids.filter((k) => k !== null && k !== undefined));
  return e;
};

const state = {
  lib: null,
  device: null,
  entries: [], // {name, url, bytes, quant, manifest, tier, error}
  selected: -1,
  cached: new Map(), // manifest URL -> cached-model record
  model: null,
  modelEntry: null,
  loadCtl: null,
  genCtl: null,
  history: [], // chat messages {role, content}
};

// ---------- errors: always on screen, never a silent hang ----------

function showError(err, title = 'Something went wrong') {
  const code = err && err.code ? String(err.code) : err && err.name === 'AbortError' ? 'ABORT' : 'JS';
  $('error-title').textContent = title;
  $('error-code').textContent = code;
  $('error-message').textContent = (err && err.message) || String(err);
  $('error-hint').textContent = hintFor(code, err);
  $('error').hidden = false;
  $('error').dataset.code = code;
  console.error(title, err);
}
function clearError() {
  $('error').hidden = true;
  delete $('error').dataset.code;
}
$('error-close').onclick = clearError;
addEventListener('unhandledrejection', (e) => showError(e.reason, 'Unexpected error'));
addEventListener('error', (e) => showError(e.error || e.message, 'Unexpected error'));

// ---------- status pills ----------

function pill(id, text, cls = '') {
  const p = $(id);
  p.textContent = text;
  p.className = `pill ${cls}`;
}
function showNet() {
  pill('net', navigator.onLine ? 'online' : 'offline', navigator.onLine ? '' : 'bad');
}
addEventListener('online', showNet);
addEventListener('offline', showNet);
showNet();
pill('coi', self.crossOriginIsolated ? 'threads available' : 'single thread (page not cross-origin isolated)', self.crossOriginIsolated ? 'good' : '');

// ---------- service worker (offline) ----------

let controlled = navigator.serviceWorker?.controller ? Promise.resolve() : null;

// The same-origin files this page loaded so far, for the service worker to
// cache (those loaded before it took control did not pass through it).
function loadedUrls() {
  const urls = new Set([location.href]);
  for (const e of performance.getEntriesByType('resource')) {
    if (new URL(e.name).origin === location.origin) urls.add(e.name);
  }
  return [...urls];
}
function announceUrls() {
  navigator.serviceWorker?.controller?.postMessage({ type: 'cache-urls', urls: loadedUrls() });
}

async function setupServiceWorker() {
  if (!('serviceWorker' in navigator)) {
    pill('sw', 'offline mode: not available in this browser', 'bad');
    return;
  }
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data?.type === 'cached-urls') {
      pill('sw', 'offline mode: ready', 'good');
      $('sw').dataset.state = 'ready';
    }
  });
  controlled ||= new Promise((ok) => navigator.serviceWorker.addEventListener('controllerchange', ok, { once: true }));
  controlled.then(announceUrls);
  // scope: the site root, so the library's worker and wasm (outside web/demo/) are covered.
  // (Offline, register() fails its update check; the worker already in control carries on.)
  const root = new URL('../../', location.href).href;
  try {
    await navigator.serviceWorker.register('sw.js', { scope: root });
  } catch (e) {
    if (navigator.serviceWorker.controller) return;
    try {
      await navigator.serviceWorker.register('sw.js');
      console.warn(`service worker limited to ${new URL('./', location.href).pathname}: ${e.message}`);
    } catch (e2) {
      pill('sw', `offline mode: off (${e2.message})`, 'bad');
    }
  }
}

// ---------- device and models ----------

function describeDevice(d) {
  const parts = [
    d.memoryGB ? `${d.memoryGB} GB memory` : 'memory not reported by this browser',
    `${d.cores} cores`,
    `SIMD ${d.simd ? 'yes' : 'no'}`,
    `threads ${d.threads ? 'yes' : 'no'}`,
  ];
  if (d.storageQuota) parts.push(`storage ${fmtBytes(d.storageUsage || 0)} used of ${fmtBytes(d.storageQuota)}`);
  return `This device: ${parts.join(' · ')}`;
}

async function readIndex() {
  let list;
  try {
    const res = await fetch(INDEX_URL);
    if (!res.ok) throw Object.assign(new Error(`${INDEX_URL}: HTTP ${res.status}`), { code: 'HTTP_STATUS' });
    list = await res.json();
    if (!Array.isArray(list)) throw Object.assign(new Error(`${INDEX_URL}: not a JSON array`), { code: 'BAD_MANIFEST' });
  } catch (e) {
    if (!e.code) e.code = 'INDEX';
    showError(e, 'Could not read the list of models');
    return [];
  }
  return list.map((m) => ({
    name: String(m.name),
    url: new URL(m.path, INDEX_URL).href,
    bytes: Number(m.bytes) || 0,
    quant: m.quant || '',
    error: m.error || null,
    manifest: null,
    tier: null,
  }));
}

// Fetches a model's manifest (through the service worker, which keeps it for
// offline use) and picks the tier this device would get.
async function examine(entry) {
  try {
    const res = await fetch(entry.url);
    if (!res.ok) throw new Error(`manifest.json: HTTP ${res.status}`);
    entry.manifest = await res.json();
  } catch (e) {
    entry.error ||= e.message;
    return;
  }
  if (!state.lib || !state.device) return;
  try {
    entry.tier = state.lib.chooseTier(state.device, entry.manifest);
  } catch (e) {
    entry.tier = { error: e };
  }
}

function isRandom(entry) {
  return /random/i.test(`${entry?.name} ${entry?.manifest?.name || ''}`);
}

function tierText(t) {
  if (!t) return state.lib ? '…' : '–';
  if (t.error) return t.error.code === 'MODEL_TOO_LARGE' ? 'too large for this device' : `error: ${t.error.message}`;
  return `${t.tier} · ${t.contextLength} tokens · ${t.threads} thread${t.threads === 1 ? '' : 's'}`;
}

function renderModels() {
  const body = $('models').tBodies[0];
  body.replaceChildren();
  if (state.entries.length === 0) {
    body.append(el('tr', {}, el('td', { colSpan: 6, className: 'muted', textContent:
      `No models found in ${INDEX_URL}. Make one with scripts/main.sh (or serve a folder with npm run demo -- --models DIR).` })));
  }
  state.entries.forEach((m, i) => {
    const unusable = Boolean(m.error) || Boolean(m.tier?.error);
    const radio = el('input', { type: 'radio', name: 'model', value: String(i), checked: i === state.selected, disabled: unusable });
    radio.onchange = () => select(i);
    const q = m.manifest?.quantization;
    const row = el('tr', { className: unusable ? 'disabled' : '' },
      el('td', {}, radio),
      el('td', {}, el('label', { textContent: m.name, onclick: () => !unusable && select(i) }),
        m.error ? el('div', { className: 'small', textContent: m.error }) : null),
      el('td', { className: 'size', textContent: fmtBytes(m.bytes) }),
      el('td', { textContent: q ? `${q.weights}${q.embedding !== q.weights ? ` (embedding ${q.embedding})` : ''}` : m.quant }),
      el('td', { textContent: tierText(m.tier), title: m.tier?.reason || m.tier?.error?.message || '' }),
      el('td', {}, badge(m)));
    row.dataset.name = m.name;
    body.append(row);
  });
  syncButtons();
}

function badge(m) {
  const c = state.cached.get(m.url);
  if (!c) return null;
  return el('span', { className: 'badge', textContent: c.complete === false ? 'partly cached' : 'cached' });
}

function select(i) {
  state.selected = i;
  for (const r of document.querySelectorAll('input[name=model]')) r.checked = r.value === String(i);
  $('random-note').hidden = !isRandom(state.entries[i]) && !isRandom(state.modelEntry);
  syncButtons();
}

// ---------- cached models ----------

async function refreshCached() {
  const list = $('cached');
  if (!state.lib) return;
  let items = [];
  try {
    items = await state.lib.listCachedModels();
  } catch (e) {
    list.replaceChildren(el('li', { className: 'muted', textContent: `cannot list: ${e.message}` }));
    return;
  }
  state.cached = new Map();
  for (const it of items || []) {
    const url = typeof it === 'string' ? it : it.manifestUrl || it.url;
    if (url) state.cached.set(new URL(url, location.href).href, it);
  }
  list.replaceChildren();
  if (state.cached.size === 0) list.append(el('li', { className: 'muted', textContent: 'none yet' }));
  for (const [url, it] of state.cached) {
    // named as in the picker (the folder), which tells copies of one model apart
    const known = state.entries.find((m) => m.url === url);
    const name = known?.name || url.replace(/\/manifest\.json$/, '').split('/').pop() || it.name;
    const partial = it.complete === false;
    const size = partial && it.cachedBytes !== undefined && it.totalBytes !== undefined
      ? `partial: ${Math.floor((100 * it.cachedBytes) / Math.max(1, it.totalBytes))}% of ${fmtBytes(it.totalBytes)}`
      : fmtBytes(it.totalBytes ?? it.bytes ?? NaN);
    const del = el('button', { type: 'button', className: 'link', textContent: 'delete' });
    del.onclick = async () => {
      del.disabled = true;
      try {
        await state.lib.deleteCachedModel(url);
        // the manifest the service worker kept goes too
        if ('caches' in self) await (await caches.open(SW_CACHE)).delete(url);
      } catch (e) {
        showError(e, `Could not delete ${name}`);
      }
      await refreshCached();
      renderModels();
    };
    const li = el('li', { title: it.name ? `${it.name}: ${url}` : url }, el('span', { className: 'name', textContent: name }),
      el('span', { className: 'size muted', textContent: size }), del);
    li.dataset.url = url;
    if (partial) li.dataset.partial = 'true';
    list.append(li);
  }
  if (state.device?.storageQuota) {
    try {
      const est = await navigator.storage.estimate();
      $('storage').textContent = `This site uses ${fmtBytes(est.usage || 0)} of ${fmtBytes(est.quota || 0)} available.`;
    } catch { /* no estimate: leave it */ }
  }
}

// ---------- loading ----------

let progress = null;
let progressAt = 0;
let progressFrame = 0;
let stallTimer = 0;
const PHASES = { manifest: 'reading the manifest', download: 'downloading', cache: "reading from this browser's cache", init: 'starting the runtime' };

function renderProgress() {
  progressFrame = 0;
  const p = progress;
  if (!p) return;
  const pct = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 0;
  $('progress').value = pct;
  $('progress').dataset.loaded = String(p.loaded);
  $('progress').dataset.total = String(p.total);
  $('progress-text').textContent = `${PHASES[p.phase] || p.phase || ''}: ${fmtBytes(p.loaded)} of ${fmtBytes(p.total)} (${pct}%)`;
  const f = p.file && state.loadingEntry?.manifest?.files?.find((x) => x.path === p.file);
  $('progress-file').textContent = [p.file ? `${p.file}${f ? ` (${fmtBytes(f.bytes)})` : ''}` : '',
    p.layers ? `layers ready: ${p.layersReady} of ${p.layers}` : ''].filter(Boolean).join(' · ');
  const cells = $('layers');
  if (p.layers && cells.children.length !== p.layers)
    cells.replaceChildren(...Array.from({ length: p.layers }, (_, i) => el('span', { title: `layer ${i}` })));
  [...cells.children].forEach((c, i) => c.classList.toggle('ready', i < (p.layersReady || 0)));
}

function onProgress(p) {
  progress = p;
  progressAt = performance.now();
  progressFrame ||= requestAnimationFrame(renderProgress);
}

function watchStall(on) {
  clearInterval(stallTimer);
  if (!on) return;
  stallTimer = setInterval(() => {
    const idle = performance.now() - progressAt;
    if (idle > STALL_MS)
      $('progress-file').textContent = `No data for ${Math.round(idle / 1000)} s: the server may be slow or unreachable. ` +
        'The library retries on its own; press Cancel to give up.';
  }, 2000);
}

async function load() {
  const entry = state.entries[state.selected];
  if (!entry || !state.lib) return;
  clearError();
  // first visit: let the service worker take control first, so the library's
  // worker and wasm pass through it and are kept for offline use
  if (controlled) await Promise.race([controlled, new Promise((ok) => setTimeout(ok, 3000))]);
  // one model at a time: a phone cannot hold two
  if (state.model) {
    const old = state.model;
    state.model = null;
    await old.dispose().catch(() => {});
  }
  state.modelEntry = null;
  state.history = [];
  $('model-name').textContent = '';
  $('messages').replaceChildren(el('p', { className: 'muted empty', textContent: `Loading ${entry.name}…` }));
  for (const id of ['f-tier', 'f-threads', 'f-simd', 'f-load']) $(id).textContent = '–';
  state.loadingEntry = entry;
  state.loadCtl = new AbortController();
  progress = null;
  $('progress-box').hidden = false;
  $('progress').value = 0;
  $('progress-text').textContent = 'starting…';
  $('progress-file').textContent = '';
  $('layers').replaceChildren();
  $('load').dataset.state = 'loading';
  $('progress-box').dataset.state = 'loading';
  progressAt = performance.now();
  watchStall(true);
  syncButtons();
  const t0 = performance.now();
  try {
    const model = await state.lib.loadModel(entry.url, { onProgress, signal: state.loadCtl.signal, tier: $('tier').value });
    if (progressFrame) cancelAnimationFrame(progressFrame);
    renderProgress(); // the last event, now (and progressFrame = 0)
    state.model = model;
    state.modelEntry = entry;
    state.history = [];
    const info = model.info;
    $('progress-text').textContent = `ready: ${fmtBytes(progress?.loaded ?? 0)} of ${fmtBytes(progress?.total ?? 0)} ` +
      `(${$('progress').value}%) in ${fmtMs(performance.now() - t0)}`;
    $('load').dataset.state = 'loaded';
    $('progress-box').dataset.state = 'loaded';
    $('model-name').textContent = `with ${info.name || entry.name}`;
    $('f-tier').textContent = `${info.tier} · ${info.contextLength} tokens`;
    $('f-threads').textContent = String(info.threads);
    $('f-simd').textContent = info.simd ? 'yes (SIMD128)' : 'no';
    $('f-load').textContent = `${fmtMs(performance.now() - t0)} · ${fmtBytes(info.bytesDownloaded || 0)} downloaded, ` +
      `${fmtBytes(info.bytesFromCache || 0)} from cache`;
    $('messages').replaceChildren(el('p', { className: 'muted empty', textContent:
      `${info.name || entry.name} is ready (${info.params ? `${(info.params / 1e6).toFixed(0)}M parameters, ` : ''}${info.quant || entry.quant}). Say something.` }));
    select(state.selected);
    announceUrls();
    $('prompt').focus({ preventScroll: true });
  } catch (e) {
    if (progressFrame) cancelAnimationFrame(progressFrame);
    progressFrame = 0;
    $('load').dataset.state = 'failed';
    $('progress-box').dataset.state = 'failed';
    if (e.name === 'AbortError') $('progress-text').textContent = 'Loading cancelled. Chunks already downloaded stay cached; Load resumes.';
    else {
      $('progress-text').textContent = 'Loading failed (see the message above).';
      $('messages').replaceChildren(el('p', { className: 'muted empty', textContent: 'No model loaded.' }));
      showError(e, `Could not load ${entry.name}`);
    }
  } finally {
    watchStall(false);
    state.loadCtl = null;
    state.loadingEntry = null;
    syncButtons();
    refreshCached().then(renderModels);
  }
}

// ---------- chat ----------

function numberInput(id) {
  const v = $(id).value.trim();
  return v === '' ? undefined : Number(v);
}

function settings() {
  const seed = numberInput('seed') ?? Math.floor(Math.random() * 2 ** 31);
  return {
    temperature: numberInput('temperature') ?? 0.2,
    topP: numberInput('top-p') ?? 0.9,
    topK: numberInput('top-k') ?? 40,
    maxTokens: Math.max(1, Math.floor(numberInput('max-tokens') ?? 256)),
    seed,
  };
}

// Keeps the chat scrolled to the end, unless the reader scrolled up.
function atEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 48;
}
function toEnd(box) {
  box.scrollTop = box.scrollHeight;
}

function addMessage(role, text) {
  const box = $('messages');
  box.querySelector('.empty')?.remove();
  const body = document.createTextNode(text);
  const m = el('div', { className: `msg ${role}` }, body);
  box.append(m);
  toEnd(box);
  return { m, body };
}

async function send(text) {
  const model = state.model;
  if (!model || state.genCtl || !text.trim()) return;
  clearError();
  state.history.push({ role: 'user', content: text });
  addMessage('user', text);
  const { m, body } = addMessage('assistant', '');
  m.classList.add('running');
  const opts = settings();
  state.genCtl = new AbortController();
  syncButtons();
  const box = $('messages');
  const t0 = performance.now();
  let first = 0;
  let pieces = 0;
  let stopped = false;
  let failed = null;
  // each piece is appended as it comes (appending to a text node forces no
  // layout); scrolling, which does, and the live rate wait for the next frame
  let frame = 0;
  let stick = true;
  const flush = () => {
    frame = 0;
    if (stick) toEnd(box);
    const now = performance.now();
    if (pieces > 1 && now > first) $('f-decode').textContent = `≈ ${fmtRate((1000 * (pieces - 1)) / (now - first))} (live)`;
  };
  try {
    const reader = model.generate(state.history, { ...opts, signal: state.genCtl.signal }).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!value) continue;
      if (!first) {
        first = performance.now();
        $('f-ttft').textContent = `${fmtMs(first - t0)} (measured by the page)`;
      }
      pieces++;
      if (!frame) {
        stick = atEnd(box);
        frame = requestAnimationFrame(flush);
      }
      body.appendData(value);
    }
  } catch (e) {
    if (e && e.name === 'AbortError') stopped = true;
    else failed = e;
  }
  cancelAnimationFrame(frame);
  frame = 0;
  m.classList.remove('running');
  state.genCtl = null;
  const answer = body.data;
  // a stopped answer stays in the history, as the user saw it
  if (answer) state.history.push({ role: 'assistant', content: answer });
  else if (failed) state.history.pop(); // the turn failed before any text: forget it
  const run = model.lastRun;
  if (run) showRun(run, opts.seed);
  const reason = stopped || run?.finishReason === 'abort' ? 'stopped' : run?.finishReason;
  const meta = [run ? `${run.ids?.length ?? pieces} tokens` : `${pieces} pieces`,
    run?.decodeTps ? fmtRate(run.decodeTps) : null, reason, `seed ${opts.seed}`,
    run?.droppedMessages ? `${run.droppedMessages} old message${run.droppedMessages === 1 ? '' : 's'} left out to fit the context` : null];
  m.append(el('span', { className: 'meta', textContent: meta.filter(Boolean).join(' · ') }));
  m.dataset.finish = reason || (failed ? 'error' : '');
  if (failed) showError(failed, 'Could not generate an answer');
  syncButtons();
  if (stick) toEnd(box);
  $('prompt').focus({ preventScroll: true });
}

function showRun(run, seed) {
  $('f-prefill').textContent = run.prefillTps ? `${fmtRate(run.prefillTps)}` : '–';
  $('f-decode').textContent = run.decodeTps ? `${fmtRate(run.decodeTps)}` : '–';
  $('f-ttft').textContent = run.ttftMs !== undefined && run.ttftMs !== null ? fmtMs(run.ttftMs) : '–';
  $('f-tokens').textContent = `${run.promptTokens} prompt (${run.reusedTokens} reused from the last turn) · ${run.ids?.length ?? 0} generated`;
  $('f-finish').textContent = `${run.finishReason}${seed !== undefined ? ` · seed ${seed}` : ''}`;
}

$('composer').onsubmit = (e) => {
  e.preventDefault();
  const text = $('prompt').value;
  if (!text.trim() || !state.model || state.genCtl) return;
  $('prompt').value = '';
  send(text);
};
$('prompt').onkeydown = (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
};
$('stop').onclick = () => state.genCtl?.abort();
$('new-chat').onclick = () => {
  state.history = [];
  $('messages').replaceChildren(el('p', { className: 'muted empty', textContent: 'New chat. Say something.' }));
};
$('load').onclick = load;
$('cancel-load').onclick = () => state.loadCtl?.abort();

function syncButtons() {
  const loading = Boolean(state.loadCtl);
  const generating = Boolean(state.genCtl);
  const entry = state.entries[state.selected];
  $('load').disabled = loading || generating || !state.lib || !entry || Boolean(entry.error) || Boolean(entry.tier?.error);
  const c = entry && state.cached.get(entry.url);
  $('load').textContent = c ? (c.complete === false ? 'Load (resume)' : 'Load (from cache)') : 'Load';
  $('cancel-load').hidden = !loading;
  const ready = Boolean(state.model) && !loading;
  $('prompt').disabled = !ready;
  $('send').disabled = !ready || generating;
  $('stop').disabled = !generating;
  $('new-chat').disabled = !ready || generating;
}

// ---------- start ----------

async function start() {
  setupServiceWorker().catch((e) => pill('sw', `offline mode: off (${e.message})`, 'bad'));
  const libPromise = typeof WebAssembly === 'object'
    ? import(LIB_URL)
    : Promise.reject(Object.assign(new Error('This browser has no WebAssembly.'), { code: 'UNSUPPORTED' }));
  const [entries, lib] = await Promise.all([readIndex(), libPromise.catch((e) => ({ failed: e }))]);
  state.entries = entries;
  if (lib.failed) {
    const e = lib.failed;
    if (!e.code) e.code = 'LIBRARY';
    showError(e, `Could not load the smolweb library (${new URL(LIB_URL, location.href).pathname})`);
    $('device').textContent = 'The library did not load, so this device was not checked.';
  } else {
    state.lib = lib;
    try {
      state.device = await lib.detectDevice();
      $('device').textContent = describeDevice(state.device);
    } catch (e) {
      showError(e, 'Could not check this device');
    }
  }
  renderModels();
  await Promise.all(state.entries.map(examine));
  await refreshCached();
  // pick the first usable model, preferring one already cached
  const usable = state.entries.map((m, i) => [m, i]).filter(([m]) => !m.error && !m.tier?.error);
  const pick = usable.find(([m]) => state.cached.has(m.url)) || usable[0];
  if (pick) state.selected = pick[1];
  renderModels();
  select(state.selected);
  document.body.dataset.ready = 'true';
}

start();

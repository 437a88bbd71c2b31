// worker.js: the module Web Worker that owns the wasm runtime. It downloads
// (or reads from the cache) each chunk straight into the chunk buffer the
// runtime allocated in the wasm heap, has the runtime check its SHA-256 and
// format before use, and runs generation token by token, yielding to its
// event loop between tokens (and between prefill slices) so an abort message
// is seen within one token's time. Messages: protocol.js.
import { createRuntime } from './runtime.js';
import { PROTOCOL_VERSION, reply } from './protocol.js';
import { SmolwebError, abortError, codeForWasmStatus, isAbortError, serializeError, throwIfAborted } from './errors.js';
import { download } from './fetch.js';
import { openCache, checkQuota, requestPersist } from './cache.js';
import { LoadProgress } from './progress.js';

const state = {
  rt: null, // Runtime
  build: null,
  model: null, // runtime Model once loaded
  manifest: null, // parsed manifest.json
  loading: false,
  generating: false,
  aborts: new Map(), // request id -> AbortController
};

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

/** A task boundary that is not clamped like setTimeout: lets queued messages
 * (an abort) run between tokens. */
function yieldTask() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

/** A runtime error (SmolwebWasmError) as the SmolwebError a caller sees. */
function fromWasm(e, where, file) {
  if (e instanceof SmolwebError || isAbortError(e)) return e;
  if (e && e.name === 'SmolwebWasmError') {
    const code = codeForWasmStatus(e.status, where);
    return new SmolwebError(code, e.message, { file, cause: e });
  }
  return new SmolwebError('INTERNAL', e && e.message ? e.message : String(e), { file, cause: e });
}

// ---- init ----

/** A URL a worker can start from. Bundlers inline small files as data: URLs
 * (Vite does below 4 kB, as with the pthread script); a worker started from
 * one has an opaque origin and could not share the wasm memory, so its text
 * moves to a blob: URL, which has this worker's origin. */
function workerScriptUrl(url) {
  const m = /^data:([^,]*?)(;base64)?,/.exec(url);
  if (!m) return url;
  const body = url.slice(m[0].length);
  const bytes = m[2] ? Uint8Array.from(atob(body), (c) => c.charCodeAt(0)) : new TextEncoder().encode(decodeURIComponent(body));
  return URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
}

/**
 * Loader options for a build whose files a bundler renamed or inlined (page
 * URLs in `files`, by file name): locateFile gives their URLs and the pthread
 * workers import the loader by its URL. While every file sits beside the
 * loader under its own name (no bundler, or a dev server), the loader's own
 * lookup is kept: a dev server may rewrite it (Vite serves the pthread script
 * as a classic worker only when it is found that way).
 */
function locateOptions(loaderUrl, files = {}) {
  const moved = Object.entries(files).some(([name, url]) => url !== new URL(name, loaderUrl).href);
  if (!moved) return {};
  const urls = {};
  for (const [name, url] of Object.entries(files)) urls[name] = name.endsWith('.js') ? workerScriptUrl(url) : url;
  return {
    locateFile: (name) => urls[name] || new URL(name, loaderUrl).href,
    mainScriptUrlOrBlob: loaderUrl,
  };
}

async function init(msg) {
  if (state.rt) return { build: state.build };
  const mod = await import(msg.loaderUrl);
  const opts = {};
  if (msg.poolSize > 0) opts.smolwebPoolSize = msg.poolSize;
  Object.assign(opts, locateOptions(msg.loaderUrl, msg.files));
  state.rt = await createRuntime(mod.default, opts);
  state.build = { ...state.rt.build, poolSize: state.rt.poolSize };
  return { build: state.build };
}

// ---- load ----

/** Reads a Response body into chunk buffer writer `write`; returns bytes read. */
async function readBody(resp, write, signal) {
  const reader = resp.body.getReader();
  let off = 0;
  try {
    for (;;) {
      throwIfAborted(signal);
      const { done, value } = await reader.read();
      if (done) break;
      write(value, off);
      off += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return off;
}

async function load(msg, signal) {
  if (!state.rt) throw new SmolwebError('INTERNAL', 'load before init');
  if (state.loading || state.generating) throw new SmolwebError('BUSY', 'the worker is already loading or generating');
  state.loading = true;
  try {
    return await loadModel(msg, signal);
  } finally {
    state.loading = false;
  }
}

async function loadModel(msg, signal) {
  const { rt } = state;
  if (state.model) {
    state.model.free();
    state.model = null;
  }
  const manifest = JSON.parse(msg.manifestText);
  let model;
  try {
    // the one manifest reader/validator: the C one, in wasm
    model = rt.modelCreate(msg.manifestText, { n_ctx: msg.nCtx, n_threads: msg.threads, kv_f16: msg.kvF16 ? 1 : 0 });
  } catch (e) {
    throw fromWasm(e, 'manifest', 'manifest.json');
  }
  const progress = new LoadProgress(manifest, {
    onProgress: (p) => post(reply(msg.id, 'progress', { progress: p })),
  });
  let cacheWarning = null;
  let cache = null;
  if (msg.cache !== false) {
    try {
      cache = await openCache();
      const q = await checkQuota(progress.total);
      if (!q.ok) {
        cache = null;
        cacheWarning = `not caching: ${q.bytesNeeded} bytes needed, ${q.available} available in this origin's storage`;
      } else {
        await requestPersist().catch(() => false);
        await cache.putManifest(msg.manifestUrl, msg.manifestText).catch(() => {});
      }
    } catch (e) {
      cache = null; // no Cache API here (or it failed): run from the network
      cacheWarning = `not caching: ${e && e.message ? e.message : e}`;
    }
  }
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  signal.addEventListener('abort', onAbort);
  progress.setPhase('download');

  const loadOne = async (c) => {
    const url = new URL(c.path, msg.manifestUrl).href;
    const ptr = model.chunkBuffer(c.index).byteOffset;
    const write = (u8, off) => {
      if (off + u8.length > c.bytes)
        throw new SmolwebError('BAD_CHUNK', `${c.path}: more than the ${c.bytes} bytes the manifest says`, { file: c.path });
      rt.u8(ptr + off, u8.length).set(u8); // a fresh view: the heap may have grown
    };
    if (cache) {
      const resp = await cache.get(url, c.sha256).catch(() => null);
      if (resp) {
        try {
          const n = await readBody(resp, (u8, off) => {
            write(u8, off);
            progress.bytes(c.path, u8.length, 'cache');
          }, ctl.signal);
          if (n !== c.bytes) throw new SmolwebError('BAD_CHUNK', `${c.path}: the cached copy has ${n} bytes`);
          model.commit(c.index, true); // the stored bytes are checked like downloaded ones
          progress.done(c.path, 'cache');
          return;
        } catch (e) {
          if (isAbortError(e) || ctl.signal.aborted) throw e;
          // a stored copy that fails its hash or size: drop it, fetch again
          progress.restart(c.path);
          await cache.remove(url, c.sha256).catch(() => {});
        }
      }
    }
    await download(url, {
      expectedBytes: c.bytes,
      file: c.path,
      signal: ctl.signal,
      write,
      onBytes: (delta) => progress.bytes(c.path, delta, 'download'),
      // the chunk cache keeps the bytes; the HTTP cache should not keep a second copy
      init: cache ? { cache: 'no-store' } : undefined,
    });
    try {
      model.commit(c.index, true);
    } catch (e) {
      throw fromWasm(e, 'chunk', c.path);
    }
    progress.done(c.path, 'download');
    if (cache) {
      try {
        // a getter: the heap view is made when the bytes are read (growth
        // replaces the buffer); cache.js copies it before storing
        await cache.put(url, c.sha256, () => rt.u8(ptr, c.bytes));
      } catch (e) {
        if (e instanceof SmolwebError && e.code === 'QUOTA') {
          cache = null; // keep running from memory; tell the user
          cacheWarning = e.message;
        }
      }
    }
  };

  const order = model.chunks.slice();
  let next = 0;
  const runner = async () => {
    while (next < order.length) {
      throwIfAborted(ctl.signal);
      await loadOne(order[next++]);
    }
  };
  try {
    const inFlight = Math.max(1, Math.min(msg.maxInFlight || 3, order.length));
    const runs = [];
    for (let i = 0; i < inFlight; i++) runs.push(runner());
    // the first failure aborts the other downloads, then is rethrown
    await Promise.all(runs.map((p) => p.catch((e) => {
      ctl.abort();
      throw e;
    })));
  } catch (e) {
    model.free();
    throw signal.aborted ? abortError() : e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  progress.setPhase('init');
  // the special tokens' text, for chat templates that use bos_token/eos_token
  const specialTokens = {};
  const tok = manifest.tokens || {};
  for (const [name, id] of [['bos_token', tok.bos_id], ['eos_token', tok.eos_id], ['pad_token', tok.pad_id]])
    if (Number.isInteger(id)) specialTokens[name] = model.detokenize([id]);
  state.model = model;
  state.manifest = manifest;
  return {
    info: {
      name: manifest.name,
      params: manifest.params,
      quant: manifest.quantization && manifest.quantization.weights,
      threads: model.nThreads,
      simd: !!(state.build && state.build.simd128),
      contextLength: model.nCtx,
      bytesDownloaded: progress.bytesDownloaded,
      bytesFromCache: progress.bytesFromCache,
      cacheWarning,
      nVocab: model.nVocab,
      stopIds: model.stopIds,
      chatTemplate: model.chatTemplate,
      specialTokens,
    },
  };
}

// ---- generate ----

/** Holds back text that could be the start of a stop string. */
class StopMatcher {
  constructor(stops) {
    this.stops = (stops || []).filter((s) => typeof s === 'string' && s.length > 0);
    this.pending = '';
  }
  /** Adds text; returns { emit, stopped }. */
  push(text) {
    this.pending += text;
    if (!this.stops.length) {
      const emit = this.pending;
      this.pending = '';
      return { emit, stopped: false };
    }
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = '';
      return { emit, stopped: true };
    }
    // keep the longest suffix that is a prefix of some stop string
    let keep = 0;
    for (const s of this.stops)
      for (let k = Math.min(s.length - 1, this.pending.length); k > keep; k--)
        if (this.pending.endsWith(s.slice(0, k))) {
          keep = k;
          break;
        }
    const emit = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { emit, stopped: false };
  }
  flush() {
    const emit = this.pending;
    this.pending = '';
    return emit;
  }
}

async function generate(msg, signal) {
  const { rt, model } = state;
  if (!model) throw new SmolwebError('INTERNAL', 'generate before load');
  if (state.generating || state.loading) throw new SmolwebError('BUSY', 'a generation is already running');
  state.generating = true;
  const t0 = performance.now();
  let sampler = null;
  const ids = msg.ids;
  const run = { promptTokens: ids.length, reusedTokens: 0, ids: [], ttftMs: 0, prefillTps: 0, decodeTps: 0, finishReason: 'length' };
  try {
    if (ids.length === 0) throw new SmolwebError('CONTEXT_LENGTH', 'the prompt has no tokens');
    if (ids.length >= model.nCtx)
      throw new SmolwebError('CONTEXT_LENGTH', `the prompt has ${ids.length} tokens; the context holds ${model.nCtx} (prompt plus answer)`);
    // prefill in slices, checking for abort in between
    run.reusedTokens = Math.min(model.commonPrefix(ids), ids.length - 1);
    const slice = msg.prefillSlice > 0 ? msg.prefillSlice : 32;
    const tp = performance.now();
    let done = 0;
    while (done < ids.length) {
      throwIfAborted(signal);
      try {
        done = model.prefill(ids, slice);
      } catch (e) {
        throw fromWasm(e, 'generate');
      }
      if (done < ids.length) await yieldTask();
    }
    const prefillMs = performance.now() - tp;
    const newTokens = ids.length - run.reusedTokens;
    run.prefillTps = prefillMs > 0 ? (newTokens * 1000) / prefillMs : 0;
    post(reply(msg.id, 'prefilled', { ms: prefillMs, tokens: newTokens }));

    sampler = rt.samplerCreate(msg.sampling || {}, model.nVocab);
    for (const id of ids) sampler.accept(id);
    model.decodeReset();
    const stops = new StopMatcher(msg.stop);
    const stopIds = new Set(model.stopIds);
    const maxTokens = msg.maxTokens > 0 ? msg.maxTokens : 256;
    let tFirst = 0;
    for (let n = 0; n < maxTokens; n++) {
      throwIfAborted(signal);
      let id;
      try {
        id = model.decodeStep(sampler);
      } catch (e) {
        if (e && e.status === 'CONTEXT') {
          run.finishReason = 'length';
          break;
        }
        throw fromWasm(e, 'generate');
      }
      if (n === 0) {
        tFirst = performance.now();
        run.ttftMs = tFirst - t0;
      }
      if (stopIds.has(id) && !msg.ignoreEos) {
        run.finishReason = 'eos';
        break;
      }
      run.ids.push(id);
      const { emit, stopped } = stops.push(model.decodePiece(id));
      if (emit) post(reply(msg.id, 'piece', { text: emit }));
      if (stopped) {
        run.finishReason = 'stop';
        break;
      }
      if (n === maxTokens - 1) run.finishReason = 'length';
      await yieldTask();
    }
    if (run.finishReason !== 'stop') {
      const tail = stops.push(model.decodeFlush());
      const rest = tail.emit + stops.flush();
      if (rest) post(reply(msg.id, 'piece', { text: rest }));
    }
    const decodeMs = performance.now() - tFirst;
    // decode rate: tokens after the first over the time after the first (the
    // first one's time is prefill's)
    run.decodeTps = run.ids.length > 1 && decodeMs > 0 ? ((run.ids.length - 1) * 1000) / decodeMs : 0;
    return { lastRun: run };
  } catch (e) {
    if (isAbortError(e)) {
      run.finishReason = 'abort';
      const err = abortError();
      err.lastRun = run; // the page still reports what ran before the abort
      throw err;
    }
    throw e;
  } finally {
    if (sampler) sampler.free();
    state.generating = false;
  }
}

// ---- dispatch ----

async function handle(msg) {
  const ctl = new AbortController();
  state.aborts.set(msg.id, ctl);
  try {
    let result;
    switch (msg.type) {
      case 'init':
        result = await init(msg);
        break;
      case 'load':
        result = await load(msg, ctl.signal);
        break;
      case 'generate':
        result = await generate(msg, ctl.signal);
        break;
      case 'tokenize':
        if (!state.model) throw new SmolwebError('INTERNAL', 'tokenize before load');
        result = { ids: state.model.tokenize(msg.text) };
        break;
      case 'detokenize':
        if (!state.model) throw new SmolwebError('INTERNAL', 'detokenize before load');
        result = { text: state.model.detokenize(msg.ids) };
        break;
      case 'dispose':
        if (state.model) state.model.free();
        state.model = null;
        result = {};
        break;
      default:
        throw new SmolwebError('INTERNAL', `unknown request type ${msg.type}`);
    }
    post(reply(msg.id, 'ok', { result }));
  } catch (e) {
    const err = serializeError(e);
    if (e && e.lastRun) err.lastRun = e.lastRun;
    post(reply(msg.id, 'error', { error: err }));
  } finally {
    state.aborts.delete(msg.id);
  }
}

self.onmessage = (ev) => {
  const msg = ev.data;
  if (!msg || msg.v !== PROTOCOL_VERSION) {
    post({ v: PROTOCOL_VERSION, id: msg && msg.id, type: 'error', error: serializeError(new SmolwebError('UNSUPPORTED', `protocol version ${msg && msg.v}, the worker speaks ${PROTOCOL_VERSION}`)) });
    return;
  }
  if (msg.type === 'abort') {
    const ctl = state.aborts.get(msg.target);
    if (ctl) ctl.abort();
    return;
  }
  handle(msg);
};

// index.js: smolweb's public JavaScript API (DESIGN.md section 3).
//
//   import { loadModel } from 'smolweb';          // or '/path/to/web/src/index.js'
//   const model = await loadModel('/models/smollm2-135m-q4/manifest.json', { onProgress });
//   for await (const text of model.generate('Hello', { maxTokens: 64 })) out.append(text);
//
// The wasm runs in a module Web Worker (worker.js) with the variant this page
// can run: SIMD128 + threads when the page is cross-origin isolated, else
// SIMD128, else the baseline build, detected with WebAssembly.validate.
import { WorkerClient } from './client.js';
import { SmolwebError, abortError, throwIfAborted } from './errors.js';
import { detectDevice, chooseTier } from './device.js';
import { fetchManifest } from './fetch.js';
import { openCache } from './cache.js';

export { SmolwebError, detectDevice, chooseTier };

/** Models in the chunk cache: [{ manifestUrl, name, bytes, ... }]. */
export async function listCachedModels() {
  return (await openCache()).listModels();
}

/** Deletes a cached model's chunks and manifest. */
export async function deleteCachedModel(manifestUrl) {
  return (await openCache()).deleteModel(new URL(manifestUrl, baseHref()).href);
}

// Each build's files, named by literal `new URL('...', import.meta.url)`
// expressions: bundlers (Vite, webpack 5) recognise exactly this form, copy
// the file into their output and rewrite the URL (with its hashed name); with
// no bundler they resolve next to this file as usual. The loader is told the
// other two URLs (locateFile), since its own `new URL(name, import.meta.url)`
// would look beside the renamed copy.
const BUILDS = {
  'simd-threads': {
    loader: new URL('../../dist/smolweb-simd-threads.mjs', import.meta.url),
    wasm: new URL('../../dist/smolweb-simd-threads.wasm', import.meta.url),
    pthreadWorker: new URL('../../dist/smolweb-simd-threads.worker.js', import.meta.url),
  },
  simd: {
    loader: new URL('../../dist/smolweb-simd.mjs', import.meta.url),
    wasm: new URL('../../dist/smolweb-simd.wasm', import.meta.url),
  },
  scalar: {
    loader: new URL('../../dist/smolweb-scalar.mjs', import.meta.url),
    wasm: new URL('../../dist/smolweb-scalar.wasm', import.meta.url),
  },
};

/** The URLs of a variant's files, for the worker's init message. */
function buildFiles(variant) {
  const b = BUILDS[variant];
  const files = { [`smolweb-${variant}.wasm`]: b.wasm.href };
  if (b.pthreadWorker) files[`smolweb-${variant}.worker.js`] = b.pthreadWorker.href;
  return { loaderUrl: b.loader.href, files };
}

function baseHref() {
  return (globalThis.location && globalThis.location.href) || import.meta.url;
}

/** The build this device runs: 'simd-threads', 'simd' or 'scalar'. */
export function chooseVariant(device, threads) {
  if (device.simd && device.threads && threads > 1) return 'simd-threads';
  if (device.simd) return 'simd';
  return 'scalar';
}

/**
 * Fetches and validates the manifest, chooses a tier for this device (or
 * refuses with MODEL_TOO_LARGE before downloading), starts the worker and
 * loads every chunk (cache first), reporting progress.
 */
export async function loadModel(manifestUrl, opts = {}) {
  const { onProgress, signal, tier = 'auto', cache = true } = opts;
  throwIfAborted(signal);
  const url = new URL(manifestUrl, baseHref()).href;
  const emit = (p) => {
    if (onProgress) {
      try {
        onProgress(p);
      } catch {
        // a throwing progress callback must not break loading
      }
    }
  };
  emit({ loaded: 0, total: 0, layersReady: 0, layers: 0, phase: 'manifest', file: 'manifest.json' });
  const { text, json } = await fetchManifest(url, { signal });
  const device = await detectDevice();
  const choice = chooseTier(device, json, {
    tier,
    threads: opts.threads,
    contextLength: opts.contextLength,
    kvType: opts.kvType,
  });
  const threads = choice.threads;
  const variant = chooseVariant(device, threads);
  // the literal `new Worker(new URL(...), { type: 'module' })` form is what
  // bundlers look for to bundle worker.js and its imports as a worker
  const client = new WorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
  try {
    const { build } = await client.call(
      'init',
      { ...buildFiles(variant), poolSize: variant === 'simd-threads' ? threads - 1 : 0 }, // the worker itself is the first thread
      { signal },
    );
    const { info } = await client.call(
      'load',
      {
        manifestUrl: url,
        manifestText: text,
        nCtx: choice.contextLength,
        threads: variant === 'simd-threads' ? threads : 1,
        kvF16: choice.kvType === 'f16',
        cache,
        maxInFlight: opts.maxInFlight || 3,
      },
      { signal, onEvent: (m) => m.type === 'progress' && emit(m.progress) },
    );
    return new Model(client, { ...info, tier: choice.tier, tierReason: choice.reason, kvType: choice.kvType, variant, build }, json);
  } catch (e) {
    client.terminate();
    throw e;
  }
}

export class Model {
  #client;
  #busy = false;
  #manifest;
  #template = null;

  constructor(client, info, manifest) {
    this.#client = client;
    this.#manifest = manifest;
    const { chatTemplate, stopIds, nVocab, specialTokens, ...pub } = info;
    this.info = Object.freeze(pub);
    this.lastRun = null;
    this._chatTemplate = chatTemplate;
    this._specialTokens = specialTokens || {};
  }

  tokenize(text) {
    return this.#client.call('tokenize', { text: String(text) }).then((r) => r.ids);
  }

  detokenize(ids) {
    return this.#client.call('detokenize', { ids: Array.from(ids) }).then((r) => r.text);
  }

  /** Prompt ids for a string, chat messages or { ids }; for messages, the
   * oldest turns after the system message are dropped until the prompt fits. */
  async #promptIds(prompt, maxTokens) {
    if (typeof prompt === 'string') return { ids: await this.tokenize(prompt), dropped: 0 };
    if (prompt && Array.isArray(prompt.ids)) return { ids: prompt.ids.map((x) => x | 0), dropped: 0 };
    if (Array.isArray(prompt)) {
      if (!this._chatTemplate) throw new SmolwebError('UNSUPPORTED', `${this.info.name} has no chat template: pass a string prompt`);
      const chat = await import('./chat.js');
      const ctx = this.info.contextLength;
      const limit = ctx - Math.min(maxTokens, Math.floor(ctx / 2));
      const render = (msgs) => chat.renderChat(this._chatTemplate, msgs, { specialTokens: this._specialTokens });
      const fit = await chat.fitMessages(prompt, async (msgs) => (await this.tokenize(await render(msgs))).length, limit);
      return { ids: await this.tokenize(await render(fit.messages)), dropped: fit.dropped };
    }
    throw new TypeError('prompt must be a string, an array of {role, content} messages, or { ids: number[] }');
  }

  /**
   * Generates text; returns a ReadableStream<string> of decoded pieces that
   * closes at EOS, maxTokens or a stop string, and errors with an AbortError
   * when opts.signal aborts (the model stays usable).
   */
  generate(prompt, opts = {}) {
    if (this.#busy) throw new SmolwebError('BUSY', 'a generation is already running on this model');
    this.#busy = true;
    const maxTokens = opts.maxTokens > 0 ? opts.maxTokens : 256;
    const ctl = new AbortController();
    const userSignal = opts.signal;
    const onUserAbort = () => ctl.abort();
    if (userSignal) {
      if (userSignal.aborted) ctl.abort();
      else userSignal.addEventListener('abort', onUserAbort, { once: true });
    }
    // only what the caller set: the rest are the C defaults (smolweb_sampler_default_params)
    const sampling = {};
    const set = (k, v) => v !== undefined && v !== null && (sampling[k] = Number(v));
    set('temperature', opts.temperature);
    set('top_k', opts.topK);
    set('top_p', opts.topP);
    set('min_p', opts.minP);
    set('repeat_penalty', opts.repeatPenalty);
    sampling.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
    const finish = () => {
      this.#busy = false;
      if (userSignal) userSignal.removeEventListener('abort', onUserAbort);
    };
    let dropped = 0;
    const t0 = performance.now();
    return new ReadableStream({
      start: async (controller) => {
        let tFirst = 0;
        try {
          throwIfAborted(ctl.signal);
          const p = await this.#promptIds(prompt, maxTokens);
          dropped = p.dropped;
          if (p.ids.length >= this.info.contextLength)
            throw new SmolwebError('CONTEXT_LENGTH', `the prompt has ${p.ids.length} tokens; the context holds ${this.info.contextLength}`);
          const res = await this.#client.call(
            'generate',
            { ids: p.ids, sampling, maxTokens, stop: opts.stop || [], ignoreEos: !!opts.ignoreEos, prefillSlice: opts.prefillSlice || 0 },
            {
              signal: ctl.signal,
              onEvent: (m) => {
                if (m.type !== 'piece') return;
                if (!tFirst) tFirst = performance.now();
                controller.enqueue(m.text);
              },
            },
          );
          // time to first token as the page sees it: from generate() to the
          // first streamed text, chat rendering and tokenizing included
          this.lastRun = { ...res.lastRun, ttftMs: tFirst ? tFirst - t0 : res.lastRun.ttftMs, droppedMessages: dropped };
          finish();
          controller.close();
        } catch (e) {
          if (e && e.lastRun) this.lastRun = { ...e.lastRun, droppedMessages: dropped };
          finish();
          controller.error(e && e.name === 'AbortError' ? abortError() : e);
        }
      },
      cancel: () => ctl.abort(),
    });
  }

  /** Frees the model and stops its worker. */
  async dispose() {
    try {
      await this.#client.call('dispose');
    } finally {
      this.#client.terminate();
    }
  }
}

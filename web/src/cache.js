// cache.js: verified chunks and their manifests in the Cache API, so a second
// visit loads with no network and an interrupted download keeps what it had.
//
// Keys. A chunk is stored under a synthetic request URL: its own URL plus a
// `smolweb-sha256=<hex>` query parameter, so a chunk re-published with new
// bytes (new hash) never matches the old entry, and the hash the caller will
// verify against is part of the key. A manifest is stored under its URL plus
// `smolweb-manifest=1`, which is how listModels() finds models.
//
// Writes. put() is called only with complete bytes whose SHA-256 the caller
// has checked. The Cache API commits an entry only once its body has been
// read to the end, so a failed or interrupted put leaves no entry at all:
// there is never a half-written chunk. The body is streamed from the bytes
// in 1 MiB slices (each copied), which means (1) a view of a SharedArrayBuffer
// (wasm threads memory), which Response() refuses, works, and (2) no second
// copy of a whole chunk is made. Pass a function returning the view instead
// of the view itself when the bytes live in wasm memory that may grow (a grow
// replaces the buffer and empties old views); it is called for each slice.
// A QuotaExceededError becomes SmolwebError QUOTA: the caller carries on from
// memory and tells the user.
//
// The Cache API exists in pages and workers of secure contexts (https,
// localhost); elsewhere, or in private modes that refuse it, openCache()
// throws UNSUPPORTED and the caller loads without a cache. Whether to cache
// at all (`cache: false`) is the caller's decision.

import { SmolwebError } from './errors.js';

export const CACHE_NAME = 'smolweb-v1';
const SHA_PARAM = 'smolweb-sha256';
const MANIFEST_PARAM = 'smolweb-manifest';
const SLICE = 1 << 20;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The cache key (a URL string) of a chunk: url + smolweb-sha256=<hex>. */
export function chunkKey(url, sha256) {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw new TypeError(`chunk ${url}: sha256 must be 64 lowercase hex digits (got ${JSON.stringify(sha256)})`);
  }
  const u = new URL(url);
  u.searchParams.set(SHA_PARAM, sha256);
  return u.href;
}

/** The cache key of a manifest. */
export function manifestKey(manifestUrl) {
  const u = new URL(manifestUrl);
  u.searchParams.set(MANIFEST_PARAM, '1');
  return u.href;
}

// The chunk URL (without our parameter) and hash of a key, or null.
function parseChunkKey(key) {
  const u = new URL(key);
  const sha = u.searchParams.get(SHA_PARAM);
  if (!sha) return null;
  u.searchParams.delete(SHA_PARAM);
  return { url: u.href, sha256: sha };
}

function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22 || e.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

function quotaError(what, bytes, e) {
  return new SmolwebError('QUOTA', `${what}: storage quota exceeded while caching ${bytes} bytes; the model runs from memory and will download again next time`, {
    file: what,
    cause: e,
  });
}

// A ReadableStream of the bytes in 1 MiB copied slices; source is a
// Uint8Array or a function returning one (re-read for every slice). The
// Cache API reports a failed body as a bare "network error", so the reason is
// kept in failure.error for put() to rethrow.
function sliceStream(source, length) {
  let pos = 0;
  const failure = { error: null };
  const stream = new ReadableStream({
    pull(controller) {
      try {
        if (pos >= length) {
          controller.close();
          return;
        }
        const view = typeof source === 'function' ? source() : source;
        if (!view || view.length !== length) {
          throw new SmolwebError('INTERNAL', `cache put: the bytes changed size while being stored (${view ? view.length : 'none'} != ${length})`);
        }
        const end = Math.min(length, pos + SLICE);
        controller.enqueue(view.slice(pos, end));
        pos = end;
      } catch (e) {
        failure.error = e;
        controller.error(e);
      }
    },
  });
  return { stream, failure };
}

/**
 * Opens the chunk cache. Throws SmolwebError UNSUPPORTED when there is no
 * Cache API here (insecure context, refused private mode).
 * @param {{ name?: string, storage?: CacheStorage }} [opts] storage defaults to globalThis.caches
 * @returns {Promise<ChunkCache>}
 */
export async function openCache({ name = CACHE_NAME, storage = globalThis.caches } = {}) {
  if (!storage || typeof storage.open !== 'function') {
    throw new SmolwebError('UNSUPPORTED', 'no Cache API here (it needs a secure context: https or localhost); loading without a cache');
  }
  let cache;
  try {
    cache = await storage.open(name);
  } catch (e) {
    throw new SmolwebError('UNSUPPORTED', `the Cache API refused to open "${name}": ${e && e.message}`, { cause: e });
  }
  return new ChunkCache(cache, storage, name);
}

export class ChunkCache {
  /** Use openCache(). */
  constructor(cache, storage, name) {
    this.cache = cache;
    this.storage = storage;
    this.name = name;
  }

  /** The stored Response for a chunk (stream its body, or arrayBuffer()), or
   * null. The caller verifies its SHA-256 and remove()s it on a mismatch. */
  async get(url, sha256) {
    const res = await this.cache.match(chunkKey(url, sha256));
    return res || null;
  }

  /**
   * Stores a chunk's complete, verified bytes. bytes: a Uint8Array (may view a
   * SharedArrayBuffer) or a function returning the current view (for wasm
   * memory that may grow). Throws SmolwebError QUOTA when storage is full
   * (nothing is stored); other failures propagate.
   */
  async put(url, sha256, bytes) {
    const key = chunkKey(url, sha256);
    const first = typeof bytes === 'function' ? bytes() : bytes;
    if (!(first instanceof Uint8Array)) throw new TypeError(`cache put ${url}: bytes must be a Uint8Array or a function returning one`);
    const length = first.length;
    const { stream, failure } = sliceStream(bytes, length);
    const res = new Response(stream, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(length),
        'X-Smolweb-Sha256': sha256,
      },
    });
    try {
      await this.cache.put(key, res);
    } catch (e) {
      if (failure.error) throw failure.error;
      if (isQuotaError(e)) throw quotaError(url, length, e);
      throw e;
    }
  }

  /** Deletes a chunk's entry; true if there was one. */
  async remove(url, sha256) {
    return this.cache.delete(chunkKey(url, sha256));
  }

  /** Stores manifest.json's text under its URL (so listModels can name the
   * model and its size); QUOTA as put(). */
  async putManifest(manifestUrl, text) {
    try {
      await this.cache.put(
        manifestKey(manifestUrl),
        new Response(text, { headers: { 'Content-Type': 'application/json', 'X-Smolweb-Stored': new Date().toISOString() } }),
      );
    } catch (e) {
      if (isQuotaError(e)) throw quotaError(manifestUrl, text.length, e);
      throw e;
    }
  }

  /** The stored manifest text, or null (e.g. to load offline). */
  async getManifest(manifestUrl) {
    const res = await this.cache.match(manifestKey(manifestUrl));
    return res ? res.text() : null;
  }

  // Every chunk key in the cache, as Map(chunk URL -> Set(sha256)).
  async chunkIndex() {
    const index = new Map();
    for (const req of await this.cache.keys()) {
      const k = parseChunkKey(req.url);
      if (!k) continue;
      if (!index.has(k.url)) index.set(k.url, new Set());
      index.get(k.url).add(k.sha256);
    }
    return index;
  }

  /**
   * The models whose manifest is stored:
   * [{ manifestUrl, name, params, quant, totalBytes, cachedBytes, files,
   *    cachedFiles, complete, storedAt }], cachedBytes counting the files
   * whose exact (URL, SHA-256) entry is present.
   */
  async listModels() {
    const index = await this.chunkIndex();
    const out = [];
    for (const req of await this.cache.keys()) {
      const u = new URL(req.url);
      if (u.searchParams.get(MANIFEST_PARAM) !== '1') continue;
      u.searchParams.delete(MANIFEST_PARAM);
      const manifestUrl = u.href;
      const res = await this.cache.match(req);
      if (!res) continue;
      let m;
      try {
        m = JSON.parse(await res.text());
      } catch {
        continue; // not ours to judge here; deleteModel can still remove it
      }
      const files = Array.isArray(m.files) ? m.files : [];
      let totalBytes = 0;
      let cachedBytes = 0;
      let cachedFiles = 0;
      for (const f of files) {
        const bytes = Number.isSafeInteger(f.bytes) ? f.bytes : 0;
        totalBytes += bytes;
        let url;
        try {
          url = new URL(f.path, manifestUrl).href;
        } catch {
          continue;
        }
        if (index.get(url)?.has(f.sha256)) {
          cachedBytes += bytes;
          cachedFiles++;
        }
      }
      out.push({
        manifestUrl,
        name: typeof m.name === 'string' ? m.name : manifestUrl,
        params: m.params ?? null,
        quant: m.quantization && m.quantization.weights ? m.quantization.weights : null,
        totalBytes,
        cachedBytes,
        files: files.length,
        cachedFiles,
        complete: files.length > 0 && cachedFiles === files.length,
        storedAt: res.headers.get('X-Smolweb-Stored'),
      });
    }
    return out;
  }

  /**
   * Deletes a model: its manifest and every stored version (any SHA-256) of
   * each file its stored manifest lists. Returns { files, bytes } removed
   * (bytes from the manifest's sizes; 0 for versions it does not describe).
   */
  async deleteModel(manifestUrl) {
    const text = await this.getManifest(manifestUrl);
    let files = [];
    if (text !== null) {
      try {
        const m = JSON.parse(text);
        if (Array.isArray(m.files)) files = m.files;
      } catch {
        files = [];
      }
    }
    const index = await this.chunkIndex();
    let removedFiles = 0;
    let removedBytes = 0;
    for (const f of files) {
      let url;
      try {
        url = new URL(f.path, manifestUrl).href;
      } catch {
        continue;
      }
      for (const sha of index.get(url) || []) {
        if (await this.cache.delete(chunkKey(url, sha))) {
          removedFiles++;
          if (sha === f.sha256 && Number.isSafeInteger(f.bytes)) removedBytes += f.bytes;
        }
      }
    }
    await this.cache.delete(manifestKey(manifestUrl));
    return { files: removedFiles, bytes: removedBytes };
  }
}

/**
 * Whether bytesNeeded more bytes fit the origin's storage quota:
 * { ok, quota, usage, available, bytesNeeded }, with quota/usage/available
 * null and ok true when the browser does not say (no navigator.storage).
 */
export async function checkQuota(bytesNeeded, nav = globalThis.navigator) {
  const unknown = { ok: true, quota: null, usage: null, available: null, bytesNeeded };
  if (!nav || !nav.storage || typeof nav.storage.estimate !== 'function') return unknown;
  let est;
  try {
    est = await nav.storage.estimate();
  } catch {
    return unknown;
  }
  if (!est || !Number.isFinite(est.quota)) return unknown;
  const usage = Number.isFinite(est.usage) ? est.usage : 0;
  const available = Math.max(0, est.quota - usage);
  return { ok: available >= bytesNeeded, quota: est.quota, usage, available, bytesNeeded };
}

/** Asks the browser to keep this origin's storage under pressure
 * (navigator.storage.persist()). Resolves true if storage is persistent,
 * false if refused or not available; never throws. */
export async function requestPersist(nav = globalThis.navigator) {
  const s = nav && nav.storage;
  if (!s) return false;
  try {
    if (typeof s.persisted === 'function' && (await s.persisted())) return true;
    if (typeof s.persist === 'function') return !!(await s.persist());
  } catch {
    // workers lack persist() in some browsers; permission errors
  }
  return false;
}

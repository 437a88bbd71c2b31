// fetch.js: downloads that survive bad networks and fail with errors a user
// can act on.
//
// download() streams a file's body into a caller's write(u8, offset) as bytes
// arrive, so nothing buffers a whole chunk here. A connection that drops
// mid-body is resumed with `Range: bytes=N-` from the byte reached; a server
// that answers the Range with 200 (the whole file) restarts the file from 0,
// and onBytes is told to subtract what it had counted. Failures are retried
// with exponential backoff and jitter:
//   - a network error or a dropped body: retried; `retries` counts
//     consecutive attempts that brought no new byte, so a flaky connection
//     that keeps making progress finishes the file (at most one attempt per
//     byte, so this ends), while a dead one gives up with NETWORK;
//   - HTTP 5xx, 408 and 429 (honouring Retry-After, capped): retried, then
//     HTTP_STATUS; any other 4xx (404...) fails at once with HTTP_STATUS;
//   - a body that ends cleanly but short (truncated): resumed once, then
//     BAD_CHUNK; a body longer than expectedBytes: BAD_CHUNK at once, and
//     write() never sees a byte past expectedBytes.
// No If-Range is sent: it is not a CORS-safelisted header (a cross-origin
// chunk would need a preflight), and the caller's SHA-256 check catches a
// file that changed between two requests. When a cross-origin server does not
// expose Content-Range, a 206 is trusted to start where it was asked to.
// Every await honours the AbortSignal: an abort rejects with the standard
// DOMException 'AbortError' and cancels the body.

import { SmolwebError, abortError, throwIfAborted } from './errors.js';

const DEFAULTS = Object.freeze({ retries: 4, backoffMs: 250, maxBackoffMs: 8000, maxRetryAfterMs: 30000 });

/** The last path segment of a URL (how messages name a file), or the URL. */
export function fileNameOf(url) {
  try {
    const p = new URL(String(url), 'http://x/').pathname;
    const name = decodeURIComponent(p.slice(p.lastIndexOf('/') + 1));
    return name || String(url);
  } catch {
    return String(url);
  }
}

/** A manifest file's URL: its path resolved against the manifest's URL. */
export function fileUrl(manifestUrl, path) {
  return new URL(path, manifestUrl).href;
}

/** Resolves after ms, or rejects with AbortError as soon as signal aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backoff before retry number n (1-based): base * 2^(n-1), capped, with
 * "equal jitter" (between half and all of it) so clients do not retry in step. */
export function backoffDelay(n, { backoffMs = DEFAULTS.backoffMs, maxBackoffMs = DEFAULTS.maxBackoffMs, random = Math.random } = {}) {
  const d = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, n - 1));
  return d / 2 + random() * (d / 2);
}

const RETRY_STATUS = new Set([408, 429]);
const isRetryableStatus = (s) => s >= 500 || RETRY_STATUS.has(s);

function retryAfterMs(res, cap) {
  const h = res.headers && res.headers.get('Retry-After');
  if (!h) return 0;
  const secs = Number(h);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(cap, secs * 1000);
  const when = Date.parse(h);
  return Number.isFinite(when) ? Math.min(cap, Math.max(0, when - Date.now())) : 0;
}

function httpError(file, url, res) {
  const text = res.statusText ? ` ${res.statusText}` : '';
  return new SmolwebError('HTTP_STATUS', `${file}: HTTP ${res.status}${text} from ${url}`, { file, status: res.status });
}

function networkError(file, url, attempts, cause) {
  const why = cause && cause.message ? `: ${cause.message}` : '';
  return new SmolwebError('NETWORK', `${file}: network error fetching ${url} (${attempts} attempt${attempts === 1 ? '' : 's'})${why}`, {
    file,
    cause,
  });
}

function cancelBody(res) {
  try {
    if (res && res.body && !res.bodyUsed) res.body.cancel().catch(() => {});
  } catch {
    // already locked or consumed
  }
}

// `bytes START-END/TOTAL` -> { start, end, total|null } or null
function parseContentRange(h) {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(h || '');
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/**
 * Downloads url into write(), resuming and retrying (see the top of the file).
 *
 * @param {string} url
 * @param {object} opts
 * @param {number} opts.expectedBytes the file's exact size (from the manifest)
 * @param {(u8: Uint8Array, offset: number) => void|Promise<void>} opts.write
 *   receives the bytes at [offset, offset + u8.length); offsets increase,
 *   except after a restart, which begins again at 0. u8 is not reused by the
 *   caller of write, which may keep it. An error thrown here ends the download
 *   and is rethrown as is.
 * @param {AbortSignal} [opts.signal]
 * @param {number} [opts.retries=4] consecutive attempts without progress
 *   allowed after the first, for network errors and retryable statuses
 * @param {number} [opts.backoffMs=250] first backoff (doubles per retry)
 * @param {number} [opts.maxBackoffMs=8000]
 * @param {(delta: number) => void} [opts.onBytes] bytes written since the last
 *   call; negative when a restart discards what was counted
 * @param {typeof fetch} [opts.fetchImpl=globalThis.fetch]
 * @param {string} [opts.file] the name in messages (default: the URL's last segment)
 * @param {RequestInit} [opts.init] extra fetch options (e.g. { cache: 'no-store' }
 *   in a browser, so the HTTP cache does not keep a second copy of what the
 *   Cache API stores); its headers are merged with Range
 * @param {() => number} [opts.random=Math.random] jitter source (tests)
 * @returns {Promise<{ bytes: number, requests: number, resumes: number, restarts: number }>}
 * @throws SmolwebError NETWORK | HTTP_STATUS | BAD_CHUNK, DOMException AbortError
 */
export async function download(url, opts) {
  const {
    expectedBytes,
    write,
    signal,
    retries = DEFAULTS.retries,
    backoffMs = DEFAULTS.backoffMs,
    maxBackoffMs = DEFAULTS.maxBackoffMs,
    onBytes = () => {},
    fetchImpl = globalThis.fetch,
    file = fileNameOf(url),
    init = {},
    random = Math.random,
  } = opts || {};
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0) {
    throw new TypeError(`download ${file}: expectedBytes must be a non-negative integer (got ${expectedBytes})`);
  }
  if (typeof write !== 'function') throw new TypeError(`download ${file}: write must be a function`);
  if (typeof fetchImpl !== 'function') throw new SmolwebError('UNSUPPORTED', `download ${file}: no fetch() in this context`, { file });
  throwIfAborted(signal);

  let received = 0; // bytes [0, received) are written
  let failures = 0; // consecutive attempts without a new byte
  let truncations = 0;
  let requests = 0;
  let resumes = 0;
  let restarts = 0;
  let waitMs = 0;

  const restartFromZero = () => {
    if (received > 0) onBytes(-received);
    received = 0;
    restarts++;
  };
  // after a failed attempt: back off, or give up with `err` when out of retries
  const fail = async (err, extraWaitMs = 0) => {
    failures++;
    if (failures > retries) throw err;
    waitMs = Math.max(extraWaitMs, backoffDelay(failures, { backoffMs, maxBackoffMs, random }));
  };

  for (;;) {
    if (waitMs > 0) await sleep(waitMs, signal);
    waitMs = 0;
    throwIfAborted(signal);
    const ranged = received > 0;
    const headers = new Headers(init.headers || {});
    if (ranged) headers.set('Range', `bytes=${received}-`);
    else headers.delete('Range');
    let res;
    requests++;
    try {
      res = await fetchImpl(url, { ...init, headers, signal });
    } catch (e) {
      if (signal && signal.aborted) throw abortError();
      await fail(networkError(file, url, requests, e));
      continue;
    }
    if (signal && signal.aborted) {
      cancelBody(res);
      throw abortError();
    }

    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('Content-Range'));
      const sane = cr
        ? cr.start === received && cr.end === expectedBytes - 1 && (cr.total === null || cr.total === expectedBytes)
        : ranged; // hidden by CORS: trust a 206 only if we asked for a range
      if (!sane) {
        // a range we did not ask for: start over without one
        cancelBody(res);
        restartFromZero();
        await fail(new SmolwebError('BAD_CHUNK', `${file}: server answered with Content-Range "${res.headers.get('Content-Range')}" for bytes ${received}- of ${expectedBytes}`, { file }));
        continue;
      }
      if (ranged) resumes++;
    } else if (res.status === 200) {
      if (ranged) restartFromZero(); // Range ignored: this is the whole file
    } else if (res.status === 416 && ranged) {
      // the server's file is shorter than what we already have
      cancelBody(res);
      restartFromZero();
      await fail(new SmolwebError('BAD_CHUNK', `${file}: server refused bytes ${received}- (HTTP 416): its file is not the expected ${expectedBytes} bytes`, { file }));
      continue;
    } else {
      cancelBody(res);
      const err = res.ok
        ? new SmolwebError('HTTP_STATUS', `${file}: unexpected HTTP ${res.status} from ${url}`, { file, status: res.status })
        : httpError(file, url, res);
      if (!isRetryableStatus(res.status)) throw err;
      await fail(err, retryAfterMs(res, DEFAULTS.maxRetryAfterMs));
      continue;
    }

    // stream the body
    const start = received;
    const outcome = await pump(res, { file, url, expectedBytes, signal, write, onBytes, offset: received });
    received = outcome.received;
    if (received > start) failures = 0;
    if (outcome.error) {
      await fail(networkError(file, url, requests, outcome.error));
      continue;
    }
    if (received === expectedBytes) return { bytes: received, requests, resumes, restarts };
    // ended cleanly but short: resume once, then give up
    truncations++;
    if (truncations > 1) {
      throw new SmolwebError('BAD_CHUNK', `${file}: body truncated: expected ${expectedBytes} bytes, got ${received} from ${url}`, { file });
    }
  }
}

// Reads res.body into write() from `offset`. Resolves { received } when the
// body ends, { received, error } when the connection fails mid-body; rejects
// with AbortError, BAD_CHUNK (too long) or whatever write() throws.
async function pump(res, { file, url, expectedBytes, signal, write, onBytes, offset }) {
  let received = offset;
  if (!res.body) return { received };
  const reader = res.body.getReader();
  // a fetchImpl that ignores the signal still stops: cancel the reader
  const onAbort = () => reader.cancel().catch(() => {});
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let r;
      try {
        r = await reader.read();
      } catch (e) {
        if (signal && signal.aborted) throw abortError();
        return { received, error: e };
      }
      if (signal && signal.aborted) throw abortError();
      if (r.done) return { received };
      const u8 = r.value;
      if (!u8 || u8.length === 0) continue;
      if (received + u8.length > expectedBytes) {
        throw new SmolwebError('BAD_CHUNK', `${file}: body longer than the expected ${expectedBytes} bytes (at least ${received + u8.length}) from ${url}`, { file });
      }
      await write(u8, received);
      received += u8.length;
      onBytes(u8.length);
      if (signal && signal.aborted) throw abortError();
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort);
    try {
      reader.releaseLock();
    } catch {
      // a read still pending after cancel: the lock goes with the stream
    }
  }
}

/**
 * Fetches and parses manifest.json, with the same retries as download().
 * Checks only that it is JSON with the basic shape the loader needs (format
 * "smolweb-model", a config object and a non-empty files array of
 * {path, bytes, sha256}); the C reader in wasm validates the rest.
 *
 * @param {string} url
 * @param {{ signal?: AbortSignal, retries?: number, backoffMs?: number,
 *   fetchImpl?: typeof fetch, init?: RequestInit, random?: () => number }} [opts]
 * @returns {Promise<{ text: string, json: object, url: string }>} url is the
 *   final URL after redirects: resolve file paths against it (fileUrl)
 * @throws SmolwebError NETWORK | HTTP_STATUS | BAD_MANIFEST, AbortError
 */
export async function fetchManifest(url, opts = {}) {
  const {
    signal,
    retries = DEFAULTS.retries,
    backoffMs = DEFAULTS.backoffMs,
    maxBackoffMs = DEFAULTS.maxBackoffMs,
    fetchImpl = globalThis.fetch,
    init = {},
    random = Math.random,
  } = opts;
  const file = fileNameOf(url) || 'manifest.json';
  if (typeof fetchImpl !== 'function') throw new SmolwebError('UNSUPPORTED', `${file}: no fetch() in this context`, { file });
  let failures = 0;
  let attempts = 0;
  for (;;) {
    throwIfAborted(signal);
    attempts++;
    let res;
    let text;
    let err = null;
    let extraWait = 0;
    try {
      res = await fetchImpl(url, { ...init, signal });
      if (signal && signal.aborted) {
        cancelBody(res);
        throw abortError();
      }
      if (!res.ok) {
        cancelBody(res);
        const e = httpError(file, url, res);
        if (!isRetryableStatus(res.status)) throw e;
        err = e;
        extraWait = retryAfterMs(res, DEFAULTS.maxRetryAfterMs);
      } else {
        text = await res.text();
      }
    } catch (e) {
      if (signal && signal.aborted) throw abortError();
      if (e instanceof SmolwebError) throw e;
      err = networkError(file, url, attempts, e);
    }
    throwIfAborted(signal);
    if (err) {
      failures++;
      if (failures > retries) throw err;
      await sleep(Math.max(extraWait, backoffDelay(failures, { backoffMs, maxBackoffMs, random })), signal);
      continue;
    }
    const json = parseManifestText(text, file);
    return { text, json, url: res.url || String(url) };
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** JSON.parse plus the basic shape checks of fetchManifest; throws BAD_MANIFEST
 * naming the file and the first problem. */
export function parseManifestText(text, file = 'manifest.json') {
  const bad = (msg) => new SmolwebError('BAD_MANIFEST', `${file}: ${msg}`, { file });
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${e.message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  if (json.format !== 'smolweb-model') throw bad(`not a smolweb manifest (format is ${JSON.stringify(json.format)}, expected "smolweb-model")`);
  if (!json.config || typeof json.config !== 'object' || Array.isArray(json.config)) throw bad('no config object');
  if (!Array.isArray(json.files) || json.files.length === 0) throw bad('no files array');
  json.files.forEach((f, i) => {
    if (!f || typeof f !== 'object') throw bad(`files[${i}] is not an object`);
    if (typeof f.path !== 'string' || f.path === '') throw bad(`files[${i}].path is not a non-empty string`);
    if (!Number.isSafeInteger(f.bytes) || f.bytes < 1) throw bad(`files[${i}] (${f.path}): bytes is not a positive integer`);
    if (typeof f.sha256 !== 'string' || !SHA256_HEX.test(f.sha256)) throw bad(`files[${i}] (${f.path}): sha256 is not 64 lowercase hex digits`);
  });
  return json;
}

// errors.js: the errors the library throws, and their trip across postMessage.
//
// Every failure a caller can act on is a SmolwebError with a stable `code`
// (one of ERROR_CODES) and a one-line message naming the file or value at
// fault ("layer-003.swc: HTTP 404 Not Found from https://..."). An abort is
// never a SmolwebError: it is the platform's DOMException named 'AbortError',
// the same thing fetch() rejects with, so `e.name === 'AbortError'` works
// everywhere.
//
// Errors cannot cross a worker boundary as themselves (structured clone keeps
// only the standard Error names and drops our fields), so the worker sends
// serializeError(e) and the page rebuilds it with deserializeError(obj).

/** The codes of SmolwebError, frozen; DESIGN.md section 3 lists their meaning. */
export const ERROR_CODES = Object.freeze([
  'NETWORK', // the connection failed or dropped, after retries
  'HTTP_STATUS', // the server answered 4xx/5xx (after retries for 5xx/408/429)
  'INTEGRITY', // a file's SHA-256 differs from the manifest's
  'BAD_MANIFEST', // manifest.json is not valid JSON or fails its schema
  'BAD_CHUNK', // a chunk's size or format is wrong
  'QUOTA', // storage quota exceeded while caching
  'MODEL_TOO_LARGE', // the model cannot fit this device (checked before download)
  'CONTEXT_LENGTH', // a prompt longer than the context
  'BUSY', // a second generate() while one runs
  'UNSUPPORTED', // the platform or the model lacks something needed
  'INTERNAL', // a bug or an unexpected runtime failure
]);

const CODE_SET = new Set(ERROR_CODES);

export class SmolwebError extends Error {
  /**
   * @param {string} code one of ERROR_CODES (an unknown code becomes INTERNAL)
   * @param {string} message one line naming the file or value at fault
   * @param {{file?: string, status?: number, cause?: unknown}} [opts]
   *   file: the manifest-relative path or URL concerned; status: the HTTP
   *   status for HTTP_STATUS; cause: the underlying error.
   */
  constructor(code, message, { file, status, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SmolwebError';
    this.code = CODE_SET.has(code) ? code : 'INTERNAL';
    if (file !== undefined) this.file = file;
    if (status !== undefined) this.status = status;
  }
}

/** A new DOMException named 'AbortError' (what fetch() rejects with when its
 * signal aborts). */
export function abortError(message = 'The operation was aborted.') {
  return new DOMException(message, 'AbortError');
}

/** True for an abort from any source: our abortError(), fetch's, a stream's. */
export function isAbortError(e) {
  return e != null && typeof e === 'object' && e.name === 'AbortError';
}

/** Throws abortError() if signal is aborted; a no-op without a signal. */
export function throwIfAborted(signal) {
  if (signal && signal.aborted) throw abortError();
}

/** Wraps anything thrown into a SmolwebError of `code` (default INTERNAL);
 * SmolwebErrors and aborts pass through unchanged. */
export function toSmolwebError(e, code = 'INTERNAL', prefix = '') {
  if (e instanceof SmolwebError || isAbortError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new SmolwebError(code, prefix ? `${prefix}: ${msg}` : msg, { cause: e });
}

const MAX_CAUSE_DEPTH = 4;

/**
 * A plain, structured-cloneable object describing e, for postMessage:
 * { kind: 'SmolwebError'|'AbortError'|'Error', name, message, code?, file?,
 *   status?, stack?, cause? } (cause serialized the same way, 4 levels deep).
 */
export function serializeError(e, depth = 0) {
  if (!(e instanceof Error) && !isAbortError(e)) {
    return { kind: 'Error', name: 'Error', message: String(e) };
  }
  const out = {
    kind: e instanceof SmolwebError ? 'SmolwebError' : isAbortError(e) ? 'AbortError' : 'Error',
    name: String(e.name),
    message: String(e.message),
  };
  if (typeof e.stack === 'string') out.stack = e.stack;
  if (out.kind === 'SmolwebError') {
    out.code = e.code;
    if (e.file !== undefined) out.file = String(e.file);
    if (e.status !== undefined) out.status = Number(e.status);
  }
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/** Rebuilds what serializeError produced: a SmolwebError (same code, message,
 * file, status), a DOMException 'AbortError', or an Error with the original
 * name; the worker-side stack is kept as `remoteStack`. Anything malformed
 * becomes an INTERNAL SmolwebError. */
export function deserializeError(obj) {
  if (!obj || typeof obj !== 'object' || typeof obj.message !== 'string') {
    return new SmolwebError('INTERNAL', `malformed error from the worker: ${safeJson(obj)}`);
  }
  const cause = obj.cause !== undefined ? deserializeError(obj.cause) : undefined;
  let e;
  if (obj.kind === 'AbortError') {
    e = abortError(obj.message);
  } else if (obj.kind === 'SmolwebError') {
    e = new SmolwebError(obj.code, obj.message, { file: obj.file, status: obj.status, cause });
  } else {
    e = new Error(obj.message, cause === undefined ? undefined : { cause });
    if (typeof obj.name === 'string' && obj.name) e.name = obj.name;
  }
  if (typeof obj.stack === 'string') {
    try {
      Object.defineProperty(e, 'remoteStack', { value: obj.stack, enumerable: false, configurable: true });
    } catch {
      // a frozen DOMException in some engine: the stack is only a debugging aid
    }
  }
  return e;
}

function safeJson(v) {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The SmolwebError code for a wasm runtime status name (runtime.js's
 * SmolwebWasmError.status: 'INTEGRITY', 'NOMEM', ...), given where it
 * happened: 'manifest' (model create), 'chunk' (commit) or anything else.
 */
export function codeForWasmStatus(status, where = '') {
  switch (status) {
    case 'INTEGRITY':
      return 'INTEGRITY';
    case 'CONTEXT':
      return 'CONTEXT_LENGTH';
    case 'UNSUPPORTED':
      return 'UNSUPPORTED';
    case 'NOMEM':
      return 'MODEL_TOO_LARGE';
    case 'FORMAT':
    case 'SHAPE':
    case 'MISSING':
      return where === 'manifest' ? 'BAD_MANIFEST' : where === 'chunk' ? 'BAD_CHUNK' : 'INTERNAL';
    case 'INVALID_ARG':
      return where === 'manifest' ? 'BAD_MANIFEST' : 'INTERNAL';
    default:
      return 'INTERNAL';
  }
}

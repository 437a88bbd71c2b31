// protocol.js: the messages between the page (client.js) and the module
// worker that runs the wasm (worker.js). Every message carries the protocol
// version `v`; a request carries an `id` that its replies repeat.
//
// page -> worker (requests)
//   init       { loaderUrl, files, poolSize }               -> ok { build }
//                (files: { 'smolweb-<variant>.wasm': url, ... } for locateFile)
//   load       { manifestUrl, manifestText, nCtx, threads,
//                cache, maxInFlight }                        -> progress*, ok { info }
//   generate   { ids, sampling, maxTokens, stop, ignoreEos,
//                prefillSlice }                              -> prefilled, piece*, ok { lastRun }
//   tokenize   { text }                                      -> ok { ids }
//   detokenize { ids }                                       -> ok { text }
//   dispose    {}                                            -> ok {}
//   abort      { target }   (no reply: the target request ends with an AbortError)
// worker -> page (replies)
//   ok { id, result } | error { id, error: serializeError(...) } |
//   progress { id, progress } | prefilled { id, ms, tokens } | piece { id, text }
export const PROTOCOL_VERSION = 1;

/** A request message. */
export function request(id, type, body = {}) {
  return { v: PROTOCOL_VERSION, id, type, ...body };
}

/** A reply or event for request id. */
export function reply(id, type, body = {}) {
  return { v: PROTOCOL_VERSION, id, type, ...body };
}

// text.js: what the demo says to people: what to do about each error code of
// the library (SmolwebError.code, DESIGN.md section 3) and number formats.

const HINTS = {
  NETWORK:
    'The connection failed while downloading, even after retries. Check that the server (npm run demo) is still running ' +
    'and that you are online, then press Load again: the files already downloaded are kept and the download resumes.',
  HTTP_STATUS:
    'The server answered a model file with an error (the file named above is missing or the server failed). Make sure the ' +
    'model folder is complete: run scripts/main.sh again, or convert the model again with smolweb-chunk.',
  INTEGRITY:
    'A downloaded file does not match the SHA-256 its manifest gives, so it was not used (nor cached). The model folder on ' +
    'the server is damaged or was rewritten during the download: make it again with smolweb-chunk and reload.',
  BAD_MANIFEST:
    "The model's manifest.json is not one this library can read (damaged, or written by another version of smolweb-chunk). " +
    'Convert the model again with the smolweb-chunk of this version.',
  BAD_CHUNK:
    'A model file has the right checksum but a layout the runtime refuses (made by another version of smolweb-chunk?). ' +
    'Convert the model again with the smolweb-chunk of this version.',
  QUOTA:
    'This browser has no room left to keep the model. Delete cached models (list on the right) or clear this site\'s data, ' +
    'then press Load again.',
  MODEL_TOO_LARGE:
    'This model needs more memory than this device can give the page. Pick a smaller model or a smaller quantization (q4), ' +
    'or close other tabs and use a device with more memory.',
  CONTEXT_LENGTH:
    "The conversation is longer than the model's context. Start a new chat or shorten the message; a smaller max tokens also helps.",
  BUSY: 'An answer is still being written. Wait for it or press Stop, then send again.',
  UNSUPPORTED:
    'This browser lacks a WebAssembly feature smolweb needs. Use a current Chrome, Edge, Firefox or Safari.',
  INTERNAL:
    'This is a bug in smolweb. Reload the page and try again; if it happens again, report it with the message above.',
  ABORT: 'Stopped.',
  INDEX:
    'The list of models (models/index.json) could not be read. Start the page with npm run demo (or scripts/main.sh), which serves it; ' +
    'offline, the list is only available after one visit online.',
  LIBRARY:
    'The page could not load the library. Serve the repository with npm run demo, which serves web/ and dist/ together; if you ' +
    'are offline, open the page online once first so it can be kept for offline use. Also check that ./build_wasm.sh was run.',
  JS: 'Unexpected. Reload the page; if it happens again, report it with the message above (the browser console has details).',
};

/** What to do about an error with this code (a SmolwebError code, or one of
 * the page's own: ABORT, INDEX, LIBRARY, JS). */
export function hintFor(code, err) {
  if (code === 'HTTP_STATUS' && /\b404\b/.test(err?.message || ''))
    return 'The file named above is missing on the server (404): the model folder is incomplete. Make it again ' +
      '(scripts/main.sh, or smolweb-chunk), then press Load; the files already downloaded are kept.';
  return HINTS[code] || HINTS.JS;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '?';
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtRate(tps) {
  if (!Number.isFinite(tps)) return '–';
  return `${tps >= 100 ? Math.round(tps) : tps.toFixed(1)} tok/s`;
}

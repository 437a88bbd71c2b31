// errors.js: SmolwebError fields, AbortError, and the round trip through
// serializeError -> structuredClone (what postMessage does) -> deserializeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ERROR_CODES,
  SmolwebError,
  abortError,
  codeForWasmStatus,
  deserializeError,
  isAbortError,
  serializeError,
  throwIfAborted,
  toSmolwebError,
} from '../../web/src/errors.js';

const roundTrip = (e) => deserializeError(structuredClone(serializeError(e)));

test('SmolwebError carries code, message, file, status and cause', () => {
  const cause = new TypeError('terminated');
  const e = new SmolwebError('HTTP_STATUS', 'layer-003.swc: HTTP 404 Not Found', { file: 'layer-003.swc', status: 404, cause });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'SmolwebError');
  assert.equal(e.code, 'HTTP_STATUS');
  assert.equal(e.message, 'layer-003.swc: HTTP 404 Not Found');
  assert.equal(e.file, 'layer-003.swc');
  assert.equal(e.status, 404);
  assert.equal(e.cause, cause);
  assert.equal(new SmolwebError('NOPE', 'x').code, 'INTERNAL', 'an unknown code becomes INTERNAL');
  assert.ok(!('file' in new SmolwebError('QUOTA', 'q')), 'no file field unless given');
});

test('the code list is DESIGN.md section 3', () => {
  assert.deepEqual([...ERROR_CODES].sort(), [
    'BAD_CHUNK', 'BAD_MANIFEST', 'BUSY', 'CONTEXT_LENGTH', 'HTTP_STATUS', 'INTEGRITY', 'INTERNAL',
    'MODEL_TOO_LARGE', 'NETWORK', 'QUOTA', 'UNSUPPORTED',
  ]);
  assert.ok(Object.isFrozen(ERROR_CODES));
});

test('abortError is the standard DOMException AbortError', async () => {
  const e = abortError();
  assert.ok(e instanceof DOMException);
  assert.equal(e.name, 'AbortError');
  assert.ok(isAbortError(e));
  // the same kind of error fetch() rejects with on abort
  const ac = new AbortController();
  ac.abort();
  assert.ok(isAbortError(ac.signal.reason));
  assert.throws(() => throwIfAborted(ac.signal), (x) => x instanceof DOMException && x.name === 'AbortError');
  throwIfAborted(undefined);
  throwIfAborted(new AbortController().signal);
  assert.ok(!isAbortError(new Error('AbortError')));
});

test('SmolwebError survives the trip across postMessage', () => {
  const e = new SmolwebError('INTEGRITY', 'layer-002.swc: SHA-256 mismatch', {
    file: 'layer-002.swc',
    cause: new SmolwebError('BAD_CHUNK', 'inner', { status: 7 }),
  });
  const back = roundTrip(e);
  assert.ok(back instanceof SmolwebError);
  assert.equal(back.code, 'INTEGRITY');
  assert.equal(back.message, 'layer-002.swc: SHA-256 mismatch');
  assert.equal(back.file, 'layer-002.swc');
  assert.ok(back.cause instanceof SmolwebError);
  assert.equal(back.cause.code, 'BAD_CHUNK');
  assert.equal(back.cause.status, 7);
  assert.equal(typeof back.remoteStack, 'string');
  assert.match(back.remoteStack, /errors\.test\.mjs/, 'the worker-side stack is kept for debugging');
});

test('AbortError and plain errors survive the trip too', () => {
  const a = roundTrip(abortError('stopped'));
  assert.ok(a instanceof DOMException);
  assert.equal(a.name, 'AbortError');
  assert.equal(a.message, 'stopped');

  const t = roundTrip(new RangeError('bad index'));
  assert.ok(t instanceof Error);
  assert.equal(t.name, 'RangeError');
  assert.equal(t.message, 'bad index');

  const s = roundTrip('a thrown string');
  assert.equal(s.message, 'a thrown string');

  // a cause chain deeper than 4 is cut, not followed forever
  let deep = new Error('0');
  for (let i = 1; i < 10; i++) deep = new Error(String(i), { cause: deep });
  let n = 0;
  for (let c = roundTrip(deep); c; c = c.cause) n++;
  assert.equal(n, 5);
});

test('malformed serialized errors become INTERNAL', () => {
  for (const junk of [null, 42, {}, { message: 3 }]) {
    const e = deserializeError(junk);
    assert.ok(e instanceof SmolwebError);
    assert.equal(e.code, 'INTERNAL');
    assert.match(e.message, /^malformed error from the worker: /);
  }
});

test('toSmolwebError wraps, but passes SmolwebErrors and aborts through', () => {
  const s = new SmolwebError('BUSY', 'busy');
  assert.equal(toSmolwebError(s), s);
  const a = abortError();
  assert.equal(toSmolwebError(a), a);
  const w = toSmolwebError(new Error('boom'), 'BAD_CHUNK', 'layer-001.swc');
  assert.equal(w.code, 'BAD_CHUNK');
  assert.equal(w.message, 'layer-001.swc: boom');
  assert.equal(w.cause.message, 'boom');
});

test('wasm status names map to codes by where they happened', () => {
  assert.equal(codeForWasmStatus('INTEGRITY', 'chunk'), 'INTEGRITY');
  assert.equal(codeForWasmStatus('FORMAT', 'chunk'), 'BAD_CHUNK');
  assert.equal(codeForWasmStatus('SHAPE', 'chunk'), 'BAD_CHUNK');
  assert.equal(codeForWasmStatus('FORMAT', 'manifest'), 'BAD_MANIFEST');
  assert.equal(codeForWasmStatus('MISSING', 'manifest'), 'BAD_MANIFEST');
  assert.equal(codeForWasmStatus('CONTEXT'), 'CONTEXT_LENGTH');
  assert.equal(codeForWasmStatus('NOMEM'), 'MODEL_TOO_LARGE');
  assert.equal(codeForWasmStatus('UNSUPPORTED'), 'UNSUPPORTED');
  assert.equal(codeForWasmStatus('STATE'), 'INTERNAL');
  assert.equal(codeForWasmStatus('WHATEVER'), 'INTERNAL');
});

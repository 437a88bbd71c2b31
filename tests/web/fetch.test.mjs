// fetch.js against tests/browser/server.mjs (a real HTTP server) with
// injected faults: 404, 500 then success, 500 forever, a drop mid-body
// resumed with Range (bytes written equal the file, the server answered a
// Range request with 206), a Range ignored (restart from 0), truncated bodies
// (once: resumed; always: BAD_CHUNK), a body longer than expected, a dead
// connection (NETWORK), aborts (before, mid-body, during backoff), and
// fetchManifest's HTTP, network and BAD_MANIFEST errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { serve } from '../browser/server.mjs';
import { backoffDelay, download, fetchManifest, fileNameOf, fileUrl, parseManifestText } from '../../web/src/fetch.js';
import { SmolwebError } from '../../web/src/errors.js';

const SIZE = 300_000;
let dir;
let srv;
let data;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-fetch-'));
  data = crypto.randomBytes(SIZE);
  fs.writeFileSync(path.join(dir, 'layer-000.swc'), data);
  const src = process.env.SMOLWEB_SRC || path.resolve(new URL('../..', import.meta.url).pathname);
  fs.copyFileSync(path.join(src, 'manifest/examples/smollm2-135m-q4.json'), path.join(dir, 'manifest.json'));
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"format": "smolweb-model", "files": [');
  srv = await serve({ mounts: { '/': dir }, coi: false });
});
after(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// a fresh file path per test, so request counts and faults do not mix
let n = 0;
function fresh() {
  const name = `f${++n}.swc`;
  fs.copyFileSync(path.join(dir, 'layer-000.swc'), path.join(dir, name));
  return { name, urlPath: `/${name}`, url: `${srv.url}/${name}` };
}

// a sink that checks every write stays inside the file and records deltas
function sink(expected = SIZE) {
  const buf = new Uint8Array(expected);
  const s = { buf, deltas: [], writes: 0, maxEnd: 0 };
  s.write = (u8, off) => {
    assert.ok(off >= 0 && off + u8.length <= expected, `write [${off}, ${off + u8.length}) outside [0, ${expected})`);
    buf.set(u8, off);
    s.writes++;
    s.maxEnd = Math.max(s.maxEnd, off + u8.length);
  };
  s.onBytes = (d) => s.deltas.push(d);
  s.counted = () => s.deltas.reduce((a, b) => a + b, 0);
  return s;
}

// fetch that records each request's Range header and response status
function recordingFetch(hook) {
  const log = [];
  const f = async (url, init) => {
    const entry = { range: new Headers(init.headers).get('Range') };
    log.push(entry);
    const res = await (hook ? hook(url, init, log.length) : fetch(url, init));
    entry.status = res.status;
    return res;
  };
  f.log = log;
  return f;
}

const fast = { backoffMs: 1, maxBackoffMs: 5 };
const isCode = (code, re) => (e) => {
  assert.ok(e instanceof SmolwebError, `not a SmolwebError: ${e && e.stack}`);
  assert.equal(e.code, code, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

test('a plain download streams the exact bytes', async () => {
  const f = fresh();
  const s = sink();
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, onBytes: s.onBytes, ...fast });
  assert.deepEqual(r, { bytes: SIZE, requests: 1, resumes: 0, restarts: 0 });
  assert.ok(Buffer.from(s.buf).equals(data));
  assert.equal(s.counted(), SIZE);
  assert.ok(s.deltas.every((d) => d > 0));
  assert.ok(s.writes > 1, 'streamed in pieces, not one buffer');
  assert.equal(srv.requests.get(f.urlPath), 1);
});

test('404 fails at once with HTTP_STATUS naming the file', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { status: 404 });
  const s = sink();
  await assert.rejects(download(f.url, { expectedBytes: SIZE, write: s.write, ...fast }), (e) => {
    isCode('HTTP_STATUS')(e);
    assert.equal(e.message, `${f.name}: HTTP 404 Not Found from ${f.url}`);
    assert.equal(e.status, 404);
    assert.equal(e.file, f.name);
    return true;
  });
  assert.equal(srv.requests.get(f.urlPath), 1, '404 is never retried');
  assert.equal(s.writes, 0);
});

test('500 then success: retried with backoff', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { status: 500 });
  const s = sink();
  const fetchImpl = recordingFetch(async (url, init, i) => {
    const res = await fetch(url, init);
    if (i === 1) srv.fault(f.urlPath, null); // the server recovers
    return res;
  });
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, fetchImpl, ...fast });
  assert.equal(r.requests, 2);
  assert.deepEqual(fetchImpl.log.map((x) => x.status), [500, 200]);
  assert.ok(Buffer.from(s.buf).equals(data));
  assert.equal(srv.requests.get(f.urlPath), 2);
});

test('500 forever: HTTP_STATUS after the retries', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { status: 500 });
  await assert.rejects(
    download(f.url, { expectedBytes: SIZE, write: () => {}, retries: 2, ...fast }),
    isCode('HTTP_STATUS', new RegExp(`^${f.name}: HTTP 500 Internal Server Error from `)),
  );
  assert.equal(srv.requests.get(f.urlPath), 3);
});

test('a drop mid-body resumes with a Range request from the byte reached', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { drop: 100_000, once: true });
  const s = sink();
  const fetchImpl = recordingFetch();
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, onBytes: s.onBytes, fetchImpl, ...fast });
  assert.ok(Buffer.from(s.buf).equals(data), 'the bytes written are exactly the file');
  assert.equal(r.resumes, 1);
  assert.equal(r.restarts, 0);
  assert.equal(srv.requests.get(f.urlPath), 2, 'the server saw two requests');
  assert.equal(fetchImpl.log[0].range, null);
  const m = /^bytes=(\d+)-$/.exec(fetchImpl.log[1].range);
  assert.ok(m, `second request has Range: ${fetchImpl.log[1].range}`);
  const from = Number(m[1]);
  assert.ok(from > 0 && from <= 100_000, `resumed from ${from}`);
  assert.equal(fetchImpl.log[1].status, 206, 'the server answered the Range with 206');
  assert.ok(s.deltas.every((d) => d > 0), 'nothing was counted twice');
  assert.equal(s.counted(), SIZE);
});

test('a flaky connection that keeps making progress finishes; a dead one gives NETWORK', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { drop: 40_000 }); // every response dies after 40 kB
  const s = sink();
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, retries: 1, ...fast });
  assert.ok(Buffer.from(s.buf).equals(data));
  assert.ok(r.requests >= 8, `${r.requests} requests`);

  const g = fresh();
  srv.fault(g.urlPath, { drop: 0 }); // headers, then the connection dies
  const t0 = Date.now();
  await assert.rejects(
    download(g.url, { expectedBytes: SIZE, write: () => {}, retries: 3, backoffMs: 10, maxBackoffMs: 40 }),
    isCode('NETWORK', new RegExp(`^${g.name}: network error fetching ${g.url.replace(/\./g, '\\.')} \\(4 attempts\\)`)),
  );
  assert.equal(srv.requests.get(g.urlPath), 4);
  // backoff 10, 20, 40 ms with jitter: at least half of that
  assert.ok(Date.now() - t0 >= 35, 'it backed off between attempts');
});

test('connection refused: NETWORK with the cause', async () => {
  const port = await new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
  const url = `http://127.0.0.1:${port}/models/x/layer-007.swc`;
  await assert.rejects(download(url, { expectedBytes: 10, write: () => {}, retries: 1, ...fast }), (e) => {
    isCode('NETWORK', /^layer-007\.swc: network error fetching http:\/\/127\.0\.0\.1:\d+\/models\/x\/layer-007\.swc \(2 attempts\)/)(e);
    assert.equal(e.file, 'layer-007.swc');
    assert.ok(e.cause);
    return true;
  });
});

test('a server that ignores Range: restart from 0, onBytes told to subtract', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { drop: 100_000, once: true });
  const s = sink();
  const fetchImpl = recordingFetch((url, init, i) => {
    const h = new Headers(init.headers);
    h.delete('Range'); // a proxy that drops Range: the server sends 200
    return fetch(url, { ...init, headers: h });
  });
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, onBytes: s.onBytes, fetchImpl, ...fast });
  assert.equal(r.restarts, 1);
  assert.deepEqual(fetchImpl.log.map((x) => x.status), [200, 200]);
  assert.ok(Buffer.from(s.buf).equals(data));
  const neg = s.deltas.filter((d) => d < 0);
  assert.equal(neg.length, 1);
  assert.ok(-neg[0] > 0 && -neg[0] <= 100_000);
  assert.equal(s.counted(), SIZE, 'the running count ends at the size');
});

test('a 206 for the wrong range restarts from 0', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { drop: 50_000, once: true });
  const s = sink();
  const fetchImpl = recordingFetch((url, init, i) => {
    const h = new Headers(init.headers);
    if (i === 2) h.set('Range', 'bytes=10-'); // not where we are
    return fetch(url, { ...init, headers: h });
  });
  const r = await download(f.url, { expectedBytes: SIZE, write: s.write, onBytes: s.onBytes, fetchImpl, ...fast });
  assert.equal(r.restarts, 1);
  assert.ok(Buffer.from(s.buf).equals(data));
  assert.equal(s.counted(), SIZE);
});

test('a truncated body is resumed once', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { truncate: 1000, once: true });
  const s = sink();
  const fetchImpl = recordingFetch();
  await download(f.url, { expectedBytes: SIZE, write: s.write, fetchImpl, ...fast });
  assert.ok(Buffer.from(s.buf).equals(data));
  assert.deepEqual(fetchImpl.log.map((x) => [x.range, x.status]), [[null, 200], ['bytes=1000-', 206]]);
});

test('a body truncated again after resuming is BAD_CHUNK naming both sizes', async () => {
  const f = fresh();
  srv.fault(f.urlPath, { truncate: 1000 });
  await assert.rejects(
    download(f.url, { expectedBytes: SIZE, write: () => {}, ...fast }),
    isCode('BAD_CHUNK', new RegExp(`^${f.name}: body truncated: expected 300000 bytes, got 2000 from `)),
  );
  assert.equal(srv.requests.get(f.urlPath), 2);
});

test('a file shorter than the manifest says is BAD_CHUNK', async () => {
  const f = fresh();
  await assert.rejects(
    download(f.url, { expectedBytes: SIZE + 10, write: () => {}, ...fast }),
    isCode('BAD_CHUNK', new RegExp(`^${f.name}: body truncated: expected 300010 bytes, got 300000`)),
  );
});

test('a body longer than expected is BAD_CHUNK, and nothing is written past the end', async () => {
  const f = fresh();
  const s = sink(SIZE - 10);
  await assert.rejects(
    download(f.url, { expectedBytes: SIZE - 10, write: s.write, ...fast }),
    isCode('BAD_CHUNK', new RegExp(`^${f.name}: body longer than the expected 299990 bytes`)),
  );
  assert.ok(s.maxEnd <= SIZE - 10);
  assert.equal(srv.requests.get(f.urlPath), 1, 'not retried');
});

test('abort: before starting, mid-body, during backoff', async () => {
  const f = fresh();
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(download(f.url, { expectedBytes: SIZE, write: () => {}, signal: pre.signal }), { name: 'AbortError' });
  assert.equal(srv.requests.get(f.urlPath), undefined, 'no request after an abort');

  const mid = new AbortController();
  let writesAfterAbort = 0;
  let aborted = false;
  await assert.rejects(
    download(f.url, {
      expectedBytes: SIZE,
      signal: mid.signal,
      write: () => {
        if (aborted) writesAfterAbort++;
      },
      onBytes: () => {
        aborted = true;
        mid.abort();
      },
    }),
    (e) => e instanceof DOMException && e.name === 'AbortError',
  );
  assert.equal(writesAfterAbort, 0);

  // a body that stalls forever from a fetchImpl that ignores the signal:
  // the pending read is cancelled by the abort
  const deaf = new AbortController();
  const stalled = () =>
    new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); } }), { status: 200 });
  setTimeout(() => deaf.abort(), 50);
  const t1 = Date.now();
  await assert.rejects(
    download('https://example.test/m/layer-001.swc', { expectedBytes: 100, signal: deaf.signal, fetchImpl: async () => stalled(), write: () => {} }),
    (e) => e instanceof DOMException && e.name === 'AbortError',
  );
  assert.ok(Date.now() - t1 < 2000);

  const g = fresh();
  srv.fault(g.urlPath, { status: 503 });
  const slow = new AbortController();
  const t0 = Date.now();
  setTimeout(() => slow.abort(), 50);
  await assert.rejects(download(g.url, { expectedBytes: SIZE, write: () => {}, signal: slow.signal, backoffMs: 10_000 }), { name: 'AbortError' });
  assert.ok(Date.now() - t0 < 2000, 'the backoff sleep is cut short by the abort');
});

test('429 with Retry-After waits at least that long (stubbed fetch)', async () => {
  let calls = 0;
  const fetchImpl = async () => {
    calls++;
    if (calls === 1) return new Response('slow down', { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '0.2' } });
    return new Response(new Uint8Array([1, 2, 3]), { status: 200 });
  };
  const t0 = Date.now();
  const s = sink(3);
  await download('https://example.test/m/tokenizer.swt', { expectedBytes: 3, write: s.write, fetchImpl, ...fast });
  assert.ok(Date.now() - t0 >= 190, `waited ${Date.now() - t0} ms`);
  assert.deepEqual([...s.buf], [1, 2, 3]);
  // and a write error ends the download as is
  const boom = new Error('heap full');
  await assert.rejects(
    download('https://example.test/m/tokenizer.swt', { expectedBytes: 3, write: () => { throw boom; }, fetchImpl: async () => new Response(new Uint8Array(3)) }),
    (e) => e === boom,
  );
});

test('backoff doubles, is capped, and is jittered between half and all', () => {
  const o = { backoffMs: 100, maxBackoffMs: 1000 };
  assert.equal(backoffDelay(1, { ...o, random: () => 0 }), 50);
  assert.equal(backoffDelay(1, { ...o, random: () => 1 }), 100);
  assert.equal(backoffDelay(3, { ...o, random: () => 1 }), 400);
  assert.equal(backoffDelay(10, { ...o, random: () => 1 }), 1000);
  assert.equal(backoffDelay(10, { ...o, random: () => 0 }), 500);
});

test('fetchManifest: text, parsed JSON and the final URL', async () => {
  const url = `${srv.url}/manifest.json`;
  const m = await fetchManifest(url);
  assert.equal(m.url, url);
  assert.equal(m.text, fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.json.name, 'SmolLM2-135M-Instruct');
  assert.equal(fileUrl(m.url, m.json.files[2].path), `${srv.url}/layer-000.swc`);
});

test('fetchManifest: 404, 503 then success, dead server, invalid JSON, abort', async () => {
  srv.fault('/gone/manifest.json', { status: 404 });
  await assert.rejects(fetchManifest(`${srv.url}/gone/manifest.json`, fast), (e) => {
    isCode('HTTP_STATUS')(e);
    assert.equal(e.message, `manifest.json: HTTP 404 Not Found from ${srv.url}/gone/manifest.json`);
    return true;
  });
  assert.equal(srv.requests.get('/gone/manifest.json'), 1);

  srv.fault('/manifest.json', { status: 503 });
  let calls = 0;
  const fetchImpl = async (url, init) => {
    const r = await fetch(url, init);
    if (++calls === 1) srv.fault('/manifest.json', null);
    return r;
  };
  assert.equal((await fetchManifest(`${srv.url}/manifest.json`, { fetchImpl, ...fast })).json.format, 'smolweb-model');
  assert.equal(calls, 2);

  srv.fault('/manifest.json', { drop: 100 });
  await assert.rejects(fetchManifest(`${srv.url}/manifest.json`, { retries: 1, ...fast }), isCode('NETWORK', /^manifest\.json: network error fetching .* \(2 attempts\)/));
  srv.fault('/manifest.json', null);

  await assert.rejects(fetchManifest(`${srv.url}/broken.json`, fast), isCode('BAD_MANIFEST', /^broken\.json: not valid JSON \(/));

  const ac = new AbortController();
  ac.abort();
  await assert.rejects(fetchManifest(`${srv.url}/manifest.json`, { signal: ac.signal }), { name: 'AbortError' });
});

test('parseManifestText: the basic shape, each problem named', () => {
  const good = { format: 'smolweb-model', config: {}, files: [{ path: 'a.swc', bytes: 3, sha256: 'a'.repeat(64) }] };
  assert.deepEqual(parseManifestText(JSON.stringify(good)), good);
  const cases = [
    ['[1]', 'manifest.json: not a JSON object'],
    ['{"format": "gguf"}', 'manifest.json: not a smolweb manifest (format is "gguf", expected "smolweb-model")'],
    ['{"format": "smolweb-model", "files": []}', 'manifest.json: no config object'],
    ['{"format": "smolweb-model", "config": {}, "files": []}', 'manifest.json: no files array'],
    [JSON.stringify({ ...good, files: [7] }), 'manifest.json: files[0] is not an object'],
    [JSON.stringify({ ...good, files: [{ ...good.files[0], path: '' }] }), 'manifest.json: files[0].path is not a non-empty string'],
    [JSON.stringify({ ...good, files: [good.files[0], { ...good.files[0], bytes: 1.5 }] }), 'manifest.json: files[1] (a.swc): bytes is not a positive integer'],
    [JSON.stringify({ ...good, files: [{ ...good.files[0], sha256: 'A'.repeat(64) }] }), 'manifest.json: files[0] (a.swc): sha256 is not 64 lowercase hex digits'],
  ];
  for (const [text, msg] of cases) assert.throws(() => parseManifestText(text), (e) => e.code === 'BAD_MANIFEST' && e.message === msg && e.file === 'manifest.json');
});

test('fileNameOf names files by their last path segment', () => {
  assert.equal(fileNameOf('https://h/models/x/layer-003.swc?v=1'), 'layer-003.swc');
  assert.equal(fileNameOf('https://h/models/x/'), 'https://h/models/x/');
  assert.equal(fileNameOf('/rel/manifest.json'), 'manifest.json');
});

// server.mjs: a small static file server on 127.0.0.1 for browser tests and
// benchmarks. Serves files under named mount points, optionally with the
// COOP/COEP headers that threads (SharedArrayBuffer) need, counts requests per
// path, and lets a test inject faults (status codes, truncation, drops).
//
//   const srv = await serve({ mounts: { '/': 'tests/browser/pages', '/dist/': 'dist' }, coi: true });
//   srv.url            // 'http://127.0.0.1:PORT'
//   srv.requests       // Map path -> count
//   srv.fault('/models/x/layer_000.swc', { status: 500 })   // or { truncate: N }, { drop: N }, null to clear
//   await srv.close();
//
// Two optional hooks (scripts/serve.mjs, the demo server, uses them):
//   handle(urlPath, req) -> null to serve files as usual, or { status, headers, body }
//                           to answer instead (after the request is counted and
//                           after a status fault, before any file lookup)
//   headers(urlPath)     -> extra response headers for a path (e.g. Service-Worker-Allowed)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

function resolve(mounts, urlPath) {
  // longest mount prefix first
  const keys = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const k of keys) {
    if (!urlPath.startsWith(k)) continue;
    const root = path.resolve(mounts[k]);
    const rel = decodeURIComponent(urlPath.slice(k.length));
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return null;
    return file;
  }
  return null;
}

export async function serve({ mounts, coi = true, port = 0, onPost = null, handle = null, headers: extraHeaders = null } = {}) {
  const requests = new Map();
  const faults = new Map();
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://x').pathname;
    requests.set(urlPath, (requests.get(urlPath) || 0) + 1);
    const headers = { 'Cache-Control': 'no-store' };
    if (coi) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    if (extraHeaders) Object.assign(headers, extraHeaders(urlPath));
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (onPost) onPost(urlPath, body);
        res.writeHead(204, headers);
        res.end();
      });
      return;
    }
    const fault = faults.get(urlPath);
    if (fault && fault.status) {
      res.writeHead(fault.status, { ...headers, 'Content-Type': 'text/plain' });
      res.end(`injected ${fault.status}`);
      return;
    }
    const answer = handle && handle(urlPath, req);
    if (answer) {
      res.writeHead(answer.status || 200, { ...headers, ...(answer.headers || {}) });
      res.end(answer.body === undefined ? '' : answer.body);
      return;
    }
    let file = resolve(mounts, urlPath);
    if (file && fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const data = fs.readFileSync(file);
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    let start = 0;
    let end = data.length;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Number(range[2]) + 1 : data.length;
      if (start >= data.length || end > data.length || start >= end) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${data.length}` });
        res.end();
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${data.length}`;
    }
    let body = data.subarray(start, end);
    headers['Content-Type'] = type;
    headers['Accept-Ranges'] = 'bytes';
    if (fault && fault.truncate !== undefined) {
      // a complete response whose body is shorter than the file
      body = body.subarray(0, fault.truncate);
    }
    headers['Content-Length'] = String(body.length);
    if (fault && fault.drop !== undefined) {
      // announce the full length, send part of it, then cut the connection
      headers['Content-Length'] = String(end - start);
      res.writeHead(status, headers);
      res.write(body.subarray(0, fault.drop));
      setTimeout(() => res.destroy(), 20);
      if (fault.once) faults.delete(urlPath);
      return;
    }
    res.writeHead(status, headers);
    res.end(body);
    if (fault && fault.once) faults.delete(urlPath);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail); // EADDRINUSE: a rejection the caller can report
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port: p } = server.address();
  return {
    url: `http://127.0.0.1:${p}`,
    requests,
    fault(urlPath, f) {
      if (f) faults.set(urlPath, f);
      else faults.delete(urlPath);
    },
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

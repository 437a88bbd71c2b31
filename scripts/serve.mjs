// serve.mjs: the demo server (DESIGN.md section 5).
//
//   npm run demo -- [--port PORT] [--models DIR]      (node scripts/serve.mjs ...)
//
// Serves, on 127.0.0.1 with the COOP/COEP (and CORP) headers that wasm
// threads need:
//   /                       -> redirect to /web/demo/ (the PWA demo)
//   /web/ and /dist/        -> the repository's web/ (demo + library) and dist/
//                              (the wasm builds), as laid out in the repo, so
//                              every relative URL (web/demo -> ../src/index.js,
//                              web/src -> ../../dist/) is the same one the npm
//                              package uses
//   /node_modules/@huggingface/jinja/ -> that package only (the library's
//                              chat-template engine, mapped by the page's import map)
//   /models/<name>/...      -> DIR/<name>/, for each folder holding a manifest.json
//   /models/index.json      -> [{name, path, bytes, quant}] for those folders:
//                              path is the manifest's URL relative to index.json
//                              ("<name>/manifest.json"), bytes the sum of the
//                              manifest's file sizes, quant its weight type
// DIR defaults to models/ (what scripts/main.sh makes) and is read on every
// request, so models made while the server runs show up on reload.
// Range requests are honoured (tests/browser/server.mjs does the file serving).
//
// The tests start the same server in-process:
//   import { startDemoServer } from '../../scripts/serve.mjs';
//   const srv = await startDemoServer({ modelsDir, port: 0 });  // srv.url, srv.fault(), srv.requests, srv.close()
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../tests/browser/server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The model folders under dir that hold a manifest.json, as index.json entries;
 * a folder whose manifest does not parse is listed with its error instead, so
 * the page can say what is wrong rather than skip it silently. */
export function listModels(dir) {
  let names;
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  for (const d of names) {
    if (!NAME_RE.test(d.name)) continue;
    const full = path.join(dir, d.name);
    let isDir = d.isDirectory();
    if (d.isSymbolicLink()) isDir = fs.statSync(full, { throwIfNoEntry: false })?.isDirectory() ?? false;
    if (!isDir || !fs.existsSync(path.join(full, 'manifest.json'))) continue;
    const entry = { name: d.name, path: `${d.name}/manifest.json`, bytes: 0, quant: null };
    try {
      const m = JSON.parse(fs.readFileSync(path.join(full, 'manifest.json'), 'utf8'));
      entry.bytes = (m.files || []).reduce((s, f) => s + (Number(f.bytes) || 0), 0);
      entry.quant = m.quantization?.weights ?? null;
    } catch (e) {
      entry.error = `manifest.json: ${e.message}`;
    }
    out.push(entry);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Starts the demo server. modelsDir: the folder of model folders; port 0 picks
 * a free one; root: the repository; coi: false drops COOP/COEP; mounts: more
 * (or replacing) URL prefix -> folder mappings, e.g. a library build elsewhere. */
export async function startDemoServer({ modelsDir = path.join(REPO, 'models'), port = 0, root = REPO, coi = true, mounts: more = {} } = {}) {
  const models = path.resolve(modelsDir);
  const mounts = {
    '/web/': path.join(root, 'web'),
    '/dist/': path.join(root, 'dist'),
    '/models/': models,
    // the chat-template engine the library imports (mapped by the page's import map)
    '/node_modules/@huggingface/jinja/': path.join(root, 'node_modules', '@huggingface', 'jinja'),
  };
  for (const [k, v] of Object.entries(more)) mounts[k] = path.resolve(v);
  const handle = (urlPath) => {
    if (urlPath === '/' || urlPath === '/index.html') return redirect('/web/demo/');
    if (urlPath === '/models/index.json') {
      return {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(listModels(models), null, 1) + '\n',
      };
    }
    const m = /^\/models\/([^/]+)(\/.*)?$/.exec(urlPath);
    if (m) {
      // only folders with a manifest.json (never models/src/, the converter's input)
      let name;
      try {
        name = decodeURIComponent(m[1]);
      } catch {
        return notFound();
      }
      if (!NAME_RE.test(name) || !fs.existsSync(path.join(models, name, 'manifest.json'))) return notFound();
      if (!m[2]) return redirect(`/models/${m[1]}/`);
      return null;
    }
    // a folder asked without its slash: redirect, so relative URLs resolve inside it
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!urlPath.startsWith(prefix) || urlPath.endsWith('/')) continue;
      let rel;
      try {
        rel = decodeURIComponent(urlPath.slice(prefix.length));
      } catch {
        return notFound();
      }
      const file = path.resolve(dir, rel);
      if (file.startsWith(dir + path.sep) && fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
        return redirect(urlPath + '/');
    }
    if (urlPath === '/web' || urlPath === '/dist') return redirect(urlPath + '/');
    return null;
  };
  // The demo's service worker lives in /web/demo/ but must control the whole
  // origin: the library's module worker (/web/src/), the wasm (/dist/) and
  // /models/ are fetched from outside /web/demo/.
  const headers = (urlPath) => (urlPath === '/web/demo/sw.js' ? { 'Service-Worker-Allowed': '/' } : {});
  const srv = await serve({ mounts, coi, port, handle, headers });
  return { ...srv, modelsDir: models, demoUrl: `${srv.url}/` };
}

function redirect(location) {
  return { status: 302, headers: { Location: location, 'Content-Type': 'text/plain' }, body: `see ${location}` };
}

function notFound() {
  return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found' };
}

function parseArgs(argv) {
  const o = { port: 8080, models: path.join(REPO, 'models') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(val());
    else if (a.startsWith('--port=')) o.port = Number(a.slice(7));
    else if (a === '--models') o.models = val();
    else if (a.startsWith('--models=')) o.models = a.slice(9);
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('--port must be an integer 0..65535');
  return o;
}

function usage(err) {
  const text = 'usage: node scripts/serve.mjs [--port PORT] [--models DIR]\n' +
    '  serves the smolweb demo and every model folder under DIR (default: models/) on 127.0.0.1';
  if (err) {
    console.error(`serve: ${err}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(REPO, 'dist', 'smolweb-simd.wasm')))
    console.error('serve: warning: dist/ has no wasm build yet: run ./build_wasm.sh (or scripts/main.sh)');
  let srv;
  try {
    srv = await startDemoServer({ modelsDir: o.models, port: o.port });
  } catch (e) {
    if (e.code === 'EADDRINUSE') {
      console.error(`serve: port ${o.port} is in use: pick another with --port PORT (0 picks a free one)`);
      process.exit(1);
    }
    throw e;
  }
  const list = listModels(srv.modelsDir);
  if (list.length === 0)
    console.error(`serve: warning: no model folder (with a manifest.json) under ${srv.modelsDir}: run scripts/main.sh or pass --models DIR`);
  for (const m of list)
    console.error(`serve: model ${m.name} (${(m.bytes / 1e6).toFixed(1)} MB, ${m.quant ?? '?'})${m.error ? ` error: ${m.error}` : ''}`);
  console.log(`smolweb demo: ${srv.demoUrl}  (Ctrl-C to stop)`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

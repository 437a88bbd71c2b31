// check.mjs: the smolweb npm package inside a Vite app (tests/test_wasm_vite.sh
// builds it), in headless Chromium: load the tiny model, greedy ids equal to
// the native CLI's, a chat turn equal to native --chat (the Jinja engine
// resolved by Vite, no import map).
//
//   node tests/vite/check.mjs APP WORK
//     APP             the app (tests/vite/ copied, smolweb + vite installed,
//                     `vite build` run: APP/dist; the model in APP/public/models/tiny)
//     WORK/ids.json   native greedy ids for WORK/prompt.txt
//     WORK/chat.json  native --chat ids for the message "Hi there!"
//
// Runs: the built site from tests/browser/server.mjs with COOP/COEP
// (SIMD+threads build, 2 threads) and without (SIMD build, 1 thread), then
// `vite preview` and the Vite dev server (COOP/COEP from vite.config.js); the
// first run also checks model.info, lastRun and the progress events against
// the interfaces of the installed index.d.ts. Prints ok/FAIL per check and a
// closing "N passed, N failed" line (counting CHECKS_PASSED/CHECKS_FAILED
// from the shell script); exits 1 on any failure.
// Node 18 compatible (no Node 20-only APIs).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { serve } from '../browser/server.mjs';
import { launchChromium } from '../browser/chromium.mjs';

const [app, work] = process.argv.slice(2);
if (!app || !work) {
  console.error('usage: node tests/vite/check.mjs APP WORK');
  process.exit(2);
}
const prompt = fs.readFileSync(path.join(work, 'prompt.txt'), 'utf8');
const nativeIds = JSON.parse(fs.readFileSync(path.join(work, 'ids.json'), 'utf8'));
const nativeChatIds = JSON.parse(fs.readFileSync(path.join(work, 'chat.json'), 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(app, 'public/models/tiny/manifest.json'), 'utf8'));
const request = {
  manifestUrl: '/models/tiny/manifest.json',
  prompt,
  n: nativeIds.length,
  chat: [{ role: 'user', content: 'Hi there!' }],
  chatN: nativeChatIds.length,
};

// checks test_wasm_vite.sh made before this script (counted in the closing line)
let passed = Number(process.env.CHECKS_PASSED) || 0;
let failed = Number(process.env.CHECKS_FAILED) || 0;
function check(cond, what, detail = '') {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (cond) passed++;
  else failed++;
}
const same = (a, b) => Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);

async function freePort() {
  const srv = net.createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

// `vite` (the dev server) or `vite preview` (the built site) in the app, on a
// free port; resolves once it answers.
async function startVite(args) {
  const port = await freePort();
  const vite = path.join(app, 'node_modules/vite/bin/vite.js');
  const child = spawn(process.execPath, [vite, ...args, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BROWSER: 'none', FORCE_COLOR: '0' },
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', ok);
      child.kill();
    });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite ${args.join(' ')} exited with ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${url}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`vite ${args.join(' ')} did not answer in 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, log: () => log, close: stop };
}

// Opens the app at url and runs it; returns its result or { error }.
async function runApp(context, url, label) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('crash', () => problems.push('page crashed'));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  try {
    await page.goto(`${url}/`);
    await page.waitForFunction(() => typeof window.runSmolweb === 'function', null, { timeout: 30000 });
    const r = await page.evaluate(async (req) => {
      try {
        return await window.runSmolweb(req);
      } catch (e) {
        return { error: `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}` };
      }
    }, request);
    for (const p of problems) console.log(`  ${label}: ${p}`);
    return r;
  } catch (e) {
    for (const p of problems) console.log(`  ${label}: ${p}`);
    return { error: String(e && e.message ? e.message : e) };
  } finally {
    await page.close();
  }
}

// The members an interface of the installed package's index.d.ts declares:
// { all, required } (an optional member is written `name?:`).
const dts = fs.readFileSync(path.join(app, 'node_modules/smolweb/web/src/index.d.ts'), 'utf8');
function declared(name) {
  const m = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(dts);
  if (!m) throw new Error(`index.d.ts: no interface ${name}`);
  const members = [...m[1].matchAll(/^ {2}(\w+)(\??):/gm)];
  return { all: members.map((x) => x[1]).sort(), required: members.filter((x) => !x[2]).map((x) => x[1]).sort() };
}
// The object's keys are the interface's: all required ones, no undeclared one.
function checkShape(label, name, obj) {
  const d = declared(name);
  const keys = Object.keys(obj || {}).sort();
  const missing = d.required.filter((k) => !keys.includes(k));
  const extra = keys.filter((k) => !d.all.includes(k));
  check(!missing.length && !extra.length, `${label}: ${name} as index.d.ts declares it`, `${missing.length ? `missing ${missing}` : ''}${extra.length ? ` undeclared ${extra}` : ''}`);
}

function checkRun(label, r, { variant, threads, shapes = false }) {
  check(!r.error, `${label}: loadModel + generate`, r.error || '');
  if (r.error) return;
  check(r.info.variant === variant && r.info.threads === threads, `${label}: ${variant} build, ${threads} thread(s)`, `${r.info.variant}, ${r.info.threads}`);
  const last = r.events[r.events.length - 1];
  check(last && last.loaded === manifest.total_bytes && last.total === manifest.total_bytes, `${label}: progress ends at loaded == total`);
  check(same(r.run.ids, nativeIds), `${label}: greedy ids equal native smolweb-run`, `${JSON.stringify(r.run.ids)} vs ${JSON.stringify(nativeIds)}`);
  check(typeof r.text === 'string' && r.text.length > 0, `${label}: streamed text`);
  check(same(r.chatRun.ids, nativeChatIds), `${label}: chat (jinja via Vite) ids equal native --chat`, `${JSON.stringify(r.chatRun.ids)} vs ${JSON.stringify(nativeChatIds)}`);
  if (!shapes) return;
  // the types against what the library returns
  checkShape(label, 'ModelInfo', r.info);
  checkShape(label, 'BuildInfo', r.info.build);
  checkShape(label, 'LastRun', r.run);
  for (const e of r.events) {
    const d = declared('LoadProgress');
    const keys = Object.keys(e);
    if (d.required.some((k) => !keys.includes(k)) || keys.some((k) => !d.all.includes(k))) {
      checkShape(label, 'LoadProgress', e);
      return;
    }
  }
  check(true, `${label}: every LoadProgress event as index.d.ts declares it`, `${r.events.length} events`);
}

const { context, close } = await launchChromium();
const servers = [];
try {
  const dist = path.join(app, 'dist');
  const coi = await serve({ mounts: { '/': dist }, coi: true });
  servers.push(coi);
  checkRun('vite build, COOP/COEP', await runApp(context, coi.url, 'build'), { variant: 'simd-threads', threads: 2, shapes: true });
  const plain = await serve({ mounts: { '/': dist }, coi: false });
  servers.push(plain);
  checkRun('vite build, no isolation', await runApp(context, plain.url, 'build, plain'), { variant: 'simd', threads: 1 });
  // every request of the built site stays on its origin and hits a file
  const missing = [...coi.requests.keys(), ...plain.requests.keys()].filter((p) => !fs.existsSync(path.join(dist, p)) && p !== '/');
  check(missing.length === 0, 'vite build: every requested file exists in dist/', missing.join(' '));

  const preview = await startVite(['preview']);
  servers.push(preview);
  checkRun('vite preview', await runApp(context, preview.url, 'preview'), { variant: 'simd-threads', threads: 2 });

  const dev = await startVite([]);
  servers.push(dev);
  checkRun('vite dev server', await runApp(context, dev.url, 'dev'), { variant: 'simd-threads', threads: 2 });
  for (const [label, srv] of [['vite preview', preview], ['vite dev server', dev]]) {
    const errors = srv.log().split('\n').filter((l) => /error|warn/i.test(l));
    check(errors.length === 0, `${label}: no errors or warnings logged`, errors.join(' | '));
  }
} finally {
  await close();
  for (const s of servers) await s.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

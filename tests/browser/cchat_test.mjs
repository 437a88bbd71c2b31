// cchat_test.mjs: examples/c-chat (C, emcc, smolweb_fetch_model) in headless
// Chromium against the native runtime's greedy output, plus its error paths.
// Driven by tests/test_wasm_cchat.sh, which makes the model and the reference.
//
//   node cchat_test.mjs --page DIST/examples/c-chat --model DIR --bad DIR \
//        --prompt TEXT -n N --expect-ids FILE --expect-text FILE
//
// DIR is a chunker output; --bad is a copy with one byte of layer-002.swc
// flipped. Checks, each on a fresh page:
//   ok        IDS and TEXT equal the native smolweb-run's; PROGRESS is
//             monotonic and ends at loaded == total == the manifest's bytes;
//             each chunk requested once (URLs resolved beside the manifest's)
//   404       a chunk answered 404 -> ERROR 2 "layer-003.swc: HTTP 404 ..."
//   manifest  a missing manifest -> ERROR 2 "manifest.json: HTTP 404 ..."
//   corrupt   the flipped byte -> ERROR 7 "layer-002.swc: SHA-256 does not match"
//   truncated a short body -> ERROR 7 "layer-001.swc: 1000 bytes, the manifest says N"
//   cancel    smolweb_fetch_cancel at the first progress -> ERROR 10 "cancelled",
//             the requests in flight are aborted (Chromium reports them failed),
//             later chunks are never requested, no callback after the end
//   bad url   an unparsable manifest URL -> ERROR 1 "... not a valid URL"
import fs from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launchChromium } from './chromium.mjs';
import { checker } from '../checks.mjs';

function args() {
  const a = process.argv.slice(2);
  const o = {};
  for (let i = 0; i < a.length; i += 2) o[a[i].replace(/^-+/, '')] = a[i + 1];
  for (const k of ['page', 'model', 'bad', 'prompt', 'n', 'expect-ids', 'expect-text'])
    if (o[k] === undefined) throw new Error(`missing --${k}`);
  return o;
}

const opt = args();
const expectIds = JSON.parse(fs.readFileSync(opt['expect-ids'], 'utf8'));
const expectText = fs.readFileSync(opt['expect-text'], 'utf8').replace(/\n$/, '');
const manifest = JSON.parse(fs.readFileSync(path.join(opt.model, 'manifest.json'), 'utf8'));
const totalBytes = manifest.files.reduce((s, f) => s + f.bytes, 0);
const layer1Bytes = manifest.files.find((f) => f.path === 'layer-001.swc').bytes;

const checks = checker();
const { check } = checks;

const srv = await serve({
  mounts: { '/': opt.page, '/models/ok/': opt.model, '/models/bad/': opt.bad },
  coi: false,
});
const browser = await launchChromium();

// Opens c-chat.html?QUERY and returns its stdout lines once it printed END
// (and `linger` ms more, to catch late callbacks), plus failed requests.
async function run(name, query, { setup, linger = 0 } = {}) {
  const page = await browser.context.newPage();
  const lines = [];
  const failed = [];
  let ended;
  const end = new Promise((ok) => (ended = ok));
  page.on('console', (m) => {
    const t = m.text();
    lines.push(t);
    if (t === 'END') ended();
  });
  page.on('pageerror', (e) => lines.push(`PAGEERROR ${e.message}`));
  page.on('requestfailed', (r) => failed.push({ url: new URL(r.url()).pathname, error: r.failure()?.errorText }));
  if (setup) await setup(page);
  await page.goto(`${srv.url}/c-chat.html?${query}`);
  const timeout = new Promise((_, no) => setTimeout(() => no(new Error(`no END within 20 s; output:\n${lines.join('\n')}`)), 20000));
  try {
    await Promise.race([end, timeout]);
    await new Promise((ok) => setTimeout(ok, linger));
  } finally {
    await page.close();
  }
  noPageError(name, lines);
  return { lines, failed };
}

const errorLine = (lines) => lines.filter((l) => l.startsWith('ERROR '));
// every case: no uncaught exception or wasm trap in the page
const noPageError = (what, lines) => {
  const e = lines.filter((l) => l.startsWith('PAGEERROR '));
  check(e.length === 0, `${what}: no page error`, e.join(' | '));
};
const q = (o) => new URLSearchParams(o).toString();
const t0 = Date.now();

try {
  // ok: the generation equals the native runtime's
  {
    srv.requests.clear();
    // an absolute manifest URL with a query: chunks resolve beside it, without the query
    const { lines } = await run('ok', q({ model: `${srv.url}/models/ok/manifest.json?v=1`, prompt: opt.prompt, n: opt.n, ignore_eos: 1 }));
    const idsLine = lines.find((l) => l.startsWith('IDS '));
    const ids = idsLine ? JSON.parse(idsLine.slice(4)) : null;
    const mismatch = ids ? expectIds.findIndex((v, i) => ids[i] !== v) : 0;
    check(
      ids && ids.length === expectIds.length && mismatch < 0,
      `ok: ${expectIds.length} greedy ids equal native smolweb-run`,
      ids ? `first mismatch at ${mismatch}: wasm ${ids[mismatch]} native ${expectIds[mismatch]}\n     wasm   ${JSON.stringify(ids)}\n     native ${JSON.stringify(expectIds)}` : `no IDS line:\n${lines.join('\n')}`
    );
    const textLine = lines.find((l) => l.startsWith('TEXT '));
    const text = textLine ? JSON.parse(textLine.slice(5)) : null;
    check(text === expectText, 'ok: generated text equals native', `wasm ${JSON.stringify(text)} native ${JSON.stringify(expectText)}`);
    const prog = lines.filter((l) => l.startsWith('PROGRESS ')).map((l) => l.split(' '));
    const last = prog[prog.length - 1];
    const monotonic = prog.every((p, i) => i === 0 || Number(p[1]) >= Number(prog[i - 1][1]));
    check(
      prog.length > 0 && monotonic && last && Number(last[1]) === totalBytes && Number(last[2]) === totalBytes,
      `ok: progress monotonic, ends at loaded == total == ${totalBytes} (${prog.length} reports)`,
      `last ${last && last.join(' ')}`
    );
    check(prog.every((p) => Number(p[2]) === totalBytes), 'ok: every progress report has the manifest total');
    const done = lines.indexOf('DONE');
    check(done >= 0 && lines[done + 1] === 'END' && !errorLine(lines).length, 'ok: DONE, then nothing until END', lines.slice(-4).join(' | '));
    check(
      manifest.files.every((f) => srv.requests.get(`/models/ok/${f.path}`) === 1),
      'ok: each chunk requested exactly once'
    );
  }

  // 404 on a chunk
  {
    srv.fault('/models/ok/layer-003.swc', { status: 404 });
    const { lines } = await run('404', q({ model: '/models/ok/manifest.json', prompt: opt.prompt, n: opt.n }));
    srv.fault('/models/ok/layer-003.swc', null);
    const e = errorLine(lines);
    check(e.length === 1 && /^ERROR 2 layer-003\.swc: HTTP 404\b/.test(e[0]), '404: ERROR 2 names layer-003.swc and HTTP 404', e.join(' | ') || lines.join(' | '));
  }

  // missing manifest
  {
    const { lines } = await run('manifest', q({ model: '/models/none/manifest.json' }));
    const e = errorLine(lines);
    check(e.length === 1 && /^ERROR 2 manifest\.json: HTTP 404\b/.test(e[0]), 'manifest: ERROR 2 manifest.json: HTTP 404', e.join(' | '));
  }

  // corrupted chunk (one flipped byte in the copy)
  {
    // a manifest URL relative to the page
    const { lines } = await run('corrupt', q({ model: 'models/bad/manifest.json', prompt: opt.prompt, n: opt.n }));
    const e = errorLine(lines);
    check(
      e.length === 1 && e[0].startsWith('ERROR 7 layer-002.swc: SHA-256 does not match the manifest'),
      'corrupt: ERROR 7 layer-002.swc: SHA-256 does not match the manifest',
      e.join(' | ')
    );
  }

  // truncated body
  {
    srv.fault('/models/ok/layer-001.swc', { truncate: 1000 });
    const { lines } = await run('truncated', q({ model: '/models/ok/manifest.json', prompt: opt.prompt, n: opt.n }));
    srv.fault('/models/ok/layer-001.swc', null);
    const e = errorLine(lines);
    check(
      e.length === 1 && e[0].startsWith(`ERROR 7 layer-001.swc: 1000 bytes, the manifest says ${layer1Bytes}`),
      'truncated: ERROR 7 layer-001.swc: 1000 bytes, the manifest says N',
      e.join(' | ')
    );
  }

  // cancel at the first progress report; embedding.swc is held back 1.5 s so
  // it is surely in flight, and must be aborted rather than left to finish
  {
    srv.requests.clear();
    // END comes 300 ms after the cancel; linger past the 1.5 s hold so an
    // un-aborted request would have completed into freed memory by then
    const { lines, failed } = await run('cancel', q({ model: '/models/ok/manifest.json', cancel_after_bytes: 1 }), {
      linger: 1500,
      setup: (page) =>
        page.route('**/embedding.swc', async (route) => {
          await new Promise((ok) => setTimeout(ok, 1500));
          await route.continue().catch(() => {});
        }),
    });
    const c = lines.indexOf('CANCEL');
    const e = errorLine(lines);
    check(c >= 0 && e.length === 1 && e[0].startsWith('ERROR 10 cancelled') && lines[c + 1] === e[0], 'cancel: ERROR 10 cancelled right after the cancel', lines.join(' | '));
    const after = lines.slice(lines.indexOf(e[0]) + 1);
    check(after.length === 1 && after[0] === 'END', 'cancel: no callback after on_done', after.join(' | '));
    const later = ['layer-001.swc', 'layer-002.swc', 'layer-003.swc'].filter((p) => srv.requests.get(`/models/ok/${p}`));
    check(later.length === 0, 'cancel: chunks after the first three never requested', later.join(' '));
    const emb = failed.find((f) => f.url === '/models/ok/embedding.swc');
    check(emb !== undefined, 'cancel: the embedding.swc request in flight was aborted', `failed requests: ${JSON.stringify(failed)}`);
  }

  // an unparsable URL is refused before XMLHttpRequest.open can throw
  {
    const { lines } = await run('bad url', q({ model: 'http://[bad/manifest.json' }));
    const e = errorLine(lines);
    check(e.length === 1 && /^ERROR 1 http:\/\/\[bad\/manifest\.json: not a valid URL/.test(e[0]), 'bad url: ERROR 1 not a valid URL', e.join(' | '));
  }
} catch (err) {
  check(false, 'the run ended early', err.message);
} finally {
  await browser.close();
  await srv.close();
}
console.log(`cchat_test: ${checks.failures ? `${checks.failures} failure(s)` : 'all ok'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(checks.failures ? 1 : 0);

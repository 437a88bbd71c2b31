// load.mjs: a first visit (download, SHA-256, cache writes) and a cached
// visit of a model in headless Chromium: load time and the renderer's peak
// memory over the load and a generation, for smolweb and, given a GGUF, for
// wllama.
//
//   node bench/load.mjs [MODEL_DIR] [--gguf FILE] [--runs N] [--threads T] [--generate N]
//
// MODEL_DIR: a smolweb model folder (default models/smollm2-135m-random-q4,
// what the README's main command makes; bench/models/smollm2-135m/q4 is what
// `npm run bench` makes, beside its GGUF q4_0-emb-q8.gguf). --generate N
// greedy tokens after each load (default 128; 0: load only).
//
// Chromium is started directly on bench/page/auto.html, which fetches its
// job, runs it with bench/run.mjs's drivers (bench/page/<runtime>.mjs) and
// posts the outcome; no DevTools session is attached. (Playwright's, which
// enables the Network domain, keeps the downloaded responses' bodies in the
// renderer: a first visit of the 135M q4 model peaked at 331-359 MiB under
// Playwright against 264-274 without. Cached visits, where no model byte
// crosses the network, measured the same both ways: 248 and 250 MiB.)
// One run = a fresh profile, two visits (two Chromium processes) on it; the
// page's renderer VmHWM is read after each visit's outcome arrives. Prints a
// line per visit, then min / median / max.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS, rendererPids, vmHWMkB } from '../tests/browser/chromium.mjs';
import { serve } from '../tests/browser/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  if (i < 0) return def;
  if (i + 1 >= args.length) usage(`${name} needs a value`);
  return args[i + 1];
}
function usage(msg) {
  console.error(`bench/load.mjs: ${msg}`);
  console.error('usage: node bench/load.mjs [MODEL_DIR] [--gguf FILE] [--runs N] [--threads T] [--generate N]');
  process.exit(2);
}
const positional = args.filter((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
const dir = path.resolve(positional[0] || path.join(ROOT, 'models', 'smollm2-135m-random-q4'));
const gguf = opt('--gguf', null);
const runs = Number(opt('--runs', 3));
const threads = Number(opt('--threads', 2));
const generate = Number(opt('--generate', 128));
if (![runs, threads].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(generate) || generate < 0)
  usage('--runs and --threads take positive integers, --generate an integer >= 0');
if (!fs.existsSync(path.join(dir, 'manifest.json'))) usage(`${dir}/manifest.json not found`);
if (gguf && !fs.existsSync(gguf)) usage(`${gguf} not found`);
const TIMEOUT_MS = 10 * 60 * 1000;
const PROMPT =
  'The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined movable metal type, ' +
  'oil-based ink and a wooden screw press into a system that could produce books far faster than scribes.';

const runtimes = [{ runtime: 'smolweb', url: '/models/m/manifest.json' }];
if (gguf) runtimes.push({ runtime: 'wllama', url: `/models/g/${path.basename(gguf)}` });

let job = null;
let deliver = null; // resolves the visit in progress with the page's outcome
const mounts = { '/': ROOT, '/models/m/': dir };
if (gguf) mounts['/models/g/'] = path.dirname(path.resolve(gguf));
const srv = await serve({
  mounts,
  coi: true,
  handle: (p) => (p === '/bench-job.json' ? { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(job) } : null),
  onPost: (p, body) => {
    if (p === '/bench-result' && deliver) deliver(JSON.parse(body));
  },
});

/** One Chromium process on the auto page with this job; resolves the outcome and the renderer's VmHWM (MiB). */
async function visit(profile, { runtime, url }) {
  job = { runtime, load: { url, threads, nCtx: 1024 }, gen: generate ? { prompt: PROMPT, maxTokens: generate } : null };
  const outcome = new Promise((resolve) => (deliver = resolve));
  const proc = spawn(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, `${srv.url}/bench/page/auto.html`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  let timer;
  try {
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${runtime}: no outcome in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)));
    const r = await Promise.race([outcome, timeout]);
    if (r.error || (r.gen && r.gen.error)) throw new Error(`${runtime}: ${r.error || r.gen.error}`);
    // the page's renderer runs the workers and holds the most; the others are Chromium's own
    const peakMb = Math.max(0, ...rendererPids(profile).map(vmHWMkB)) / 1024;
    return { ...r, peakMb };
  } finally {
    clearTimeout(timer);
    deliver = null;
    proc.kill('SIGTERM');
    await exited;
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const seen = {}; // runtime -> visit -> { ms: [], mb: [] }
try {
  for (let r = 0; r < runs; r++) {
    for (const rt of runtimes) {
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-load-'));
      try {
        for (const kind of ['first', 'cached']) {
          const v = await visit(profile, rt);
          const l = v.load;
          if (rt.runtime === 'smolweb' && (kind === 'first' ? l.bytesDownloaded === 0 : l.bytesDownloaded !== 0))
            throw new Error(`smolweb ${kind} visit: ${l.bytesDownloaded} bytes downloaded, ${l.bytesFromCache} from the cache`);
          const s = ((seen[rt.runtime] ||= {})[kind] ||= { ms: [], mb: [] });
          s.ms.push(l.ms);
          s.mb.push(v.peakMb);
          const gen = v.gen ? `, ${v.gen.tokens} tokens at ${v.gen.decodeTps.toFixed(1)} tok/s` : '';
          console.log(`run ${r + 1} ${rt.runtime} ${kind} visit: load ${l.ms.toFixed(0)} ms${gen}, renderer peak ${v.peakMb.toFixed(0)} MiB`);
        }
      } finally {
        fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      }
    }
  }
} finally {
  await srv.close();
}
const f = (s, d = 0) => `${s.min.toFixed(d)} / ${s.median.toFixed(d)} / ${s.max.toFixed(d)}`;
console.log(`model ${dir}${gguf ? ` and ${gguf}` : ''}, ${runs} runs, ${threads} threads, ${generate} generated tokens (min / median / max)`);
for (const [runtime, kinds] of Object.entries(seen))
  for (const [kind, s] of Object.entries(kinds))
    console.log(`${runtime} ${kind} visit: load ms ${f(stats(s.ms))}; renderer peak MiB ${f(stats(s.mb))}`);

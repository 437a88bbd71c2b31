// wasm_speed.mjs: prefill and decode speed of the wasm builds (dist/) on the
// SmolLM2-135M shape, in Node 20 and in headless Chromium (module worker).
//
//   node bench/wasm_speed.mjs [--work DIR] [--quants q4,q8] [--runs N] [--prompt N] [--decode N]
//                             [--no-node] [--no-chromium]
//
// Random-weight SmolLM2-135M models (smolweb-gen + smolweb-chunk; native
// tools from $SMOLWEB_BUILD, default build/) are made in a temporary
// directory, or reused from --work DIR (tests/wasm/make_models.mjs layout:
// DIR/smollm2-135m-q4/...). Configurations: smolweb-scalar, smolweb-simd
// (1 thread), smolweb-simd-threads with 1 and 2 threads (Chromium: served
// with COOP/COEP for the threads build only). Per configuration: a warm-up,
// then per run a timed 128-token prefill from an empty cache and 64 timed
// greedy decode steps after 2 untimed ones (bench/wasm_speed/core.mjs).
// Prints one JSON line per configuration:
//   {"env","variant","threads","model","prefill_tps":{min,median,max},"decode_tps":{...},"runs"}
// Wait for an idle machine: other processes skew these numbers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from '../tests/browser/chromium.mjs';
import { serve } from '../tests/browser/server.mjs';
import { loadModel } from '../tests/wasm/greedy.mjs';
import { fileReader, loadVariant } from '../tests/wasm/load.mjs';
import { makeModels } from '../tests/wasm/make_models.mjs';
import { speedRun } from './wasm_speed/core.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const has = (name) => argv.includes(name);
const runs = Number(opt('--runs', 3));
const promptLen = Number(opt('--prompt', 128));
const nDecode = Number(opt('--decode', 64));
const quants = opt('--quants', 'q4,q8').split(',');

const CONFIGS = [
  { variant: 'smolweb-scalar', threads: 1 },
  { variant: 'smolweb-simd', threads: 1 },
  { variant: 'smolweb-simd-threads', threads: 1 },
  { variant: 'smolweb-simd-threads', threads: 2 },
];

let work = opt('--work', null);
let tmp = null;
if (!work) {
  tmp = work = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-wasm-speed-'));
  console.error(`making smollm2-135m ${quants.join(', ')} in ${work}`);
  makeModels(work, [`smollm2-135m:${quants.join(',')}`]);
}
const models = quants.map((q) => `smollm2-135m-${q}`);
const line = (o) => console.log(JSON.stringify(o));

try {
  if (!has('--no-node')) {
    const rts = new Map();
    for (const c of CONFIGS) {
      if (!rts.has(c.variant)) rts.set(c.variant, await loadVariant(c.variant, { poolSize: 2 }));
      const rt = rts.get(c.variant);
      for (const name of models) {
        const dir = path.join(work, name);
        const manifest = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
        const model = await loadModel(rt, manifest, fileReader(dir), { n_ctx: 512, n_threads: c.threads });
        const r = speedRun(rt, model, { promptLen, nDecode, runs });
        line({ env: 'node', variant: c.variant, threads: model.nThreads, model: name, ...r, runs });
        model.free();
      }
    }
  }
  if (!has('--no-chromium')) {
    const browser = await launchChromium();
    const servers = {};
    try {
      for (const coi of [true, false]) servers[coi] = await serve({ mounts: { '/': ROOT, '/models/': work }, coi });
      for (const c of CONFIGS) {
        const coi = c.variant.endsWith('-threads');
        for (const name of models) {
          const page = await browser.context.newPage();
          const q = new URLSearchParams({ variant: c.variant, threads: c.threads, model: name, prompt: promptLen, decode: nDecode, runs });
          await page.goto(`${servers[coi].url}/bench/wasm_speed/index.html?${q}`);
          const r = await page.evaluate(() => window.result);
          await page.close();
          if (r.error) throw new Error(`chromium ${c.variant} ${name}: ${r.error}`);
          const { coi: isolated, threads, ...rest } = r;
          line({ env: 'chromium', variant: c.variant, threads, model: name, ...rest, runs, crossOriginIsolated: isolated });
        }
      }
    } finally {
      await browser.close();
      for (const s of Object.values(servers)) await s.close();
    }
  }
} finally {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(0); // the threads build's pool keeps Node alive

// chromium_model.mjs: the whole model in wasm in headless Chromium against
// the native build: tests/browser/wasm_page/ (a module worker over
// web/src/runtime.js) for every variant, with the rules of the Node test.
//
//   node tests/wasm/chromium_model.mjs WORK_DIR
//
// WORK_DIR comes from tests/wasm/make_models.mjs. Configurations:
//   smolweb-simd-threads, threads 1 and 2, served with COOP/COEP (the page
//     and worker must be crossOriginIsolated);
//   smolweb-simd and smolweb-scalar, served without (must not be isolated:
//     these builds need no SharedArrayBuffer).
// Prints each check, and prefill/decode tok/s per model and configuration.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from '../browser/chromium.mjs';
import { serve } from '../browser/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = process.argv[2];
const TIMEOUT_MS = 180000;

const CONFIGS = [
  { variant: 'smolweb-simd-threads', threads: [1, 2], coi: true },
  { variant: 'smolweb-simd', threads: [1], coi: false },
  { variant: 'smolweb-scalar', threads: [1], coi: false },
];

let failures = 0;
const servers = {};
const browser = await launchChromium();
try {
  for (const coi of [true, false])
    servers[coi] = await serve({ mounts: { '/': ROOT, '/work/': work }, coi });
  for (const c of CONFIGS) {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => console.log(`     page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.log(`     console: ${m.text()}`); });
    try {
      await page.goto(`${servers[c.coi].url}/tests/browser/wasm_page/index.html?variant=${c.variant}&threads=${c.threads.join(',')}`);
      const r = await Promise.race([
        page.evaluate(() => window.result),
        new Promise((_, no) => setTimeout(() => no(new Error(`no result in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)),
      ]);
      for (const line of r.lines) console.log(line);
      if (!r.ok) failures++;
      if (r.coi !== c.coi || r.pageCoi !== c.coi) {
        console.log(`FAIL ${c.variant}: crossOriginIsolated page ${r.pageCoi}, worker ${r.coi}; expected ${c.coi}`);
        failures++;
      } else console.log(`ok   ${c.variant}: crossOriginIsolated ${c.coi} as served`);
    } catch (e) {
      console.log(`FAIL ${c.variant}: ${e.message}`);
      failures++;
    } finally {
      await page.close();
    }
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) await s.close();
}
console.log(failures ? `chromium_model: ${failures} failure(s)` : 'chromium_model: ok');
process.exit(failures ? 1 : 0);

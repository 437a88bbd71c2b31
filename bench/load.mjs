// load.mjs: cold and warm load time of a model through the JavaScript
// library in headless Chromium, and the renderer's peak memory.
//
//   node bench/load.mjs MODEL_DIR [--runs N] [--threads T]
//
// Each run: a fresh Chromium profile; the page (COOP/COEP on) loads the model
// with an empty cache (cold: network + SHA-256 + cache writes), disposes it,
// reloads the page and loads again (warm: from the Cache API). Prints
// min/median/max of both and the peak resident memory (VmHWM, kernel) of the
// renderer process(es) of the profile, which host the page and its workers.
import path from 'node:path';
import { serve } from '../tests/browser/server.mjs';
import { launchChromium, rendererPids, vmHWMkB } from '../tests/browser/chromium.mjs';

const args = process.argv.slice(2);
const dir = path.resolve(args[0] || 'models/smollm2-135m-random-q4');
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const runs = opt('--runs', 3);
const threads = opt('--threads', 2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const srv = await serve({ mounts: { '/': root, '/models/m/': dir }, coi: true });
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const cold = [];
const warm = [];
const rss = [];
const load = (page) =>
  page.evaluate(async (threads) => {
    const t0 = performance.now();
    const m = await window.smolweb.loadModel('/models/m/manifest.json', { threads });
    const ms = performance.now() - t0;
    const info = m.info;
    await m.dispose();
    return { ms, fromCache: info.bytesFromCache, downloaded: info.bytesDownloaded };
  }, threads);
try {
  for (let r = 0; r < runs; r++) {
    const b = await launchChromium();
    try {
      const page = await b.context.newPage();
      await page.goto(`${srv.url}/tests/browser/lib_page/index.html`);
      await page.waitForFunction(() => window.smolwebReady === true);
      const c = await load(page);
      await page.reload();
      await page.waitForFunction(() => window.smolwebReady === true);
      const w = await load(page);
      if (c.downloaded === 0 || w.fromCache === 0) throw new Error(`unexpected sources: cold ${JSON.stringify(c)} warm ${JSON.stringify(w)}`);
      cold.push(c.ms);
      warm.push(w.ms);
      const peak = rendererPids(b.userDataDir).map(vmHWMkB);
      rss.push(Math.max(0, ...peak) / 1024);
    } finally {
      await b.close();
    }
  }
} finally {
  await srv.close();
}
const f = (s) => `${s.min.toFixed(0)} / ${s.median.toFixed(0)} / ${s.max.toFixed(0)}`;
console.log(`model ${dir}, ${runs} runs, ${threads} threads (min / median / max)`);
console.log(`cold load ms: ${f(stats(cold))}`);
console.log(`warm load ms: ${f(stats(warm))}`);
console.log(`renderer peak RSS MB: ${f(stats(rss))}`);

// worker.mjs: loads a dist/ variant and a model folder (/models/NAME/) in a
// module worker, as the library will, and times it with core.mjs.
import { createRuntime } from '../../web/src/runtime.js';
import { loadModel } from '../../tests/wasm/greedy.mjs';
import { speedRun } from './core.mjs';

async function readFile(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

self.onmessage = async (e) => {
  const q = e.data;
  try {
    const { default: factory } = await import(`/dist/${q.variant}.mjs`);
    const rt = await createRuntime(factory, {});
    const base = `/models/${q.model}`;
    const manifest = new TextDecoder().decode(await readFile(`${base}/manifest.json`));
    const t0 = performance.now();
    const model = await loadModel(rt, manifest, (p) => readFile(`${base}/${p}`), { n_ctx: 512, n_threads: Number(q.threads) });
    const loadMs = performance.now() - t0;
    const r = speedRun(rt, model, { promptLen: Number(q.prompt), nDecode: Number(q.decode), runs: Number(q.runs) });
    const threads = model.nThreads;
    model.free();
    self.postMessage({ ...r, threads, load_ms: Math.round(loadMs), coi: self.crossOriginIsolated });
  } catch (err) {
    self.postMessage({ error: String(err && err.stack ? err.stack : err) });
  }
};

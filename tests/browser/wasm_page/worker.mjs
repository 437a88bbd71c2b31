// worker.mjs: the module worker of the wasm test page (index.html). Loads a
// dist/ variant through web/src/runtime.js (the loader fetches its .wasm and,
// in the threads build, spawns its pool of Workers from its own URL), then
// checks every requested model of /work/refs.json against its native
// reference with tests/wasm/greedy.mjs: the same rules as the Node test.
import { createRuntime } from '../../../web/src/runtime.js';
import { checkAgainstNative } from '../../wasm/greedy.mjs';

async function readFile(rel) {
  const r = await fetch(`/work/${rel}`);
  if (!r.ok) throw new Error(`/work/${rel}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

self.onmessage = async (e) => {
  const { variant, threads, models } = e.data;
  const lines = [];
  const tps = {};
  let ok = true;
  try {
    const { default: factory } = await import(`/dist/${variant}.mjs`);
    const rt = await createRuntime(factory, {});
    lines.push(`     ${variant}: kernels ${rt.build.kernels}, threads build ${rt.build.threads}, pool ${rt.poolSize}, ` +
      `hardwareConcurrency ${navigator.hardwareConcurrency}, crossOriginIsolated ${self.crossOriginIsolated}`);
    const refs = JSON.parse(new TextDecoder().decode(await readFile('refs.json')));
    for (const n of threads)
      for (const ref of refs) {
        if (models && !models.includes(ref.name)) continue;
        const r = await checkAgainstNative(rt, ref, readFile, { nThreads: n, label: `chromium ${variant} t${n}` });
        lines.push(...r.lines);
        tps[`${ref.name}/t${n}`] = r.tps;
        ok = ok && r.ok;
      }
  } catch (err) {
    ok = false;
    lines.push(`FAIL chromium ${variant}: ${err && err.stack ? err.stack : err}`);
  }
  self.postMessage({ ok, lines, tps, coi: self.crossOriginIsolated });
};

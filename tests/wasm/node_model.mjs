// node_model.mjs: the whole model in wasm under Node 20 against the native
// build, through web/src/runtime.js.
//
//   node tests/wasm/node_model.mjs WORK_DIR [VARIANT[:THREADS]...]
//     default variants: smolweb-simd smolweb-scalar smolweb-simd-threads:1 smolweb-simd-threads:2
//
// WORK_DIR comes from tests/wasm/make_models.mjs (refs.json: models, prompt,
// native prompt ids, greedy ids, prompt-last logits). For every variant and
// model: load every chunk (SHA-256 checked), require the same prompt ids,
// the same greedy ids up to a reported near-tie, and prompt logits within
// the stated tolerance (tests/wasm/greedy.mjs), and the number of threads
// asked for (n_threads through smolweb_model_params; threads variant only).
// Exits non-zero on any failure; always exits explicitly (threads build).
import fs from 'node:fs';
import path from 'node:path';

import { checkAgainstNative } from './greedy.mjs';
import { fileReader, loadVariant } from './load.mjs';

const [work, ...args] = process.argv.slice(2);
const specs = args.length ? args : ['smolweb-simd', 'smolweb-scalar', 'smolweb-simd-threads:1', 'smolweb-simd-threads:2'];
const refs = JSON.parse(fs.readFileSync(path.join(work, 'refs.json'), 'utf8'));
const read = fileReader(work);

let failures = 0;
try {
  const runtimes = new Map();
  for (const spec of specs) {
    const [variant, t] = spec.split(':');
    const nThreads = Number(t || 1);
    if (!runtimes.has(variant)) {
      const rt = await loadVariant(variant, { poolSize: 2 });
      // the ABI (src/abi.c) as this build reports it
      const b = rt.build, sz = rt.abi.sizes;
      const want = { simd128: variant.includes('simd'), threads: variant.endsWith('-threads') };
      const abiOk = b.wasm && b.simd128 === want.simd128 && b.threads === want.threads && sz.pointer === 4 && sz.size_t === 4 &&
        b.kernels === (want.simd128 ? 'simd128' : 'scalar') && rt.poolSize === (want.threads ? 2 : 0);
      console.log(`${abiOk ? 'ok  ' : 'FAIL'} node ${variant}: ABI v${rt.abi.abi_version} ${JSON.stringify(b)}, pointer ${sz.pointer}, size_t ${sz.size_t}, pool ${rt.poolSize}`);
      if (!abiOk) failures++;
      runtimes.set(variant, rt);
    }
    const rt = runtimes.get(variant);
    for (const ref of refs) {
      const r = await checkAgainstNative(rt, ref, read, { nThreads, label: `node ${variant} t${nThreads}` });
      for (const line of r.lines) console.log(line);
      if (!r.ok) failures++;
    }
  }
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures++;
}
console.log(failures ? `node_model: ${failures} failure(s)` : 'node_model: ok');
process.exit(failures ? 1 : 0);

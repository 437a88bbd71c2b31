// profile.mjs: where a token's time goes, by phase of the forward pass, in
// Node 20 with a profiling build of the SIMD+threads variant.
//
//   SMOLWEB_WASM_PROFILE=DIR ./build_wasm.sh   # the threads variant with -DSW_PROFILE
//   SMOLWEB_DIST=DIR node --no-experimental-fetch bench/profile.mjs MODEL_DIR [--threads N] [--prompt N] [--decode N] [--kv f32|f16]
//
// Prints, for the prefill of a promptLen-token prompt and then per decoded
// token, the milliseconds spent in each phase (src/forward.c PROF_LAP):
// norm (RMSNorm + activation quantization), qkv, rope (+ KV store),
// attention, o (+ residual), gate_up (+ SwiGLU), down (+ residual), head,
// embed, and "other" (the rest of the wall clock: sampling, JS calls).
import fs from 'node:fs';
import path from 'node:path';

import { GREEDY, loadModel } from '../tests/wasm/greedy.mjs';
import { fileReader, loadVariant } from '../tests/wasm/load.mjs';
import { promptIds } from './wasm_speed/core.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const dir = argv[0];
const threads = Number(opt('--threads', 2));
const promptLen = Number(opt('--prompt', 128));
const nDecode = Number(opt('--decode', 128));
const kv = opt('--kv', 'f32');
if (kv !== 'f32' && kv !== 'f16') throw new Error('--kv takes f32 or f16');
const PHASES = ['norm', 'qkv', 'rope', 'attention', 'o', 'gate_up', 'down', 'head', 'embed'];

const rt = await loadVariant('smolweb-simd-threads', { poolSize: Math.max(1, threads - 1) });
if (!rt.mod._sw_profile) throw new Error('not a profiling build (-DSW_PROFILE)');
const manifest = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
const model = await loadModel(rt, manifest, fileReader(dir), { n_ctx: 1024, n_threads: threads, kv_f16: kv === 'f16' ? 1 : 0 });
const prof = () => Array.from(new Float64Array(rt.mod.HEAPF64.buffer, rt.mod._sw_profile(model.ptr), PHASES.length));
const ids = promptIds(model, promptLen);
const sampler = rt.samplerCreate(GREEDY, model.nVocab);

function measure(label, n, fn) {
  const p0 = prof();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const d = prof().map((x, i) => x - p0[i]);
  const row = { what: label, threads: model.nThreads, kv, ms_per_token: +(wall / n).toFixed(3), tps: +((1000 * n) / wall).toFixed(1) };
  let sum = 0;
  PHASES.forEach((ph, i) => {
    row[ph] = +(d[i] / n).toFixed(3);
    sum += d[i];
  });
  row.other = +((wall - sum) / n).toFixed(3);
  console.log(JSON.stringify(row));
}

// warm-up: V8 tiers wasm up lazily
model.prefill(ids.slice(0, 16));
for (let i = 0; i < 4; i++) model.decodeStep(sampler);
for (let r = 0; r < 2; r++) {
  model.reset();
  measure(`prefill ${promptLen}`, promptLen, () => model.prefill(ids));
  measure(`decode ${nDecode}`, nDecode, () => {
    for (let i = 0; i < nDecode; i++) model.decodeStep(sampler);
  });
}
sampler.free();
model.free();
process.exit(0);

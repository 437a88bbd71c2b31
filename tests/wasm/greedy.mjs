// greedy.mjs: the wasm-vs-native agreement rules shared by the Node tests
// (tests/wasm/node_model.mjs), the headless-Chromium page
// (tests/browser/wasm_page/worker.mjs) and bench/wasm_speed.mjs. No Node or
// DOM API here: only web/src/runtime.js objects and plain arrays.
//
// What "agrees" means. Integer block dot products (q4/q8 weights against
// int8 activations) are exact in both builds, and every float sum runs in the
// order the scalar kernels fix (src/kernels_scalar.c, "Summation order"),
// which the SIMD128 kernels follow lane for lane (tests/test_kernels.c checks
// them bit for bit). So the logits of every wasm variant equal the native
// build's up to libm differences (exp/cos/sin in Emscripten's musl vs glibc),
// measured: none. The rules:
//   prompt logits within LOGIT_TOL_REL of max|logit|; prompt ids identical;
//   generated ids identical, except that where they first differ, a wasm
//   top-2 logit gap below NEAR_TIE_REL * max|logit| is reported as
//   "near-tie at step k (gap g)" and passes; seeded sampling gives identical
//   ids.

/** Prompt logits max |diff| / max |native logit| (the "about 1e-6
 * relative"; measured 0). */
export const LOGIT_TOL_REL = 1e-6;
/** A top-2 gap below this fraction of max|logit| is a near-tie. */
export const NEAR_TIE_REL = 1e-5;

/** The tolerances (one class for every variant and weight type). */
export function tolerance() {
  return { cls: 'exact', logitRel: LOGIT_TOL_REL, nearTieRel: NEAR_TIE_REL };
}

/** Greedy sampler parameters matching smolweb-run --temperature 0 (its
 * repeat penalty defaults to 1, off). */
export const GREEDY = { temperature: 0, repeat_penalty: 1 };

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The largest and second largest logit's gap, and max |logit|. */
export function topTwo(logits) {
  let a = -Infinity, b = -Infinity, scale = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (x > a) { b = a; a = x; } else if (x > b) b = x;
    const m = x < 0 ? -x : x;
    if (m > scale) scale = m;
  }
  return { gap: a - b, scale };
}

/** Loads every chunk through readChunk(path) -> Promise<Uint8Array> into a
 * new model (SHA-256 checked); frees it and rethrows on any failure. */
export async function loadModel(rt, manifestText, readChunk, params = {}) {
  const model = rt.modelCreate(manifestText, params);
  try {
    for (const c of model.chunks) model.loadChunk(c.index, await readChunk(c.path));
    const missing = model.missingChunks();
    if (missing.length) throw new Error(`chunks still missing: ${missing.join(', ')}`);
    return model;
  } catch (e) {
    model.free();
    throw e;
  }
}

/** Prefills promptIds from an empty cache and decodes nGen tokens greedily.
 * Returns the ids, the top-2 gap at every step, a copy of the prompt's last
 * logits, and timings. */
export function greedyRun(rt, model, promptIds, nGen) {
  const sampler = rt.samplerCreate(GREEDY, model.nVocab);
  try {
    model.reset();
    for (const id of promptIds) sampler.accept(id);
    const t0 = now();
    const done = model.prefill(promptIds);
    const t1 = now();
    if (done !== promptIds.length) throw new Error(`prefill cached ${done} of ${promptIds.length} tokens`);
    const prefillLogits = Float32Array.from(model.logits());
    const ids = [], gaps = [];
    const t2 = now();
    for (let i = 0; i < nGen; i++) {
      ids.push(model.decodeStep(sampler));
      gaps.push(topTwo(model.logits()));
    }
    const t3 = now();
    return { ids, gaps, prefillLogits, prefillMs: t1 - t0, decodeMs: t3 - t2 };
  } finally {
    sampler.free();
  }
}

/** Seeded sampling from the same prompt: the ids, drawn with `params`. */
export function sampledRun(rt, model, promptIds, nGen, params) {
  const sampler = rt.samplerCreate(params, model.nVocab);
  try {
    model.reset();
    for (const id of promptIds) sampler.accept(id);
    model.prefill(promptIds);
    return Array.from({ length: nGen }, () => model.decodeStep(sampler));
  } finally {
    sampler.free();
  }
}

/** Applies the near-tie rule: { ok, note }. */
export function compareGreedy(got, gaps, want, nearTieRel = NEAR_TIE_REL) {
  const n = Math.min(got.length, want.length);
  for (let k = 0; k < n; k++) {
    if (got[k] === want[k]) continue;
    const { gap, scale } = gaps[k];
    const tol = nearTieRel * scale;
    if (gap < tol)
      return { ok: true, nearTie: k, note: `near-tie at step ${k} (gap ${gap.toExponential(2)} < ${tol.toExponential(2)}); ids before it identical` };
    return { ok: false, note: `ids differ at step ${k}: wasm ${got[k]}, native ${want[k]}; top-2 gap ${gap.toExponential(2)} is not a near-tie (>= ${tol.toExponential(2)})` };
  }
  if (got.length !== want.length) return { ok: false, note: `${got.length} ids, native ${want.length}` };
  return { ok: true, note: 'identical' };
}

/** Max abs and relative (to max |want|) difference of two logit vectors. */
export function compareLogits(got, want, tolRel = LOGIT_TOL_REL) {
  if (got.length !== want.length) return { ok: false, maxAbs: Infinity, rel: Infinity, note: `${got.length} logits, native ${want.length}` };
  let maxAbs = 0, scale = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates as a failure
    scale = Math.max(scale, Math.abs(want[i]));
  }
  const rel = maxAbs / (scale || 1);
  return { ok: rel <= tolRel, maxAbs, rel, note: `max |diff| ${maxAbs.toExponential(2)}, rel ${rel.toExponential(2)} (tol ${tolRel})` };
}

/** Runs one model config against its native reference (an entry of
 * refs.json) and returns { ok, lines: [...], tps }. */
export async function checkAgainstNative(rt, ref, readFile, { nThreads = 1, label = '' } = {}) {
  const lines = [];
  let ok = true;
  const manifest = new TextDecoder().decode(await readFile(`${ref.dir}/manifest.json`));
  const model = await loadModel(rt, manifest, (p) => readFile(`${ref.dir}/${p}`), { n_ctx: ref.n_ctx, n_threads: nThreads, kv_f16: ref.kv_f16 ? 1 : 0 });
  try {
    const expectThreads = rt.build.threads ? nThreads : 1;
    if (model.nThreads !== expectThreads) {
      ok = false;
      lines.push(`FAIL ${label} ${ref.name}: model computes with ${model.nThreads} thread(s), asked ${nThreads} (pool ${rt.poolSize})`);
    }
    const prompt = model.tokenize(ref.prompt);
    if (prompt.join() !== ref.prompt_ids.join()) {
      ok = false;
      lines.push(`FAIL ${label} ${ref.name}: prompt ids ${JSON.stringify(prompt)} != native ${JSON.stringify(ref.prompt_ids)}`);
    }
    const r = greedyRun(rt, model, ref.prompt_ids, ref.gen_ids.length);
    const tol = tolerance(rt, ref.quant);
    const g = compareGreedy(r.ids, r.gaps, ref.gen_ids, tol.nearTieRel);
    const want = new Float32Array((await readFile(`${ref.logits}`)).slice().buffer);
    const l = compareLogits(r.prefillLogits, want, tol.logitRel);
    // seeded sampling draws the same ids from the same logits
    let sampledNote = '';
    if (ref.sampled_ids) {
      const sids = sampledRun(rt, model, ref.prompt_ids, ref.sampled_ids.length, ref.sampling);
      const k = sids.findIndex((id, i) => id !== ref.sampled_ids[i]);
      if (k < 0) sampledNote = `; ${sids.length} seeded sampled ids identical`;
      else {
        ok = false;
        lines.push(`FAIL ${label} ${ref.name}: seeded sampled ids differ at step ${k}\n     wasm   ${JSON.stringify(sids)}\n     native ${JSON.stringify(ref.sampled_ids)}`);
      }
    }
    ok = ok && g.ok && l.ok;
    const tps = {
      prefill: (ref.prompt_ids.length * 1000) / r.prefillMs,
      decode: (ref.gen_ids.length * 1000) / r.decodeMs,
    };
    lines.push(`${g.ok && l.ok ? 'ok  ' : 'FAIL'} ${label} ${ref.name} [${tol.cls}]: threads ${model.nThreads}, ${ref.gen_ids.length} greedy ids ${g.note}; ` +
      `prompt logits ${l.note}${sampledNote}; prefill ${tps.prefill.toFixed(1)} tok/s, decode ${tps.decode.toFixed(1)} tok/s`);
    if (!g.ok) lines.push(`     wasm   ${JSON.stringify(r.ids)}\n     native ${JSON.stringify(ref.gen_ids)}`);
    return { ok, lines, tps };
  } finally {
    model.free();
  }
}

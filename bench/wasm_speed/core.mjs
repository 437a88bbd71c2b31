// core.mjs: the timed run of bench/wasm_speed.mjs, shared by Node and the
// Chromium worker (worker.mjs); no Node or DOM API here.
//
// One measurement of a loaded model (web/src/runtime.js Model): a warm-up
// (16-token prefill + 2 decode steps: V8 compiles wasm lazily and tiers up,
// research/wasm-feasibility.md), then per run: reset the KV cache, prefill
// a promptLen-token prompt (timed), 2 untimed decode steps, nDecode timed
// greedy decode steps (EOS not special: decodeStep never stops).
import { GREEDY } from '../../tests/wasm/greedy.mjs';

const now = () => performance.now();
const TEXT = 'The quick brown fox jumps over the lazy dog while 27 birds sing in the old oak tree; ';

/** promptLen ids of an English text (tokenized by the model). */
export function promptIds(model, promptLen) {
  const ids = model.tokenize(TEXT.repeat(Math.ceil(promptLen / 8) + 4));
  if (ids.length < promptLen) throw new Error(`only ${ids.length} prompt ids`);
  return ids.slice(0, promptLen);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { min: r(s[0]), median: r(s[s.length >> 1]), max: r(s[s.length - 1]) };
};

/** { prefill_tps, decode_tps } as {min, median, max} over runs. */
export function speedRun(rt, model, { promptLen = 128, nDecode = 64, runs = 3 } = {}) {
  const ids = promptIds(model, promptLen);
  const sampler = rt.samplerCreate(GREEDY, model.nVocab);
  try {
    model.reset();
    model.prefill(ids.slice(0, 16));
    model.decodeStep(sampler);
    model.decodeStep(sampler);
    const prefill = [], decode = [];
    for (let r = 0; r < runs; r++) {
      model.reset();
      const t0 = now();
      model.prefill(ids);
      const t1 = now();
      model.decodeStep(sampler);
      model.decodeStep(sampler);
      const t2 = now();
      for (let i = 0; i < nDecode; i++) model.decodeStep(sampler);
      const t3 = now();
      prefill.push((promptLen * 1000) / (t1 - t0));
      decode.push((nDecode * 1000) / (t3 - t2));
    }
    return { prefill_tps: stats(prefill), decode_tps: stats(decode) };
  } finally {
    sampler.free();
  }
}

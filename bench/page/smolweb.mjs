// smolweb.mjs: bench/run.mjs's driver for smolweb's public API (web/src/index.js).
import { loadModel } from '/web/src/index.js';

let model = null;

/** Loads (from the chunk cache when filled); times loadModel until ready. */
export async function load({ url, threads, nCtx }) {
  const t0 = performance.now();
  model = await loadModel(url, { threads, contextLength: nCtx, cache: true });
  const ms = performance.now() - t0;
  const i = model.info;
  return {
    ms,
    threads: i.threads,
    variant: `smolweb-${i.variant}`,
    contextLength: i.contextLength,
    bytesDownloaded: i.bytesDownloaded,
    bytesFromCache: i.bytesFromCache,
    cacheWarning: i.cacheWarning || null,
  };
}

/**
 * Greedy generation from a text prompt (tokenized by the runtime, as
 * wllama's is), EOS ignored. Times are taken here, on
 * the page, as the stream delivers text: ttft from the generate() call to the
 * first piece; decode from the first piece to the last over the tokens after
 * the first (lastRun.ids counts them). prefill is the runtime's own measure
 * (lastRun.prefillTps: the prompt's forward passes).
 */
export async function generate({ prompt, maxTokens }) {
  const times = [];
  let text = '';
  const t0 = performance.now();
  const stream = model.generate(prompt, { temperature: 0, repeatPenalty: 1, maxTokens, ignoreEos: true });
  for await (const piece of stream) {
    if (!piece) continue;
    times.push(performance.now());
    text += piece;
  }
  const r = model.lastRun;
  const n = r.ids.length;
  const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  return {
    ttftMs: times.length ? times[0] - t0 : null,
    prefillTps: r.prefillTps,
    decodeTps: n > 1 && span > 0 ? ((n - 1) * 1000) / span : null,
    promptTokens: r.promptTokens,
    tokens: n,
    pieces: times.length,
    ids: r.ids,
    text,
    finishReason: r.finishReason,
    // the runtime's own figures, for reference
    own: { ttftMs: r.ttftMs, decodeTps: r.decodeTps },
  };
}

export async function dispose() {
  if (model) await model.dispose();
  model = null;
}

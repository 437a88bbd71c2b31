// wllama.mjs: bench/run.mjs's driver for @wllama/wllama (llama.cpp in wasm),
// loaded from this origin: the minified ES module a page ships and its one
// .wasm (its workers are blobs made from code inside the module).
import { Wllama } from '/node_modules/@wllama/wllama/esm/index.min.js';

const WASM = new URL('/node_modules/@wllama/wllama/esm/wasm/wllama.wasm', location.href).href;
const quiet = () => {};
let wllama = null;

/**
 * Loads a GGUF by URL through wllama's model manager (its cache: OPFS); the
 * second load in a profile reads the file from there, without a request.
 * Times new Wllama() + loadModelFromUrl until ready.
 */
export async function load({ url, threads, nCtx }) {
  const t0 = performance.now();
  wllama = new Wllama({ default: WASM }, {
    suppressNativeLog: true,
    logger: { debug: quiet, log: quiet, info: quiet, warn: console.warn, error: console.error },
  });
  wllama.setCompat(null); // never the CDN compat build (this Chromium has JSPI and Memory64)
  await wllama.loadModelFromUrl(new URL(url, location.href).href, {
    n_ctx: nCtx,
    n_threads: threads,
    n_gpu_layers: 0, // CPU only, as smolweb
  });
  const ms = performance.now() - t0;
  return {
    ms,
    threads: wllama.getNumThreads(),
    variant: wllama.isMultithread() ? 'wllama (multi-thread)' : 'wllama (single-thread)',
    contextLength: wllama.getLoadedContextInfo().n_ctx,
  };
}

/**
 * Greedy completion from a text prompt (wllama 3.8.1's completion refuses a
 * token-id array), EOS ignored, streamed; logitBias: { "id": bias }. Chunks
 * carry timings (timings_per_token): predicted_n counts the tokens made so
 * far, so the page times tokens, not text pieces. prefill is llama.cpp's own
 * measure (prompt_per_second). withIds: also ask for logprobs (each chunk
 * then names its token ids); slower, so only for the untimed id check.
 */
export async function generate({ prompt, maxTokens, withIds = false, logitBias = null }) {
  const marks = []; // [time, predicted_n]
  let text = '';
  let last = null;
  const outIds = [];
  let error = null;
  const t0 = performance.now();
  try {
    await wllama.createCompletion({
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
      repeat_penalty: 1,
      ignore_eos: true,
      cache_prompt: false,
      timings_per_token: true,
      ...(logitBias ? { logit_bias: logitBias } : {}),
      ...(withIds ? { logprobs: 1 } : {}),
      stream: true,
      onData: (chunk) => {
        const now = performance.now();
        if (chunk.timings) {
          last = chunk.timings;
          marks.push([now, chunk.timings.predicted_n]);
        }
        const c = chunk.choices && chunk.choices[0];
        if (c && c.text) text += c.text;
        const lp = c && c.logprobs && c.logprobs.content;
        if (lp) for (const e of lp) outIds.push(e.id);
      },
    });
  } catch (e) {
    error = String(e && e.message ? e.message : e).split('\n')[0];
  }
  const first = marks.find(([, n]) => n >= 1);
  const n = last ? last.predicted_n : 0;
  const end = marks.find(([, k]) => k >= n);
  return {
    ttftMs: first ? first[0] - t0 : null,
    prefillTps: last ? last.prompt_per_second : null,
    decodeTps: first && end && n > 1 && end[0] > first[0] ? ((n - 1) * 1000) / (end[0] - first[0]) : null,
    promptTokens: last ? last.prompt_n : null,
    tokens: n,
    pieces: marks.length,
    ids: withIds ? outIds : null,
    text,
    error,
    own: last ? { prefillTps: last.prompt_per_second, decodeTps: last.predicted_per_second } : null,
  };
}

export async function dispose() {
  if (wllama) await wllama.exit();
  wllama = null;
}

/** The llama.cpp build inside this wllama ("b6327-4d74393"). */
export function libllamaVersion() {
  return Wllama.getLibllamaVersion();
}

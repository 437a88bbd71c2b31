// run.mjs: `npm run bench`, smolweb against wllama (@wllama/wllama,
// llama.cpp in WebAssembly) in headless Chromium, on the same random-weight
// weights (DESIGN.md section 4, issue 9).
//
//   node bench/run.mjs [--runs N] [--quick] [--sizes 135m|all|135m,360m,1.7b]
//                      [--quants q4,q8] [--threads 2,1] [--runtimes smolweb,wllama]
//                      [--out DIR] [--models DIR] [--remake-models] [--quiet-wait S]
//                      [--redo N] [--ids-check]
//
//   --runs N       timed runs per configuration (default 3); --quick is --runs 1
//   --sizes        135m (default): SmolLM2-135M's shape, q4 and q8, both runtimes.
//                  all: also SmolLM2-360M and SmolLM2-1.7B, q4, smolweb alone
//                  (making the 1.7B chunks takes about 10 minutes the first time)
//   --quants       135M quantizations (default q4,q8): q4 = smolweb q4 with a q8
//                  embedding against GGUF Q4_0 with token_embd Q8_0; q8 = smolweb
//                  q8 against GGUF Q8_0
//   --threads      thread counts (default 2,1)
//   --runtimes     default smolweb,wllama
//   --out DIR      results.jsonl and RESULTS.md (default bench/results)
//   --models DIR   model cache (default bench/models, git-ignored)
//   --remake-models  make the models again even if the tools did not change
//   --quiet-wait S before each timed launch, wait up to S seconds (default 30)
//                  for a second with the CPUs at most 10% busy; each run records
//                  the CPU share other processes took while it was timed
//   --redo N       do a run again, up to N times (default 2), while other
//                  processes took more than 15% of the CPUs during it; the
//                  least disturbed attempt is kept
//   --ids-check    after each timed wllama run, one more (untimed) generation
//                  with logprobs, which name its token ids, for an exact id
//                  comparison (slow: llama.cpp then ranks the vocabulary per token)
// Env: SMOLWEB_BUILD (native tools, default build/), SMOLWEB_SHARED (default
// ../shared), CHROMIUM (default /usr/bin/chromium).
//
// Models (made once, kept in bench/models/, remade when smolweb-gen or
// smolweb-chunk changes): `smolweb-gen SHAPE --seed 7` writes one set of
// random weights as a Hugging Face folder and, for 135M, as GGUF files
// (--gguf q4_0-emb-q8, --gguf q8_0); `smolweb-chunk --quant q4|q8` chunks the
// folder. The prompt is English text whose first 128 tokens (smolweb's
// tokenizer, checked against the runtimes' own counts at run time) are kept:
// both runtimes get the same text and tokenize it themselves.
//
// One run = a fresh profile (--user-data-dir) and two browser launches on it,
// the page on 127.0.0.1 with COOP/COEP (tests/browser/server.mjs):
//   1. fill: load the model (downloads it into the runtime's cache: smolweb's
//      Cache API chunk cache, wllama's OPFS cache); close the browser.
//   2. timed: launch again on the same profile, load from the cache (no model
//      request may reach the server; checked), then generate 128 greedy tokens
//      (temperature 0, repeat penalty 1, EOS ignored, context 1024), then read
//      the renderer's VmHWM from /proc before closing.
// The page's runtime files (.wasm, .js) are served cacheable (the model
// files are not: each runtime keeps its own copy), so the timed launch is a
// revisit: everything comes from this profile's caches.
//
// Figures per run (bench/page/*.mjs takes them on the page):
//   load_ms      loadModel() (smolweb) / new Wllama() + loadModelFromUrl() (wllama)
//                until ready, model bytes from the runtime's cache
//   ttft_ms      from the generate call to the first streamed token
//   prefill_tps  128 / the runtime's own prompt-processing time
//                (smolweb lastRun.prefillTps, llama.cpp timings.prompt_per_second)
//   decode_tps   (tokens - 1) / wall clock between the first and the last streamed token
//   peak_rss_mb  VmHWM (MiB) of the benchmark page's renderer process (its dedicated
//                workers, where both runtimes compute, live in it): the renderer
//                with threads named DedicatedWorker in /proc/PID/task/*/comm
// and per configuration: model_bytes (smolweb: manifest.json + every file it
// lists; wllama: the .gguf), runtime_bytes and runtime_gzip_bytes (gzip -9,
// per file): the runtime files the page requested in the fill launch (fresh
// profile, so every one of them): the dist/ variant's .wasm + .mjs
// (+ .worker.js) and the web/src/*.js modules it imports; wllama's
// index.min.js and wllama.wasm (its workers are blobs built from code inside
// index.min.js).
//
// Random weights make byte-level BPE tokens that are not UTF-8 on their own
// likely; wllama 3.8.1's result serializer throws on such text and ends the
// stream, so wllama's request bans those 313 tokens with logit_bias (cost:
// one add per banned id per token). The greedy agreement check compares
// wllama's text with smolweb's tokens: agree_tokens is the number of leading
// smolweb tokens whose text wllama also produced (an exact id comparison
// with --ids-check).
//
// Output: one JSON line per runtime and configuration on stdout and in
// OUT/results.jsonl, a Markdown table in OUT/RESULTS.md with the machine
// described, every run's figures in OUT/runs.jsonl, and last the line
// {"ratios": {...}}: smolweb/wllama medians for SmolLM2-135M q4 with 2
// threads (q8 under "q8"). Progress on stderr.
// Absolute figures on a shared 2-core machine drift between runs and with
// anything else running (each run records the CPU share other processes took
// while it was timed, see --quiet-wait and --redo); ratios from one
// interleaved run (the rounds alternate the runtimes) are the figures to
// compare.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, rendererPids, vmHWMkB } from '../tests/browser/chromium.mjs';
import { serve } from '../tests/browser/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.resolve(ROOT, process.env.SMOLWEB_BUILD || 'build');
const SHARED = path.resolve(ROOT, process.env.SMOLWEB_SHARED || '../shared');
const TOKENIZER_DIR = path.join(SHARED, 'models', 'smollm2-135m-instruct');

// ---- options ----

const argv = process.argv.slice(2);
function opt(name, def) {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  if (i + 1 >= argv.length) usage(`${name} needs a value`);
  return argv[i + 1];
}
const has = (name) => argv.includes(name);
function usage(msg) {
  console.error(`bench/run.mjs: ${msg}`);
  console.error('usage: node bench/run.mjs [--runs N] [--quick] [--sizes 135m|all|135m,360m,1.7b] [--quants q4,q8]');
  console.error('                         [--threads 2,1] [--runtimes smolweb,wllama] [--out DIR] [--models DIR]');
  console.error('                         [--remake-models] [--quiet-wait S] [--redo N] [--ids-check]');
  process.exit(2);
}
const KNOWN = new Set(['--runs', '--quiet-wait', '--redo', '--quick', '--sizes', '--quants', '--threads', '--runtimes', '--out', '--models', '--remake-models', '--ids-check']);
for (let i = 0; i < argv.length; i++) {
  if (!KNOWN.has(argv[i])) usage(`unknown argument ${argv[i]}`);
  if (!['--quick', '--remake-models', '--ids-check'].includes(argv[i])) i++;
}
const RUNS = has('--quick') ? 1 : Number(opt('--runs', 3));
if (!Number.isInteger(RUNS) || RUNS < 1) usage('--runs must be a positive integer');
const QUIET_WAIT_S = Number(opt('--quiet-wait', 30));
const REDO = Number(opt('--redo', 2));
if (!Number.isInteger(REDO) || REDO < 0) usage('--redo must be an integer >= 0');
if (!(QUIET_WAIT_S >= 0)) usage('--quiet-wait must be a number of seconds >= 0');
const sizesArg = opt('--sizes', '135m');
const SIZES = sizesArg === 'all' ? ['135m', '360m', '1.7b'] : sizesArg.split(',');
const QUANTS = opt('--quants', 'q4,q8').split(',');
const THREADS = opt('--threads', '2,1').split(',').map(Number);
const RUNTIMES = opt('--runtimes', 'smolweb,wllama').split(',');
const OUT = path.resolve(opt('--out', path.join(ROOT, 'bench', 'results')));
const MODELS = path.resolve(opt('--models', path.join(ROOT, 'bench', 'models')));
const REMAKE = has('--remake-models');
const IDS_CHECK = has('--ids-check');
const IDS_CHECK_TOKENS = 16; // the first ids are enough to find the first difference
for (const s of SIZES) if (!['135m', '360m', '1.7b'].includes(s)) usage(`unknown size ${s}`);
for (const q of QUANTS) if (!['q4', 'q8'].includes(q)) usage(`unknown quant ${q}`);
for (const t of THREADS) if (!Number.isInteger(t) || t < 1) usage('--threads takes positive integers');
for (const r of RUNTIMES) if (!['smolweb', 'wllama'].includes(r)) usage(`unknown runtime ${r}`);

const PROMPT_TOKENS = 128;
const GEN_TOKENS = 128;
const N_CTX = 1024;
const SEED = '7';
const RUN_TIMEOUT_MS = 10 * 60 * 1000;
const DISTURBED_PCT = 15;

const log = (...a) => console.error('[bench]', ...a);

// ---- models ----

// What each size is: the generator's shape name, the quants made, whether
// wllama runs it (GGUF files), and the dtype of the intermediate HF folder
// (f32 where a GGUF is written from the same weights: bit-identical inputs;
// bf16, as the released checkpoints, where smolweb runs alone).
const SHAPES = {
  '135m': { shape: 'smollm2-135m', model: 'SmolLM2-135M', gguf: true, dtype: 'f32' },
  '360m': { shape: 'smollm2-360m', model: 'SmolLM2-360M', gguf: false, dtype: 'bf16' },
  '1.7b': { shape: 'smollm2-1.7b', model: 'SmolLM2-1.7B', gguf: false, dtype: 'bf16' },
};
const GGUF = {
  q4: { file: 'q4_0-emb-q8.gguf', gen: 'q4_0-emb-q8', weights: 'GGUF Q4_0, token_embd Q8_0' },
  q8: { file: 'q8_0.gguf', gen: 'q8_0', weights: 'GGUF Q8_0' },
};
const SMOLWEB_WEIGHTS = { q4: 'smolweb q4, embedding q8', q8: 'smolweb q8' };

function tool(name) {
  const p = path.join(BUILD, name);
  if (!fs.existsSync(p)) {
    console.error(`bench/run.mjs: ${p} not found: build the native tools first (cmake -S . -B build && cmake --build build -j2), or set SMOLWEB_BUILD`);
    process.exit(1);
  }
  return p;
}
const sha256File = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

function run(bin, args, opts = {}) {
  return execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

/**
 * Makes (or reuses) MODELS/<shape>/: q4/ and q8/ chunk folders and, for
 * 135M, the GGUF files. stamp.json records the tools' hashes: a changed
 * smolweb-gen remakes everything, a changed smolweb-chunk the chunks.
 */
function ensureModels(size, quants) {
  const s = SHAPES[size];
  const dir = path.join(MODELS, s.shape);
  const stampPath = path.join(dir, 'stamp.json');
  const gen = tool('smolweb-gen');
  const chunk = tool('smolweb-chunk');
  const want = { seed: SEED, dtype: s.dtype, gen: sha256File(gen), chunk: sha256File(chunk) };
  let stamp = {};
  try {
    stamp = JSON.parse(fs.readFileSync(stampPath, 'utf8'));
  } catch {
    stamp = {};
  }
  const sameGen = !REMAKE && stamp.seed === want.seed && stamp.dtype === want.dtype && stamp.gen === want.gen;
  const sameChunk = sameGen && stamp.chunk === want.chunk;
  const ggufs = s.gguf ? quants.map((q) => path.join(dir, GGUF[q].file)) : [];
  const needGguf = ggufs.filter((f) => !sameGen || !fs.existsSync(f));
  const needChunks = quants.filter((q) => !sameChunk || !fs.existsSync(path.join(dir, q, 'manifest.json')));
  if (!needGguf.length && !needChunks.length) return { dir, quantError: stamp.quant_error || null };
  if (!sameGen || !sameChunk) {
    // what the stamp covered is stale: drop it all before writing anything
    if (!sameGen) for (const q of ['q4', 'q8']) if (s.gguf) fs.rmSync(path.join(dir, GGUF[q].file), { force: true });
    for (const q of ['q4', 'q8']) fs.rmSync(path.join(dir, q), { recursive: true, force: true });
    fs.rmSync(stampPath, { force: true });
    stamp = {};
    needChunks.splice(0, needChunks.length, ...quants);
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(MODELS, `.make-${s.shape}-`));
  const t0 = Date.now();
  try {
    // the HF folder is named after the shape: the chunker takes the model's name from it
    const hf = path.join(tmp, s.shape);
    const args = [s.shape, hf, '--seed', SEED, '--dtype', s.dtype, '--tokenizer-dir', TOKENIZER_DIR];
    for (const q of quants) if (s.gguf && needGguf.includes(path.join(dir, GGUF[q].file))) args.push('--gguf', GGUF[q].gen, path.join(tmp, GGUF[q].file));
    log(`making ${s.shape}: smolweb-gen ${args.join(' ')}`);
    run(gen, args);
    for (const q of needChunks) {
      log(`chunking ${s.shape} ${q} (smolweb-chunk --quant ${q})`);
      run(chunk, ['--quant', q, hf, path.join(tmp, q)]);
      fs.rmSync(path.join(dir, q), { recursive: true, force: true });
      fs.renameSync(path.join(tmp, q), path.join(dir, q));
    }
    for (const q of quants) {
      const f = path.join(tmp, GGUF[q].file);
      if (fs.existsSync(f)) fs.renameSync(f, path.join(dir, GGUF[q].file));
    }
    let quantError = null;
    if (s.gguf) {
      log(`measuring ${s.shape}'s quantization error against the f32 weights`);
      quantError = { ...(stamp.quant_error || {}), ...quantErrors(hf, dir, quants, true) };
    }
    fs.writeFileSync(stampPath, JSON.stringify({ ...want, quant_error: quantError, made: new Date().toISOString() }, null, 1) + '\n');
    log(`${s.shape} ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { dir, quantError: JSON.parse(fs.readFileSync(stampPath, 'utf8')).quant_error || null };
}

// ---- quantization error (is smolweb's model as accurate as the GGUF?) ----
//
// Relative RMS error sqrt(sum (w - dequant(q(w)))^2 / sum w^2) of each
// quantized file against the f32 weights it was made from, over the
// quantized tensors (every linear weight and the token embedding; norms stay
// f32 in both): measured once, when the models are made. Readers written from
// the format descriptions: safetensors, src/chunk.h + src/quant.h (as
// tests/swref.py), GGUF v3 with ggml's Q4_0/Q8_0 blocks; GGUF stores q and k
// rows permuted for llama.cpp's RoPE, so the f32 rows are permuted the same
// way before comparing.

function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
const F16 = new Float32Array(65536).map((_, h) => f16ToF32(h));

function readSafetensors(folder) {
  const raw = fs.readFileSync(path.join(folder, 'model.safetensors'));
  const n = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
  const out = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = info.data_offsets;
    const buf = raw.subarray(8 + n + b, 8 + n + e);
    let data;
    if (info.dtype === 'F32') data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    else if (info.dtype === 'BF16') {
      const u16 = new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      data = new Float32Array(new Uint32Array(u16.length).map((_, i) => u16[i] << 16).buffer);
    } else throw new Error(`safetensors dtype ${info.dtype}`);
    out.set(name, { shape: info.shape, data });
  }
  return out;
}

/** Adds a tensor's squared error and squared weights to acc. deq(i) decodes element i (row-major). */
function accumulate(acc, ref, count, deq) {
  for (let i = 0; i < count; i++) {
    const r = ref[i];
    const d = r - deq(i);
    acc.err += d * d;
    acc.sq += r * r;
  }
}

const CHUNK_LAYER_HF = { q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj', gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj' };

function chunkError(modelDir, hf) {
  const m = JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8'));
  const acc = { err: 0, sq: 0 };
  for (const f of m.files) {
    if (f.role === 'tokenizer') continue;
    const raw = fs.readFileSync(path.join(modelDir, f.path));
    if (raw.toString('latin1', 0, 4) !== 'SWCK' || raw.readUInt32LE(4) !== 1) throw new Error(`${f.path}: not a version 1 chunk`);
    const nt = raw.readUInt32LE(16);
    for (let t = 0; t < nt; t++) {
      const e = 32 + 64 * t;
      const name = raw.toString('latin1', e, e + 32).replace(/\0.*$/s, '');
      const dtype = raw.readUInt32LE(e + 32);
      const rows = raw.readUInt32LE(e + 36);
      const cols = raw.readUInt32LE(e + 40);
      const off = Number(raw.readBigUInt64LE(e + 48));
      if (dtype !== 2 && dtype !== 3) continue; // norms (f32)
      const hfName = name === 'embed' ? 'model.embed_tokens.weight' : name === 'head' ? 'lm_head.weight' : `model.layers.${f.layer}.${CHUNK_LAYER_HF[name]}.weight`;
      const ref = hf.get(hfName);
      if (!ref) throw new Error(`no f32 tensor ${hfName}`);
      const nb = (rows * cols) / 32;
      const bsize = dtype === 2 ? 32 : 16;
      const scales = off + nb * bsize;
      accumulate(acc, ref.data, rows * cols, (i) => {
        const b = i >> 5;
        const j = i & 31;
        const d = F16[raw.readUInt16LE(scales + 2 * b)];
        if (dtype === 2) return raw.readInt8(off + b * 32 + j) * d;
        const byte = raw[off + b * 16 + (j & 15)];
        return ((j < 16 ? byte & 15 : byte >> 4) - 8) * d;
      });
    }
  }
  return Math.sqrt(acc.err / acc.sq);
}

function ggufError(file, hf, cfg) {
  const raw = fs.readFileSync(file);
  let p = 0;
  const u32 = () => ((p += 4), raw.readUInt32LE(p - 4));
  const u64 = () => ((p += 8), Number(raw.readBigUInt64LE(p - 8)));
  const str = () => {
    const n = u64();
    p += n;
    return raw.toString('utf8', p - n, p);
  };
  const SIZES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (type) => {
    if (type === 8) str();
    else if (type === 9) {
      const et = u32();
      const n = u64();
      for (let i = 0; i < n; i++) skip(et);
    } else if (SIZES[type]) p += SIZES[type];
    else throw new Error(`${file}: gguf value type ${type}`);
  };
  if (raw.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${file}: not GGUF`);
  p = 4;
  u32(); // version
  const nTensors = u64();
  const nKv = u64();
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    if (key === 'general.alignment' && type === 4) alignment = u32();
    else skip(type);
  }
  const infos = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    infos.push({ name, ne, type: u32(), off: u64() });
  }
  const base = Math.ceil(p / alignment) * alignment;
  const LAYER = { attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj', ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj' };
  const acc = { err: 0, sq: 0 };
  for (const t of infos) {
    if (t.type !== 2 && t.type !== 8) continue; // Q4_0, Q8_0 only (norms are F32)
    let hfName;
    let heads = 0;
    if (t.name === 'token_embd.weight') hfName = 'model.embed_tokens.weight';
    else if (t.name === 'output.weight') hfName = 'lm_head.weight';
    else {
      const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(t.name);
      if (!m || !LAYER[m[2]]) throw new Error(`${file}: unexpected tensor ${t.name}`);
      hfName = `model.layers.${m[1]}.${LAYER[m[2]]}.weight`;
      if (m[2] === 'attn_q') heads = cfg.num_attention_heads;
      if (m[2] === 'attn_k') heads = cfg.num_key_value_heads;
    }
    const ref = hf.get(hfName);
    if (!ref) throw new Error(`no f32 tensor ${hfName}`);
    const cols = t.ne[0];
    const rows = t.ne[1];
    let data = ref.data;
    if (heads) {
      // llama.cpp's row order: within each head, rows (j, i) -> (i, j) for half = head_dim / 2
      const hd = rows / heads;
      const half = hd / 2;
      data = new Float32Array(rows * cols);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < half; i++)
          for (let j = 0; j < 2; j++) {
            const src = h * hd + j * half + i;
            const dst = h * hd + i * 2 + j;
            data.set(ref.data.subarray(src * cols, (src + 1) * cols), dst * cols);
          }
    }
    const off = base + t.off;
    const bsize = t.type === 2 ? 18 : 34;
    accumulate(acc, data, rows * cols, (i) => {
      const b = off + (i >> 5) * bsize;
      const j = i & 31;
      const d = F16[raw.readUInt16LE(b)];
      if (t.type === 8) return raw.readInt8(b + 2 + j) * d;
      const byte = raw[b + 2 + (j & 15)];
      return ((j < 16 ? byte & 15 : byte >> 4) - 8) * d;
    });
  }
  return Math.sqrt(acc.err / acc.sq);
}

/** { q4: { smolweb, gguf }, ... } relative RMS errors; null where not measurable. */
function quantErrors(hfFolder, dir, quants, withGguf) {
  const hf = readSafetensors(hfFolder);
  const cfg = JSON.parse(fs.readFileSync(path.join(hfFolder, 'config.json'), 'utf8'));
  const out = {};
  for (const q of quants) {
    const r = {};
    const tryIt = (fn) => {
      try {
        return Number(fn().toFixed(5));
      } catch (e) {
        log(`quantization error not measured: ${e.message}`);
        return null;
      }
    };
    r.smolweb = tryIt(() => chunkError(path.join(dir, q), hf));
    if (withGguf) r.gguf = tryIt(() => ggufError(path.join(dir, GGUF[q].file), hf, cfg));
    out[q] = r;
  }
  return out;
}

// The prompt: English text cut at its 128th token (smolweb's tokenizer),
// re-tokenized to check that the cut text is exactly those 128 tokens.
const PROMPT_SOURCE =
  'The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined movable metal type, ' +
  'oil-based ink and a wooden screw press into a system that could produce books far faster than scribes. Within fifty years, ' +
  'presses were running in more than two hundred European cities, and millions of volumes had been printed. Cheaper books ' +
  'spread literacy, standardized spelling, and carried new ideas about science, religion and politics across borders faster ' +
  'than any authority could control them. Historians still debate how much of the Reformation, the Scientific Revolution and ' +
  'the rise of newspapers can be credited to the press itself, and how much to the merchants, scholars and readers who used it. ' +
  'What is clear is that the cost of copying words fell by orders of magnitude.';

function tokenize(modelDir, texts) {
  const out = run(tool('smolweb-tokenize'), [modelDir], { input: texts.map((text) => JSON.stringify({ text })).join('\n') + '\n' });
  return out.trim().split('\n').map((l) => JSON.parse(l).ids);
}
function detokenize(modelDir, idLists) {
  const out = run(tool('smolweb-tokenize'), ['--decode', modelDir], { input: idLists.map((ids) => JSON.stringify({ ids })).join('\n') + '\n' });
  return out.trim().split('\n').map((l) => JSON.parse(l).text);
}

function makePrompt(modelDir) {
  const [all] = tokenize(modelDir, [PROMPT_SOURCE]);
  if (all.length < PROMPT_TOKENS) throw new Error(`the prompt source has only ${all.length} tokens`);
  const ids = all.slice(0, PROMPT_TOKENS);
  const [text] = detokenize(modelDir, [ids]);
  const [again] = tokenize(modelDir, [text]);
  if (again.length !== ids.length || again.some((x, i) => x !== ids[i])) throw new Error('the 128-token prompt does not re-tokenize to itself');
  return { text, ids };
}

// Byte-level BPE tokens whose bytes are not valid UTF-8 on their own (GPT-2's
// byte-to-character map inverted); see the header for why wllama bans them.
function nonUtf8Tokens(tokenizerJson) {
  const tj = JSON.parse(fs.readFileSync(tokenizerJson, 'utf8'));
  const charToByte = new Map();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    charToByte.set(printable ? b : 256 + n++, b);
  }
  const dec = new TextDecoder('utf-8', { fatal: true });
  const bad = [];
  for (const [tok, id] of Object.entries(tj.model.vocab)) {
    const bytes = [];
    for (const ch of tok) bytes.push(charToByte.get(ch.codePointAt(0)));
    if (bytes.some((b) => b === undefined)) continue;
    try {
      dec.decode(new Uint8Array(bytes));
    } catch {
      bad.push(id);
    }
  }
  return bad.sort((a, b) => a - b);
}

// ---- sizes of what a page downloads ----

function fileSizes(relPaths) {
  let raw = 0;
  let gz = 0;
  const files = [];
  for (const rel of [...relPaths].sort()) {
    const buf = fs.readFileSync(path.join(ROOT, rel));
    const g = zlib.gzipSync(buf, { level: 9 }).length;
    raw += buf.length;
    gz += g;
    files.push({ path: rel, bytes: buf.length, gzip_bytes: g });
  }
  return { raw, gz, files };
}

function modelBytes(runtime, modelDir, quant) {
  if (runtime === 'wllama') return fs.statSync(path.join(modelDir, GGUF[quant].file)).size;
  const m = JSON.parse(fs.readFileSync(path.join(modelDir, quant, 'manifest.json'), 'utf8'));
  return fs.statSync(path.join(modelDir, quant, 'manifest.json')).size + m.files.reduce((a, f) => a + f.bytes, 0);
}

// ---- renderer memory ----

/** The profile's renderer processes: pid, VmHWM, whether it is Chromium's
 * own UI (--top-chrome-webui; Chromium rewrites its command line as one
 * space-separated string), whether it runs a dedicated worker (a thread
 * named "DedicatedWorker" in /proc/PID/task/N/comm), and its resident memory
 * now split into anonymous (its own) and file-backed (mostly Chromium's code,
 * shared with every other Chromium process). */
function describeRenderers(userDataDir) {
  return rendererPids(userDataDir).map((pid) => {
    let webui = false;
    let workers = 0;
    const r = { pid, hwm_kb: vmHWMkB(pid) };
    try {
      webui = /(^|[\s\0])--top-chrome-webui([\s\0]|$)/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      for (const t of fs.readdirSync(`/proc/${pid}/task`))
        if (fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').startsWith('DedicatedWorker')) workers++;
      const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      r.rss_anon_kb = Number((/RssAnon:\s+(\d+)/.exec(st) || [])[1]);
      r.rss_file_kb = Number((/RssFile:\s+(\d+)/.exec(st) || [])[1]);
    } catch {
      // the process ended meanwhile
    }
    return { ...r, webui, workers };
  });
}

/** The benchmark page's renderer: the one running dedicated workers (both
 * runtimes compute in workers); failing that, the largest web renderer
 * (the others are Chromium's UI renderer and a spare one). */
function pageRenderer(renderers) {
  const web = renderers.filter((r) => !r.webui);
  const withWorkers = web.filter((r) => r.workers > 0);
  const pool = withWorkers.length === 1 ? withWorkers : web;
  return pool.reduce((a, r) => (r.hwm_kb > a.hwm_kb ? r : a), { pid: 0, hwm_kb: 0 });
}

// ---- other processes' CPU use (these figures are only as good as the machine is idle) ----

/** Busy and total jiffies of all CPUs (/proc/stat). */
function cpuTotals() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU jiffies (utime + stime) used so far by the processes of this profile's browser. */
function profileJiffies(userDataDir) {
  let sum = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(userDataDir)) continue;
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return sum;
}

const HZ = 100; // USER_HZ: /proc/stat and /proc/PID/stat count in 1/100 s on Linux
function selfJiffies() {
  const u = process.cpuUsage();
  return ((u.user + u.system) / 1e6) * HZ;
}

/** Starts measuring; stop() returns the share of all cores (%) used by
 * processes other than this benchmark (this node and the profile's browser). */
function otherCpu(userDataDir) {
  const c0 = cpuTotals();
  const p0 = profileJiffies(userDataDir) + selfJiffies();
  return () => {
    const c1 = cpuTotals();
    const ours = profileJiffies(userDataDir) + selfJiffies() - p0;
    const total = c1.total - c0.total;
    return total > 0 ? Math.max(0, (100 * (c1.busy - c0.busy - ours)) / total) : 0;
  };
}

/** Waits (up to maxS seconds) for a second in which the CPUs are at most 10% busy. */
async function waitQuiet(maxS) {
  const t0 = Date.now();
  for (;;) {
    const a = cpuTotals();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTotals();
    const busy = (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
    const waited = (Date.now() - t0) / 1000;
    if (busy <= 10) return waited;
    if (waited >= maxS) {
      log(`the machine is still ${busy.toFixed(0)}% busy after ${maxS} s; running anyway`);
      return waited;
    }
  }
}

// ---- one run ----

const isRuntimePath = (p) => p.startsWith('/dist/') || p.startsWith('/web/') || p.startsWith('/node_modules/');

function requestDelta(srv, before) {
  const d = new Map();
  for (const [p, n] of srv.requests) {
    const k = n - (before.get(p) || 0);
    if (k > 0) d.set(p, k);
  }
  return d;
}

async function launch(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(t));
}

async function openBenchPage(context, srv, runtime, pageErrors) {
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e.message || e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text().split('\n')[0]);
  });
  await page.goto(`${srv.url}/bench/page/index.html?runtime=${runtime}`);
  await page.evaluate(() => window.benchReady);
  return page;
}

/** Waits (up to 5 minutes) for dist/ files that a rebuild may have removed for a moment. */
async function waitForDist(threads) {
  const variant = threads > 1 ? 'simd-threads' : 'simd';
  const need = [`smolweb-${variant}.wasm`, `smolweb-${variant}.mjs`, ...(threads > 1 ? [`smolweb-${variant}.worker.js`] : [])];
  for (let waited = 0; ; waited += 5) {
    const missing = need.filter((f) => !fs.existsSync(path.join(ROOT, 'dist', f)));
    if (!missing.length) return;
    if (waited >= 300) throw new Error(`dist/${missing[0]} missing: run ./build_wasm.sh`);
    if (waited === 0) log(`waiting for dist/${missing.join(', dist/')} (a rebuild?)`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

async function runOnce(srv, cfg, ctx) {
  if (cfg.runtime === 'smolweb') await waitForDist(cfg.threads);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-bench-'));
  const pageErrors = [];
  const loadOpts = { url: cfg.url, threads: cfg.threads, nCtx: N_CTX };
  let context = null;
  try {
    // 1. fill the runtime's model cache (and the HTTP cache with the runtime files)
    const before1 = new Map(srv.requests);
    context = await launch(userDataDir);
    let page = await openBenchPage(context, srv, cfg.runtime, pageErrors);
    const fill = await withTimeout(page.evaluate((o) => window.bench.load(o), loadOpts), RUN_TIMEOUT_MS, 'fill load');
    await page.evaluate(() => window.bench.dispose());
    await context.close();
    context = null;
    const fillRequests = requestDelta(srv, before1);

    // 2. timed: same profile, everything cached
    const quietWaitS = await waitQuiet(QUIET_WAIT_S);
    const before2 = new Map(srv.requests);
    context = await launch(userDataDir);
    page = await openBenchPage(context, srv, cfg.runtime, pageErrors);
    const stopCpu = otherCpu(userDataDir);
    const load = await withTimeout(page.evaluate((o) => window.bench.load(o), loadOpts), RUN_TIMEOUT_MS, 'load');
    const gen = await withTimeout(
      page.evaluate((o) => window.bench.generate(o), { prompt: ctx.prompt.text, maxTokens: GEN_TOKENS, logitBias: cfg.runtime === 'wllama' ? ctx.logitBias : null }),
      RUN_TIMEOUT_MS,
      'generate',
    );
    // VmHWM now, before anything else runs in the renderer
    const renderers = describeRenderers(userDataDir);
    const otherCpuPct = stopCpu();
    let exactIds = null;
    if (cfg.runtime === 'wllama' && IDS_CHECK) {
      const again = await withTimeout(
        page.evaluate((o) => window.bench.generate(o), { prompt: ctx.prompt.text, maxTokens: IDS_CHECK_TOKENS, logitBias: ctx.logitBias, withIds: true }),
        RUN_TIMEOUT_MS,
        'ids check',
      );
      exactIds = again.ids;
    }
    await context.close();
    context = null;
    const timedRequests = requestDelta(srv, before2);

    const modelReqs = [...timedRequests.keys()].filter((p) => p.startsWith('/models/') && !p.endsWith('/manifest.json'));
    if (modelReqs.length) throw new Error(`the timed load requested ${modelReqs.join(', ')}: the model did not come from the cache`);
    if (cfg.runtime === 'smolweb' && load.bytesDownloaded !== 0) throw new Error(`the timed load downloaded ${load.bytesDownloaded} bytes`);
    if (gen.error) throw new Error(`generation failed after ${gen.tokens} tokens: ${gen.error}`);
    if (gen.promptTokens !== PROMPT_TOKENS) throw new Error(`the prompt is ${gen.promptTokens} tokens for ${cfg.runtime}, not ${PROMPT_TOKENS}`);
    if (gen.tokens !== GEN_TOKENS) throw new Error(`${gen.tokens} tokens generated, not ${GEN_TOKENS}`);
    if (load.contextLength !== N_CTX) throw new Error(`context ${load.contextLength}, not ${N_CTX}`);
    if (load.threads !== cfg.threads) throw new Error(`${load.threads} threads, not ${cfg.threads}`);
    const peak = pageRenderer(renderers);
    return {
      load_ms: load.ms,
      ttft_ms: gen.ttftMs,
      prefill_tps: gen.prefillTps,
      decode_tps: gen.decodeTps,
      peak_rss_mb: peak.hwm_kb / 1024,
      variant: load.variant,
      fill_load_ms: fill.ms,
      other_cpu_pct: Number(otherCpuPct.toFixed(1)),
      quiet_wait_s: Number(quietWaitS.toFixed(0)),
      renderers,
      runtime_files: [...fillRequests.keys()].filter(isRuntimePath),
      text: gen.text,
      ids: gen.ids,
      exact_ids: exactIds,
      own: gen.own,
      stream_pieces: gen.pieces,
      page_errors: pageErrors.slice(0, 5),
    };
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

// ---- statistics and output ----

function stats(xs, digits) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const r = (x) => Number(x.toFixed(digits));
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: r(s[0]), median: r(median), max: r(s[s.length - 1]) };
}

/** At the first differing step: smolweb's logit for its own pick minus its
 * logit for wllama's pick (native smolweb-run on the same model and ids). A
 * near tie (about 1 or less on these random models, tests/test_llamacpp.sh)
 * is arithmetic; a large gap would be a bug in one runtime. */
function pickGap(modelDir, promptIds, agreed, own, theirs) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-bench-gap-'));
  try {
    const f = path.join(tmp, 'logits.f32');
    run(tool('smolweb-run'), [modelDir, '--ids', JSON.stringify([...promptIds, ...agreed]), '-n', '1', '--temperature', '0', '--ignore-eos', '--ids-out', '--ctx', String(N_CTX), '--dump-logits', f]);
    const b = fs.readFileSync(f);
    const logit = (id) => b.readFloatLE(4 * id);
    return { step: agreed.length, smolweb: own, wllama: theirs, gap: Number((logit(own) - logit(theirs)).toFixed(3)) };
  } catch (e) {
    return { step: agreed.length, smolweb: own, wllama: theirs, gap: null, error: String(e.message).split('\n')[0] };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Leading smolweb tokens (their text pieces) that wllama's text also starts with. */
function agreeByText(pieces, text) {
  let k = 0;
  let off = 0;
  for (const p of pieces) {
    if (!text.startsWith(p, off)) break;
    off += p.length;
    k++;
  }
  return k;
}
function agreeByIds(a, b) {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

function machine(chromiumVersion) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.+)$/m.exec(cpuinfo) || [])[1] || 'unknown';
  const flags = (/^flags\s*:\s*(.+)$/m.exec(cpuinfo) || [])[1] || '';
  const memKb = Number((/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8')) || [])[1] || 0);
  return {
    cpu: model.trim(),
    cores: os.cpus().length,
    avx2: / avx2 /.test(` ${flags} `),
    memory_gb: Number((memKb / 1024 / 1024).toFixed(1)),
    kernel: os.release(),
    chromium: chromiumVersion,
    node: process.version,
  };
}

function gitDescribe() {
  try {
    const rev = run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).trim();
    const dirty = run('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'web/src', 'build_wasm.sh', 'include', 'manifest']).trim() ? '+changes' : '';
    return rev + dirty;
  } catch {
    return 'unknown';
  }
}

const fmt = (s, d = 1) => (s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : 'n/a');
const mb = (b) => (b / 1e6).toFixed(1);
const kb = (b) => (b / 1e3).toFixed(0);

function ratioOf(a, b) {
  if (a == null || b == null || b === 0) return null;
  return Number((a / b).toFixed(3));
}

function ratiosFor(rows, model, quant, threads) {
  const sw = rows.find((r) => r.runtime === 'smolweb' && r.model === model && r.quant === quant && r.threads === threads);
  const wl = rows.find((r) => r.runtime === 'wllama' && r.model === model && r.quant === quant && r.threads === threads);
  if (!sw || !wl) return null;
  const out = {};
  for (const k of ['load_ms', 'ttft_ms', 'prefill_tps', 'decode_tps', 'peak_rss_mb']) out[k] = ratioOf(sw[k] && sw[k].median, wl[k] && wl[k].median);
  for (const k of ['model_bytes', 'runtime_bytes', 'runtime_gzip_bytes']) out[k] = ratioOf(sw[k], wl[k]);
  return out;
}

// issue 9's targets, on the 135M q4 2-thread ratios
const TARGETS = [
  ['decode tokens/s', 'decode_tps', (r) => r >= 6, '≥ 6× wllama'],
  ['prefill tokens/s', 'prefill_tps', (r) => r >= 10, '≥ 10× wllama'],
  ['time to first token', 'ttft_ms', (r) => r <= 0.1, '≤ 1/10 of wllama'],
  ['renderer peak RSS', 'peak_rss_mb', (r) => r <= 0.5, '≤ 0.5× wllama'],
  ['model bytes', 'model_bytes', (r) => r <= 1.0, '≤ 1.0× at equal or lower weight error'],
  ['load from cache', 'load_ms', (r) => r <= 1.0, '≤ wllama'],
];

function markdown({ rows, ratios, info, agreement, failures, loadavg, startedAt, seconds }) {
  const L = [];
  L.push('# smolweb vs wllama: benchmark results');
  L.push('');
  const cmd = `node bench/run.mjs ${argv.join(' ')}`.trim();
  L.push(`Made by \`npm run bench\` (\`${cmd}\`) on ${startedAt.slice(0, 10)} in ${Math.round(seconds / 60)} min; smolweb ${info.smolweb}, @wllama/wllama ${info.wllama} (llama.cpp ${info.llamacpp}).`);
  L.push('');
  L.push(`Machine: ${info.machine.cpu}, ${info.machine.cores} cores${info.machine.avx2 ? ' (AVX2)' : ''}, ${info.machine.memory_gb} GB RAM, Linux ${info.machine.kernel}; ${info.machine.chromium} (headless); Node ${info.machine.node}. Load average (1 min) at start ${loadavg.start}, at end ${loadavg.end}; during the timed part of each run, other processes used ${info.otherCpu ? `${info.otherCpu.median}% of the CPUs in the median run, ${info.otherCpu.max}% at most` : 'n/a'}.`);
  L.push('');
  L.push(`Random weights with each model's shapes, the same weights for both runtimes. Prompt ${PROMPT_TOKENS} tokens, ${GEN_TOKENS} greedy tokens (EOS ignored), context ${N_CTX}, each run in a fresh headless Chromium profile on 127.0.0.1 with COOP/COEP; load is a second visit (model and runtime files from the profile's caches). Cells: median (min–max) over ${RUNS} run${RUNS > 1 ? 's' : ''}.`);
  L.push('');
  L.push('| runtime | model | weights | threads | load ms | TTFT ms | prefill tok/s | decode tok/s | peak RSS MiB | model MB (weight error) | runtime KB (gzip) |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const qe = r.quant_rel_rms_error == null ? '' : ` (${r.quant_rel_rms_error.toFixed(4)})`;
    L.push(`| ${r.runtime} | ${r.model} | ${r.weights} | ${r.threads} | ${fmt(r.load_ms, 0)} | ${fmt(r.ttft_ms, 0)} | ${fmt(r.prefill_tps)} | ${fmt(r.decode_tps)} | ${fmt(r.peak_rss_mb, 0)} | ${mb(r.model_bytes)}${qe} | ${kb(r.runtime_bytes)} (${kb(r.runtime_gzip_bytes)}) |`);
  }
  L.push('');
  L.push('Weight error: relative RMS error of the quantized weights against the f32 weights they were made from, over every quantized tensor (linear weights and token embedding).');
  if (ratios.ratios) {
    L.push('');
    L.push(`## Ratios against issue 9's targets (${ratios.config}: smolweb / wllama medians)`);
    L.push('');
    L.push('| figure | smolweb / wllama | target | met |');
    L.push('|---|---|---|---|');
    const sw = rows.find((r) => r.runtime === 'smolweb' && r.model === 'SmolLM2-135M' && r.quant === 'q4' && r.threads === 2);
    const wl = rows.find((r) => r.runtime === 'wllama' && r.model === 'SmolLM2-135M' && r.quant === 'q4' && r.threads === 2);
    for (const [name, key, ok, target] of TARGETS) {
      const v = ratios.ratios[key];
      let met = v == null ? 'n/a' : ok(v) ? 'yes' : 'no';
      let extra = '';
      if (key === 'model_bytes' && sw && wl && sw.quant_rel_rms_error != null && wl.quant_rel_rms_error != null) {
        const e = sw.quant_rel_rms_error <= wl.quant_rel_rms_error;
        extra = ` at weight error ${sw.quant_rel_rms_error.toFixed(4)} vs ${wl.quant_rel_rms_error.toFixed(4)}`;
        if (met === 'yes' && !e) met = 'no (larger error)';
      }
      if (key === 'peak_rss_mb' && sw && wl && info.baselineRssMb && sw.peak_rss_mb && wl.peak_rss_mb) {
        const b = info.baselineRssMb;
        extra = ` (above the page's ${b.toFixed(0)} MiB without a runtime: ${((sw.peak_rss_mb.median - b) / (wl.peak_rss_mb.median - b)).toFixed(3)}×`;
        if (info.floor) extra += `; the page plus a worker holding just the ${(info.floor.bytes / 1e6).toFixed(1)} MB of weights: ${info.floor.rssMb.toFixed(0)} MiB = ${(info.floor.rssMb / wl.peak_rss_mb.median).toFixed(3)}×`;
        extra += ')';
      }
      L.push(`| ${name} | ${v == null ? 'n/a' : `${v.toFixed(3)}×`}${extra} | ${target} | ${met} |`);
    }
    if (sw) {
      const g = sw.runtime_gzip_bytes;
      L.push(`| runtime download, gzip | ${kb(g)} KB | ≤ 300 KB | ${g <= 300e3 ? 'yes' : 'no'} |`);
    }
    if (ratios.q8) {
      L.push('');
      L.push(`q8 against Q8_0, 2 threads: ${Object.entries(ratios.q8).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
    }
  }
  if (agreement.length) {
    L.push('');
    L.push('## Greedy agreement (reported, not required: different arithmetic)');
    L.push('');
    L.push('Leading generated tokens on which smolweb and wllama agree, per run (by text: smolweb\'s tokens whose text begins wllama\'s text; by id: --ids-check); smolweb\'s ids identical across its runs and thread counts: ' + info.smolwebDeterministic + '.');
    L.push('');
    for (const a of agreement) {
      const gaps = a.gaps.length ? `; at the first difference smolweb's logit for its pick exceeds its logit for wllama's by ${a.gaps.map((g) => (g.gap == null ? 'n/a' : g.gap.toFixed(2))).join(', ')} (step ${[...new Set(a.gaps.map((g) => g.step))].join(', ')})` : '';
      const cap = a.how === 'ids' ? `of the first ${IDS_CHECK_TOKENS}, by id` : `of ${GEN_TOKENS}, by text`;
      L.push(`- ${a.model} ${a.quant}, ${a.threads} thread${a.threads > 1 ? 's' : ''}: ${a.agree.join(', ')} (${cap})${gaps}`);
    }
    L.push('');
    L.push('The q8 files hold nearly the same weights (both use Q8_0\'s rule, scale max/127, and have the same measured weight error; a few values round one step apart); smolweb\'s q4 scales are searched per block (less error than Q4_0\'s max/-8 rule, above), so the q4 files hold different weights and these deliberately high-gain random models amplify the difference: q8 is the comparison that checks arithmetic. ' + (IDS_CHECK ? '' : 'Run with --ids-check for exact ids and the logit gap at the first difference.'));
  }
  L.push('');
  L.push('## Files a page downloads for the runtime');
  L.push('');
  const seen = new Set();
  for (const r of rows) {
    const key = `${r.runtime} ${r.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    L.push(`- ${r.runtime} (${r.variant}): ${r.runtime_files.map((f) => `${f.path} ${f.bytes} B / ${f.gzip_bytes} B gzip`).join('; ')}`);
  }
  L.push('');
  L.push('## Method');
  L.push('');
  L.push('- load: the page\'s `loadModel()` (smolweb) or `new Wllama()` + `loadModelFromUrl()` (wllama) until it resolves, on the second launch of the profile: the model from the runtime\'s own cache (smolweb: Cache API; wllama: OPFS), no model request reaching the server (checked), runtime files from the HTTP cache.');
  L.push('- TTFT: from the generate call to the first streamed token, on the page. decode: (tokens − 1) / wall clock between the first and the last streamed token, on the page. prefill: 128 / the runtime\'s own prompt time (smolweb `lastRun.prefillTps`, llama.cpp `timings.prompt_per_second`).');
  L.push(`- peak RSS: VmHWM of the benchmark page's renderer process (the renderer whose threads include the dedicated workers where both runtimes compute), read from /proc after generation. For scale, the same page with no runtime loaded: ${info.baselineRssMb == null ? 'n/a' : info.baselineRssMb.toFixed(0)} MiB; with a dedicated worker holding only the ${info.floor ? (info.floor.bytes / 1e6).toFixed(1) : '?'} MB of weights in a shared WebAssembly.Memory: ${info.floor ? info.floor.rssMb.toFixed(0) : 'n/a'} MiB (a floor for any runtime that computes in a worker).`);
  L.push('- model bytes: smolweb manifest.json + the files it lists; wllama the .gguf. runtime bytes: the runtime files the page requested on a fresh profile (gzip -9 per file).');
  L.push('- wllama bans the 313 tokens that are not UTF-8 on their own with `logit_bias` (its result serializer throws on them; random weights pick them); no other sampling differences: temperature 0, repeat penalty 1.');
  if (failures.length) {
    L.push('');
    L.push('## Failed runs');
    L.push('');
    for (const f of failures) L.push(`- ${f}`);
  }
  L.push('');
  return L.join('\n');
}

// ---- main ----

async function main() {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const loadStart = os.loadavg()[0].toFixed(2);
  if (os.loadavg()[0] > 0.5) log(`load average ${loadStart}: something else is running; figures will be noisy`);

  fs.mkdirSync(MODELS, { recursive: true });
  const sizes = SIZES.map((size) => {
    const s = SHAPES[size];
    const quants = size === '135m' ? QUANTS : ['q4'];
    const made = ensureModels(size, quants);
    return { size, ...s, quants, dir: made.dir, quantError: made.quantError };
  });
  const firstQuantDir = path.join(sizes[0].dir, sizes[0].quants[0]);
  const prompt = makePrompt(firstQuantDir);
  const logitBias = Object.fromEntries(nonUtf8Tokens(path.join(TOKENIZER_DIR, 'tokenizer.json')).map((id) => [String(id), -1e9]));
  const ctx = { prompt, logitBias };
  const pieceTexts = (ids) => detokenize(firstQuantDir, ids.map((id) => [id]));

  // configurations, in the order they run within each round
  const configs = [];
  for (const s of sizes) {
    for (const quant of s.quants) {
      for (const threads of THREADS) {
        for (const runtime of RUNTIMES) {
          if (runtime === 'wllama' && !s.gguf) continue;
          const url = runtime === 'wllama' ? `/models/${s.shape}/${GGUF[quant].file}` : `/models/${s.shape}/${quant}/manifest.json`;
          const weights = runtime === 'wllama' ? GGUF[quant].weights : SMOLWEB_WEIGHTS[quant];
          const qe = s.quantError && s.quantError[quant] ? s.quantError[quant][runtime === 'wllama' ? 'gguf' : 'smolweb'] : null;
          configs.push({ runtime, model: s.model, size: s.size, dir: s.dir, quant, threads, url, weights, quantError: qe ?? null, runs: [] });
        }
      }
    }
  }

  // runtime files served cacheable, models not (each runtime keeps its copy)
  const srv = await serve({
    mounts: { '/': ROOT, '/models/': MODELS },
    coi: true,
    headers: (p) => (isRuntimePath(p) || p.startsWith('/bench/page/') ? { 'Cache-Control': 'max-age=3600' } : {}),
  });
  const failures = [];
  let chromiumVersion = 'unknown';
  let llamacpp = 'unknown';
  let baselineRssMb = null;
  let floor = null; // { bytes, rssMb }: the page plus a worker holding the model's bytes
  try {
    // versions and the renderer baseline, from a throwaway profile
    {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-bench-'));
      const c = await launch(dir);
      const p = c.pages()[0] || (await c.newPage());
      // the renderer's memory with the page and no runtime, for scale
      await p.goto(`${srv.url}/bench/page/index.html?runtime=none`);
      await p.evaluate(() => window.benchReady);
      await new Promise((r) => setTimeout(r, 500));
      baselineRssMb = pageRenderer(describeRenderers(dir)).hwm_kb / 1024;
      // the least any runtime computing in a worker can hold: the same page
      // plus one dedicated worker with the weights' bytes resident in a
      // shared WebAssembly.Memory (no code, no KV cache, no copies)
      const bytes = modelBytes('smolweb', sizes[0].dir, sizes[0].quants[0]);
      await p.evaluate(async (n) => {
        const src = 'onmessage = (e) => { const pages = Math.ceil(e.data / 65536);' +
          ' self.mem = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });' +
          ' const u = new Uint8Array(self.mem.buffer); for (let i = 0; i < u.length; i += 4096) u[i] = 1;' +
          ' postMessage(u.length); };';
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
        window.floorWorker = w;
        await new Promise((resolve, reject) => {
          w.onmessage = resolve;
          w.onerror = reject;
          w.postMessage(n);
        });
      }, bytes);
      await new Promise((r) => setTimeout(r, 500));
      floor = { bytes, rssMb: pageRenderer(describeRenderers(dir)).hwm_kb / 1024 };
      await p.goto(`${srv.url}/bench/page/index.html?runtime=wllama`);
      await p.evaluate(() => window.benchReady);
      llamacpp = await p.evaluate(() => window.bench.libllamaVersion());
      // the full version (navigator.userAgent reduces it to 156.0.0.0)
      chromiumVersion = `Chromium ${c.browser().version()}`;
      await c.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const total = RUNS * configs.length;
    let k = 0;
    for (let r = 0; r < RUNS; r++) {
      for (const cfg of configs) {
        k++;
        const what = `${cfg.runtime} ${cfg.model} ${cfg.quant} ${cfg.threads}t run ${r + 1}/${RUNS}`;
        let res = null;
        let failedOnce = false;
        // a run that fails is tried once more; a run disturbed by other
        // processes (> DISTURBED_PCT of the CPUs) is done again up to REDO
        // times, keeping the least disturbed
        for (let attempt = 0; ; attempt++) {
          let r1 = null;
          try {
            r1 = await runOnce(srv, cfg, ctx);
          } catch (e) {
            const msg = `${what}: ${String(e && e.message ? e.message : e).split('\n')[0]}`;
            log(`FAILED ${msg}${failedOnce ? '' : ' (trying once more)'}`);
            if (failedOnce) {
              failures.push(msg);
              break;
            }
            failedOnce = true;
            continue;
          }
          r1.redone = attempt - (failedOnce ? 1 : 0);
          if (!res || r1.other_cpu_pct < res.other_cpu_pct) res = r1;
          if (res.other_cpu_pct <= DISTURBED_PCT || r1.redone >= REDO) break;
          log(`${what}: other processes took ${r1.other_cpu_pct.toFixed(0)}% of the CPUs: doing it again`);
        }
        if (!res) continue;
        cfg.runs.push(res);
        log(`[${k}/${total}] ${what}: load ${res.load_ms.toFixed(0)} ms, ttft ${res.ttft_ms.toFixed(0)} ms, prefill ${res.prefill_tps.toFixed(1)} tok/s, decode ${res.decode_tps.toFixed(1)} tok/s, peak RSS ${res.peak_rss_mb.toFixed(0)} MiB; other processes ${res.other_cpu_pct.toFixed(0)}% CPU`);
      }
    }
  } finally {
    await srv.close();
  }

  // per configuration
  const rows = [];
  for (const cfg of configs) {
    if (!cfg.runs.length) continue;
    const files = new Set();
    for (const r of cfg.runs) for (const f of r.runtime_files) files.add(f.slice(1));
    const sizesNow = fileSizes(files);
    rows.push({
      runtime: cfg.runtime,
      model: cfg.model,
      quant: cfg.quant,
      threads: cfg.threads,
      runs: cfg.runs.length,
      load_ms: stats(cfg.runs.map((r) => r.load_ms), 1),
      ttft_ms: stats(cfg.runs.map((r) => r.ttft_ms), 1),
      prefill_tps: stats(cfg.runs.map((r) => r.prefill_tps), 2),
      decode_tps: stats(cfg.runs.map((r) => r.decode_tps), 2),
      peak_rss_mb: stats(cfg.runs.map((r) => r.peak_rss_mb), 1),
      model_bytes: modelBytes(cfg.runtime, cfg.dir, cfg.quant),
      quant_rel_rms_error: cfg.quantError,
      runtime_bytes: sizesNow.raw,
      runtime_gzip_bytes: sizesNow.gz,
      weights: cfg.weights,
      variant: cfg.runs[0].variant,
      prompt_tokens: PROMPT_TOKENS,
      generated_tokens: GEN_TOKENS,
      n_ctx: N_CTX,
      runtime_files: sizesNow.files,
    });
  }

  // greedy agreement, run by run, smolweb's tokens against wllama's text (or ids)
  const agreement = [];
  const smolwebIds = new Map(); // model+quant -> Set of id strings
  for (const sw of configs.filter((c) => c.runtime === 'smolweb')) {
    const key = `${sw.model} ${sw.quant}`;
    if (!smolwebIds.has(key)) smolwebIds.set(key, new Set());
    for (const r of sw.runs) smolwebIds.get(key).add(JSON.stringify(r.ids));
    const wl = configs.find((c) => c.runtime === 'wllama' && c.model === sw.model && c.quant === sw.quant && c.threads === sw.threads);
    if (!wl || !wl.runs.length || !sw.runs.length) continue;
    const n = Math.min(sw.runs.length, wl.runs.length);
    const agree = [];
    const gaps = [];
    let how = 'text';
    for (let i = 0; i < n; i++) {
      const s = sw.runs[i];
      const w = wl.runs[i];
      if (w.exact_ids) {
        how = 'ids';
        const k = agreeByIds(s.ids, w.exact_ids);
        agree.push(k);
        if (k < w.exact_ids.length) gaps.push(pickGap(path.join(sw.dir, sw.quant), ctx.prompt.ids, s.ids.slice(0, k), s.ids[k], w.exact_ids[k]));
      } else {
        agree.push(agreeByText(pieceTexts(s.ids), w.text));
      }
    }
    agreement.push({ model: sw.model, quant: sw.quant, threads: sw.threads, agree, how, gaps });
    const row = rows.find((r) => r.runtime === 'smolweb' && r.model === sw.model && r.quant === sw.quant && r.threads === sw.threads);
    if (row) row.agree_tokens_with_wllama = stats(agree, 0);
  }
  const smolwebDeterministic = [...smolwebIds.values()].every((s) => s.size <= 1) ? 'yes' : 'no';

  const ratios = {};
  const head = ratiosFor(rows, 'SmolLM2-135M', 'q4', 2);
  if (head) {
    ratios.ratios = head;
    ratios.config = 'SmolLM2-135M q4 (GGUF Q4_0, token_embd Q8_0), 2 threads';
    const q8 = ratiosFor(rows, 'SmolLM2-135M', 'q8', 2);
    if (q8) ratios.q8 = q8;
  }

  const lines = rows.map(({ runtime_files, ...r }) => JSON.stringify(r));
  for (const l of lines) console.log(l);
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'results.jsonl'), [...lines, ...(ratios.ratios ? [JSON.stringify(ratios)] : [])].join('\n') + '\n');
  // every run's own figures, for a closer look (renderers: pid and VmHWM of each)
  const runLines = [];
  for (const c of configs)
    for (const [i, r] of c.runs.entries())
      runLines.push(JSON.stringify({ runtime: c.runtime, model: c.model, quant: c.quant, threads: c.threads, run: i + 1, ...r, runtime_files: undefined }));
  fs.writeFileSync(path.join(OUT, 'runs.jsonl'), runLines.join('\n') + '\n');
  const wllamaVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@wllama/wllama/package.json'), 'utf8')).version;
  const otherCpuAll = stats(configs.flatMap((c) => c.runs.map((r) => r.other_cpu_pct)), 0);
  const info = { machine: machine(chromiumVersion), smolweb: gitDescribe(), wllama: wllamaVersion, llamacpp, smolwebDeterministic, baselineRssMb, floor, otherCpu: otherCpuAll };
  const seconds = (Date.now() - t0) / 1000;
  fs.writeFileSync(
    path.join(OUT, 'RESULTS.md'),
    markdown({ rows, ratios, info, agreement, failures, loadavg: { start: loadStart, end: os.loadavg()[0].toFixed(2) }, startedAt, seconds }),
  );
  log(`wrote ${path.relative(process.cwd(), path.join(OUT, 'results.jsonl'))} and RESULTS.md in ${(seconds / 60).toFixed(1)} min`);
  if (ratios.ratios) console.log(JSON.stringify(ratios));
  if (failures.length) {
    log(`${failures.length} run(s) failed:`);
    for (const f of failures) log(`  ${f}`);
    process.exitCode = 1;
  }
}

await main();

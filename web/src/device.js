// device.js: what this device offers (detectDevice) and how much of a model's
// context it can hold (chooseTier, a pure function of the two).
//
// Features are detected, never guessed from the user agent: SIMD and threads
// by WebAssembly.validate() of two tiny hand-written modules, memory from
// navigator.deviceMemory (Chromium only: reported in GiB, rounded to a power
// of two and capped at 8, so a 16 GB desktop reads 8), storage from
// navigator.storage.estimate(). Works in a page and in a worker.
//
// The memory model behind chooseTier (all of it lives in the wasm heap except
// the download buffer):
//   weights  = sum of the manifest's file sizes (every chunk, tokenizer
//              included, is a buffer in wasm memory; weights are views into it)
//   kv       = contextLength * kvBytesPerToken, where kvBytesPerToken =
//              2 (K and V) * layers * kv_heads * head_dim * 4 (f32 KV)
//   scratch  = activations for a 64-token prefill batch, logits, and per
//              context token the attention scores of each thread (mirrors
//              alloc_state() in src/model.c; a few MiB)
//   overhead = 64 MiB: code, stacks, the tokenizer's tables, malloc slack
//   heap     = weights + kv + scratch + overhead   must be <= 3.5 GiB: wasm32
//              addresses 4 GiB at most and the loader, the growth step and
//              fragmentation need the rest
//   device   = heap + the largest file (one chunk downloaded into an ordinary
//              buffer to be hashed before it is copied in)
//   budget   = deviceMemory/2 - 256 MiB: the tab shares the device with the
//              OS, the browser and other tabs, and mobile browsers kill a
//              renderer well before it has all the RAM. Without deviceMemory
//              (Firefox, Safari) the device is assumed to have 4 GB, the
//              floor of current phones and laptops: 1.75 GiB.
//
// The KV cache is f32 by default: it keeps generation identical to the
// native CLI's default (same ids, same logits), and wasm has no f16
// arithmetic, so an f16 cache widens every cached value in attention
// (SIMD, four at a time): attention takes about 3x as long (SmolLM2-135M at
// 512-768 positions, 2 threads: 10.3 against 3.3 ms of a 11-18 ms token).
// kvType 'f16' halves the cache for callers who prefer context over speed;
// it is identical to the native CLI's --kv-f16.
//
// Tiers:
//   full     the configured context (max_position_embeddings, or the
//            caller's contextLength if smaller) and min(cores, 4) threads.
//   reduced  when full does not fit: the largest power-of-two context below
//            it, down to 512 tokens, that fits. If the device's memory (not
//            the wasm32 cap) is what forced it, or 'reduced' was asked for,
//            threads are halved too (unless the caller set a count): a
//            memory-poor device is a low-end one whose cores throttle and
//            whose page needs a core of its own.
//   neither fits -> SmolwebError MODEL_TOO_LARGE naming the sizes, before
//   anything is downloaded.
// Threads are 1 when the page cannot run wasm threads (not cross-origin
// isolated, or no SharedArrayBuffer).

import { SmolwebError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The constants of the rules above, exported for tests and documentation. */
export const TIER_RULES = Object.freeze({
  wasmCapBytes: 3.5 * GiB,
  overheadBytes: 64 * MiB,
  budgetFraction: 0.5,
  budgetReserveBytes: 256 * MiB,
  unknownMemoryGB: 4,
  maxThreads: 4,
  minContext: 512,
  prefillBatch: 64,
});

// A module whose one function returns i8x16.splat(i32.const 0): valid only in
// an engine with 128-bit SIMD. (binaryen's wasm-opt --mvp-features rejects it.)
const SIMD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0; i8x16.splat; end
]);

// A module with a shared memory (min 1, max 1 page) and one function doing
// i32.atomic.load: valid only with the threads proposal (shared memory and
// atomics).
const THREADS_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
  0x03, 0x02, 0x01, 0x00, // function section
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01, // memory section: flags 3 (max + shared), min 1, max 1
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b, // i32.const 0; i32.atomic.load align=4; drop; end
]);

/** The two probe modules, for tests. */
export const PROBES = Object.freeze({ simd: SIMD_MODULE, threads: THREADS_MODULE });

function validates(WA, bytes) {
  try {
    return !!WA && typeof WA.validate === 'function' && WA.validate(bytes);
  } catch {
    return false;
  }
}

/**
 * What this device offers:
 * { memoryGB: number|null, cores: number|null, wasm, simd, threads,
 *   crossOriginIsolated, storageQuota: number|null, storageUsage: number|null }.
 * threads is true only when the context is cross-origin isolated (or has no
 * such notion, as in Node), SharedArrayBuffer exists, a shared
 * WebAssembly.Memory can be created and the threads probe validates.
 * env (default globalThis) lets tests stand in navigator, WebAssembly,
 * crossOriginIsolated and SharedArrayBuffer. Never throws.
 */
export async function detectDevice(env = globalThis) {
  const nav = env.navigator;
  const WA = env.WebAssembly;
  const dm = nav && nav.deviceMemory;
  const hc = nav && nav.hardwareConcurrency;
  const wasm = !!WA && typeof WA.validate === 'function';
  const coi = env.crossOriginIsolated;
  let threads = false;
  if (wasm && coi !== false && typeof env.SharedArrayBuffer === 'function' && validates(WA, THREADS_MODULE)) {
    try {
      threads = new WA.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof env.SharedArrayBuffer;
    } catch {
      threads = false;
    }
  }
  let storageQuota = null;
  let storageUsage = null;
  if (nav && nav.storage && typeof nav.storage.estimate === 'function') {
    try {
      const est = await nav.storage.estimate();
      if (est && Number.isFinite(est.quota)) storageQuota = est.quota;
      if (est && Number.isFinite(est.usage)) storageUsage = est.usage;
    } catch {
      // opaque origins and some private modes refuse: unknown
    }
  }
  return {
    memoryGB: typeof dm === 'number' && dm > 0 ? dm : null,
    cores: typeof hc === 'number' && hc > 0 ? hc : null,
    wasm,
    simd: wasm && validates(WA, SIMD_MODULE),
    threads,
    crossOriginIsolated: coi === undefined ? null : !!coi,
    storageQuota,
    storageUsage,
  };
}

/** Decimal MB/GB, as people read device and file sizes ("90.8 MB", "1.01 GB"). */
export function formatBytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}

function badManifest(what, value) {
  return new SmolwebError('BAD_MANIFEST', `manifest.json: ${what} must be a positive integer (got ${JSON.stringify(value)})`, {
    file: 'manifest.json',
  });
}

function posInt(obj, key, prefix) {
  const v = obj ? obj[key] : undefined;
  if (!Number.isSafeInteger(v) || v < 1) throw badManifest(`${prefix}${key}`, v);
  return v;
}

/** The sizes chooseTier works from, read (and checked) from a manifest:
 * { name, weightBytes, largestFileBytes, layers, hidden, intermediate, heads,
 *   kvHeads, headDim, vocab, maxContext }. Throws BAD_MANIFEST. */
export function modelShape(manifest) {
  if (!manifest || typeof manifest !== 'object') {
    throw new SmolwebError('BAD_MANIFEST', 'manifest.json: not a JSON object', { file: 'manifest.json' });
  }
  const c = manifest.config;
  if (!c || typeof c !== 'object') {
    throw new SmolwebError('BAD_MANIFEST', 'manifest.json: no config object', { file: 'manifest.json' });
  }
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) {
    throw new SmolwebError('BAD_MANIFEST', 'manifest.json: no files array', { file: 'manifest.json' });
  }
  let weightBytes = 0;
  let largestFileBytes = 0;
  manifest.files.forEach((f, i) => {
    const b = posInt(f, 'bytes', `files[${i}].`);
    weightBytes += b;
    largestFileBytes = Math.max(largestFileBytes, b);
  });
  return {
    name: typeof manifest.name === 'string' && manifest.name ? manifest.name : 'model',
    weightBytes,
    largestFileBytes,
    layers: posInt(c, 'num_hidden_layers', 'config.'),
    hidden: posInt(c, 'hidden_size', 'config.'),
    intermediate: posInt(c, 'intermediate_size', 'config.'),
    heads: posInt(c, 'num_attention_heads', 'config.'),
    kvHeads: posInt(c, 'num_key_value_heads', 'config.'),
    headDim: posInt(c, 'head_dim', 'config.'),
    vocab: posInt(c, 'vocab_size', 'config.'),
    maxContext: posInt(c, 'max_position_embeddings', 'config.'),
  };
}

/** Bytes of K and V for one token over all layers. */
export function kvBytesPerToken(shape, kvType = 'f32') {
  return 2 * shape.layers * shape.kvHeads * shape.headDim * (kvType === 'f16' ? 2 : 4);
}

/** Scratch bytes for a context and thread count (mirrors src/model.c). */
export function scratchBytes(shape, contextLength, threads) {
  const B = TIER_RULES.prefillBatch;
  const q = shape.heads * shape.headDim;
  const kv = shape.kvHeads * shape.headDim;
  const widest = Math.max(shape.hidden, shape.intermediate, q);
  const perRow = 4 * (2 * shape.hidden + 2 * q + 2 * kv + 2 * shape.intermediate + shape.headDim) + widest * (1 + 2 + 8 / 32);
  return B * perRow + 4 * shape.vocab + contextLength * 4 * (1 + threads) + 4 * shape.headDim;
}

/** The memory a configuration needs: { weights, kv, scratch, overhead, heap, device }. */
export function memoryNeeded(shape, contextLength, threads, kvType = 'f32') {
  const kv = contextLength * kvBytesPerToken(shape, kvType);
  const scratch = scratchBytes(shape, contextLength, threads);
  const heap = shape.weightBytes + kv + scratch + TIER_RULES.overheadBytes;
  return { weights: shape.weightBytes, kv, scratch, overhead: TIER_RULES.overheadBytes, heap, device: heap + shape.largestFileBytes };
}

/** The device's memory budget in bytes and where it came from. */
export function memoryBudget(device) {
  const known = device && typeof device.memoryGB === 'number' && device.memoryGB > 0;
  const gb = known ? device.memoryGB : TIER_RULES.unknownMemoryGB;
  const bytes = Math.max(0, gb * GiB * TIER_RULES.budgetFraction - TIER_RULES.budgetReserveBytes);
  const source = known ? `half of ${gb} GB device memory less 256 MiB` : `device memory unknown, assumed ${gb} GB`;
  return { bytes, source, known };
}

function fullThreads(device, requested) {
  if (!device || !device.threads) return 1;
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested < 1) throw new TypeError(`threads must be a positive integer (got ${requested})`);
    return Math.min(requested, 64);
  }
  const cores = device.cores && device.cores > 0 ? device.cores : 2;
  return Math.max(1, Math.min(cores, TIER_RULES.maxThreads));
}

/**
 * Chooses how to run a model on a device, before anything is downloaded.
 * Pure: same inputs, same answer. See the rules at the top of this file.
 *
 * @param device a DeviceInfo (detectDevice()); only memoryGB, cores, threads are read
 * @param manifest the parsed manifest.json
 * @param [opts] { tier: 'auto'|'full'|'reduced' (default 'auto'; a forced
 *   tier must still fit), threads: number (replaces min(cores, 4) in every
 *   tier; still 1 without thread support), kvType: 'f32'|'f16' (default 'f32'),
 *   contextLength: number (caps the full tier's context) }
 * @returns {{ tier: 'full'|'reduced', contextLength: number, threads: number,
 *   kvType: 'f32'|'f16', reason: string, memory: { weights, kv, scratch,
 *   overhead, heap, device, budget, wasmCap } }}
 * @throws SmolwebError MODEL_TOO_LARGE (naming the sizes) or BAD_MANIFEST;
 *   TypeError for bad opts.
 */
export function chooseTier(device, manifest, opts = {}) {
  const { tier = 'auto', kvType = 'f32' } = opts;
  if (!['auto', 'full', 'reduced'].includes(tier)) throw new TypeError(`tier must be 'auto', 'full' or 'reduced' (got ${JSON.stringify(tier)})`);
  if (kvType !== 'f32' && kvType !== 'f16') throw new TypeError(`kvType must be 'f32' or 'f16' (got ${JSON.stringify(kvType)})`);
  const shape = modelShape(manifest);
  let fullCtx = shape.maxContext;
  if (opts.contextLength !== undefined) {
    if (!Number.isSafeInteger(opts.contextLength) || opts.contextLength < 1) {
      throw new TypeError(`contextLength must be a positive integer (got ${opts.contextLength})`);
    }
    fullCtx = Math.min(fullCtx, opts.contextLength);
  }
  const budget = memoryBudget(device);
  const cap = TIER_RULES.wasmCapBytes;
  const tFull = fullThreads(device, opts.threads);
  // a caller's explicit thread count is kept in every tier
  const tReduced = opts.threads !== undefined ? tFull : Math.max(1, Math.floor(tFull / 2));
  const fits = (m) => m.heap <= cap && m.device <= budget.bytes;
  const result = (name, ctx, threads, m, why) => ({
    tier: name,
    contextLength: ctx,
    threads,
    kvType,
    reason:
      `${name}: ${ctx}-token context (${why}); needs ${formatBytes(m.device)} (weights ${formatBytes(m.weights)}, ` +
      `${kvType} KV cache ${formatBytes(m.kv)}, scratch, overhead, a download buffer) of a ${formatBytes(budget.bytes)} ` +
      `budget (${budget.source}); ${threads} thread${threads === 1 ? '' : 's'}${device && device.threads ? '' : ' (no wasm threads here)'}`,
    memory: { ...m, budget: budget.bytes, wasmCap: cap },
  });
  const capText = `the ${formatBytes(cap)} (3.5 GiB) a wasm32 page can use`;

  if (tier !== 'reduced') {
    const m = memoryNeeded(shape, fullCtx, tFull, kvType);
    if (fits(m)) return result('full', fullCtx, tFull, m, tier === 'full' ? 'requested' : 'the whole context fits');
  }
  // the largest power of two below the full context, down to minContext
  // (or the full context itself when that is already below minContext)
  if (tier !== 'full') {
    const minCtx = Math.min(TIER_RULES.minContext, fullCtx);
    let ctx = 2 ** Math.floor(Math.log2(fullCtx));
    if (ctx >= fullCtx) ctx /= 2;
    if (tier === 'reduced' && ctx < minCtx) ctx = minCtx;
    // threads are halved when asked for reduced, or when the device's memory
    // (not the wasm32 cap) is what rules the full tier out
    const atFull = memoryNeeded(shape, fullCtx, tFull, kvType);
    const threads = tier === 'reduced' || atFull.device > budget.bytes ? tReduced : tFull;
    for (; ctx >= minCtx; ctx /= 2) {
      const m = memoryNeeded(shape, ctx, threads, kvType);
      if (fits(m)) {
        const why = tier === 'reduced'
          ? 'requested'
          : atFull.heap > cap
            ? `${fullCtx} tokens would need ${formatBytes(atFull.heap)} of wasm memory, over ${capText}`
            : `${fullCtx} tokens would need ${formatBytes(atFull.device)}, over the budget`;
        return result('reduced', ctx, threads, m, why);
      }
    }
  }
  // nothing fits: name the smallest configuration that was tried
  const smallestCtx = tier === 'full' ? fullCtx : Math.min(TIER_RULES.minContext, fullCtx);
  const m = memoryNeeded(shape, smallestCtx, tier === 'full' ? tFull : tReduced, kvType);
  const over = m.heap > cap
    ? `${formatBytes(m.heap)} of wasm memory, over ${capText}`
    : `${formatBytes(m.device)}, over this device's ${formatBytes(budget.bytes)} budget (${budget.source})`;
  throw new SmolwebError(
    'MODEL_TOO_LARGE',
    `${shape.name} is too large: weights ${formatBytes(m.weights)} + a ${smallestCtx}-token ${kvType} KV cache ${formatBytes(m.kv)} + scratch and overhead need ${over}`,
  );
}

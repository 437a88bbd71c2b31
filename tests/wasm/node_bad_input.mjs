// node_bad_input.mjs: bad input and out-of-memory in wasm under Node 20,
// through web/src/runtime.js; each failure must be a SmolwebWasmError with
// the right status and a message naming the file, never a trap, and the
// runtime must stay usable afterwards.
//
//   node tests/wasm/node_bad_input.mjs WORK_DIR [VARIANT...]   (default: smolweb-simd smolweb-simd-threads)
//
// WORK_DIR is tests/wasm/make_models.mjs output (uses its tiny-q4 model).
//   - corrupted chunk (one byte flipped): INTEGRITY naming the chunk; with the
//     SHA-256 check off, a broken chunk magic is FORMAT naming the chunk; the
//     right bytes then commit and the model generates native's ids;
//   - bytes of the wrong length: INTEGRITY naming the chunk;
//   - truncated manifest: FORMAT naming manifest.json;
//   - prefill before every chunk is committed: STATE;
//   - out of memory: a hand-made manifest with SmolLM2-1.7B's shapes and f32
//     weights (6.4 GB of layers, more than wasm32's 4 GiB): chunk buffers are
//     allocated until one fails with NOMEM naming that chunk; dropping two
//     frees room for it again; the model frees cleanly. A KV cache that cannot
//     fit (n_ctx 16384 f32: 6.4 GB) is NOMEM at model creation, as is one
//     whose byte size overflows 32 bits (n_ctx 2^24). Then the tiny model
//     still loads and generates in the same module;
//   - threads build with a pool of one Worker: n_threads 4 gives 2 threads
//     (no deadlock), and a freed model's Worker is reusable at once.
// Always exits explicitly (the threads build keeps Node alive).
import fs from 'node:fs';
import path from 'node:path';

import { SmolwebWasmError } from '../../web/src/runtime.js';
import { GREEDY, loadModel } from './greedy.mjs';
import { fileReader, loadVariant } from './load.mjs';
import { checker } from '../checks.mjs';

const [work, ...args] = process.argv.slice(2);
const variants = args.length ? args : ['smolweb-simd', 'smolweb-simd-threads'];
const refs = JSON.parse(fs.readFileSync(path.join(work, 'refs.json'), 'utf8'));
const ref = refs.find((r) => r.name === 'tiny-q4');
const dir = path.join(work, ref.dir);
const read = fileReader(dir);
const manifestText = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');

const checks = checker();
const { check } = checks;

/** Runs fn, which must throw a SmolwebWasmError with this status and a
 * message starting with prefix; returns the error. */
function expectError(what, status, prefix, fn) {
  try {
    const r = fn();
    if (r && r.free) r.free();
  } catch (e) {
    const ok = e instanceof SmolwebWasmError && e.status === status && e.message.startsWith(prefix);
    check(ok, `${what}: ${e.message}${ok ? '' : ` (wanted ${status}, "${prefix}...")`}`);
    return e;
  }
  check(false, `${what}: no error (wanted ${status})`);
  return null;
}

function greedyIds(rt, model, n) {
  const s = rt.samplerCreate(GREEDY, model.nVocab);
  try {
    model.reset();
    model.prefill(ref.prompt_ids);
    return Array.from({ length: n }, () => model.decodeStep(s));
  } finally {
    s.free();
  }
}

async function badChunks(rt) {
  const model = rt.modelCreate(manifestText, { n_ctx: ref.n_ctx });
  try {
    const layer = model.chunks.find((c) => c.layer === 1);
    expectError('prefill before the chunks', 'STATE', 'prefill: STATE: ', () => model.prefill(ref.prompt_ids));
    for (const c of model.chunks) if (c !== layer) model.loadChunk(c.index, await read(c.path));
    const good = await read(layer.path);
    const bad = good.slice();
    bad[bad.length >> 1] ^= 0x40;
    expectError('corrupted chunk', 'INTEGRITY', `${layer.path}: INTEGRITY: `, () => model.loadChunk(layer.index, bad));
    const magic = good.slice();
    magic[0] ^= 0xff;
    expectError('broken magic, SHA-256 off', 'FORMAT', `${layer.path}: FORMAT: `, () => model.loadChunk(layer.index, magic, false));
    expectError('wrong length', 'INTEGRITY', `${layer.path}: INTEGRITY: `, () => model.loadChunk(layer.index, good.subarray(1)));
    check(model.missingChunks().join() === String(layer.index), `after the failures only ${layer.path} is missing`);
    model.loadChunk(layer.index, good);
    const ids = greedyIds(rt, model, 8);
    check(ids.join() === ref.gen_ids.slice(0, 8).join(), `the right bytes then commit and generate native's ids ${JSON.stringify(ids)}`);
  } finally {
    model.free();
  }
  const cut = manifestText.slice(0, manifestText.length >> 1);
  expectError('truncated manifest', 'FORMAT', 'manifest.json: FORMAT: ', () => rt.modelCreate(cut, {}));
}

/** A manifest with SmolLM2-1.7B's shapes and f32 weights (sizes as the
 * chunker lays them out roughly; they are never filled or committed). */
function manifest17b(maxPos) {
  const m = JSON.parse(manifestText);
  const L = 24, dim = 2048, ff = 8192, vocab = 49152;
  Object.assign(m.config, {
    hidden_size: dim, intermediate_size: ff, num_hidden_layers: L, num_attention_heads: 32,
    num_key_value_heads: 32, head_dim: 64, vocab_size: vocab, max_position_embeddings: maxPos,
    rope_layers: Array(L).fill(1),
  });
  m.quantization = { weights: 'f32', embedding: 'f32', group_size: 0 };
  m.params = 1711376384;
  const layerBytes = 4 * (4 * dim * dim + 3 * dim * ff + 2 * dim) + 4096;
  const files = [m.files[0], { ...m.files[1], bytes: 4 * (vocab * dim + dim) + 4096 }];
  for (let i = 0; i < L; i++)
    files.push({ path: `layer-${String(i).padStart(3, '0')}.swc`, bytes: layerBytes, sha256: m.files[2].sha256, role: 'layer', layer: i });
  m.files = files;
  m.total_bytes = files.reduce((a, f) => a + f.bytes, 0);
  return JSON.stringify(m);
}

function outOfMemory(rt) {
  const t0 = Date.now();
  const model = rt.modelCreate(manifest17b(8192), { n_ctx: 512 });
  try {
    let failed = null;
    const got = [];
    for (const c of model.chunks) {
      if (c.layer < 0) continue;
      try {
        model.chunkBuffer(c.index);
        got.push(c.index);
      } catch (e) {
        failed = { c, e };
        break;
      }
    }
    const mb = Math.round(rt.buffer().byteLength / 2 ** 20);
    check(failed && failed.e instanceof SmolwebWasmError && failed.e.status === 'NOMEM' &&
      failed.e.message.startsWith(`${failed.c.path}: NOMEM: out of memory for ${failed.c.bytes} bytes`),
    `1.7B-shape f32 chunk buffers: ${got.length} allocated (heap ${mb} MB), then ${failed ? failed.e.message : 'no failure'}`);
    if (failed) {
      model.dropChunk(got.pop());
      model.dropChunk(got.pop());
      const v = model.chunkBuffer(failed.c.index);
      v[0] = 1; v[v.length - 1] = 2; // the view reaches the end of the buffer
      check(v.length === failed.c.bytes, `after dropping two chunks, ${failed.c.path}'s buffer is allocated (${v.length} bytes)`);
    }
  } finally {
    model.free();
  }
  expectError('KV cache of 16384 f32 tokens (6.4 GB)', 'NOMEM', 'model_create: NOMEM: ',
    () => rt.modelCreate(manifest17b(16384), { n_ctx: 16384 }));
  expectError('KV cache whose size overflows 32 bits (n_ctx 2^24)', 'NOMEM', 'model_create: NOMEM: ',
    () => rt.modelCreate(manifest17b(1 << 24), { n_ctx: 1 << 24 }));
  console.log(`     (out-of-memory checks took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/** Threads build with a pool of one Worker: asking for more threads than the
 * pool holds gives fewer threads (pthread_create fails with EAGAIN under
 * -sPTHREAD_POOL_SIZE_STRICT=2) instead of a deadlock, and a freed model
 * returns its Worker to the pool at once. */
async function poolExhaustion(rt) {
  const open = async (n) => loadModel(rt, manifestText, read, { n_ctx: ref.n_ctx, n_threads: n });
  const a = await open(4);
  const ids = greedyIds(rt, a, 8);
  check(a.nThreads === 2 && ids.join() === ref.gen_ids.slice(0, 8).join(),
    `pool of ${rt.poolSize}, n_threads 4: computes with ${a.nThreads} threads and generates native's ids`);
  a.free();
  const b = await open(2);
  const c = await open(2);
  check(b.nThreads === 2 && c.nThreads === 1,
    `after a free the Worker is back: a new model gets ${b.nThreads} threads, a second one at the same time ${c.nThreads}`);
  b.free();
  c.free();
}

for (const variant of variants) {
  console.log(`== ${variant}`);
  try {
    const rt = await loadVariant(variant, { poolSize: 1 });
    await badChunks(rt);
    if (rt.build.threads) await poolExhaustion(rt);
    outOfMemory(rt);
    const model = await loadModel(rt, manifestText, read, { n_ctx: ref.n_ctx });
    const ids = greedyIds(rt, model, 8);
    model.free();
    check(ids.join() === ref.gen_ids.slice(0, 8).join(), `after out-of-memory the tiny model still loads and generates native's ids`);
  } catch (e) {
    check(false, `unexpected: ${e.stack || e}`);
  }
}
console.log(checks.failures ? `node_bad_input: ${checks.failures} failure(s)` : 'node_bad_input: ok');
process.exit(checks.failures ? 1 : 0);

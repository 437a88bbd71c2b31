// wasm_node_test.mjs: the wasm runtime (dist/, from ./build_wasm.sh) against
// the native one on the same model folder.
//
//   node tests/wasm_node_test.mjs            (env SMOLWEB_BUILD: native build dir, default build/)
//
// Makes the tiny random-weight model (smolweb-gen tiny + smolweb-chunk, q4,
// q8, f16 and f32), runs native smolweb-run greedily (--ids-out), then loads every
// chunk into each wasm variant (SIMD128 and scalar) through
// smolweb_model_chunk_buffer + smolweb_model_chunk_commit (SHA-256 checked),
// tokenizes the same prompt, prefills, decodes greedily, and requires the
// same prompt ids and the same generated ids. Exit 0 on success.
import { createRequire } from 'module';
import { fileURLToPath } from 'url';
import path from 'path';
import fs from 'fs';
import os from 'os';
import { execFileSync } from 'child_process';

// emcc 3.1.6's ES module output still uses require/__dirname under Node.
globalThis.require = createRequire(import.meta.url);
globalThis.__dirname = path.dirname(fileURLToPath(import.meta.url));

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = process.env.SMOLWEB_BUILD || path.join(ROOT, 'build');
const SHARED = process.env.SMOLWEB_SHARED || path.join(ROOT, '..', 'shared');
const PROMPT = 'Hello world, this is a test of the wasm build.';
const N_GEN = 16;

function fail(msg) {
  console.error(`FAIL ${msg}`);
  process.exit(1);
}

function native(tool, args) {
  return execFileSync(path.join(BUILD, tool), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeModels(work) {
  const hf = path.join(work, 'hf');
  const tok = path.join(SHARED, 'models', 'smollm2-135m-instruct');
  native('smolweb-gen', ['tiny', hf, '--seed', '7', '--tokenizer-dir', tok]);
  const dirs = {};
  for (const q of ['q4', 'q8', 'f16', 'f32']) {
    dirs[q] = path.join(work, q);
    native('smolweb-chunk', ['--quant', q, hf, dirs[q]]);
  }
  return dirs;
}

// Native reference: prompt ids and greedy ids.
function nativeRun(dir) {
  const base = [dir, '--prompt', PROMPT];
  const prompt = JSON.parse(native('smolweb-run', [...base, '--prompt-ids-out']));
  const gen = JSON.parse(native('smolweb-run', [...base, '-n', String(N_GEN), '--temperature', '0', '--ignore-eos', '--ids-out']));
  return { prompt, gen };
}

async function loadVariant(name) {
  const { default: create } = await import(path.join(ROOT, 'dist', `${name}.mjs`));
  return create({ wasmBinary: fs.readFileSync(path.join(ROOT, 'dist', `${name}.wasm`)), noInitialRun: true });
}

// Runs the wasm model on dir; returns { prompt, gen } like nativeRun.
function wasmRun(w, dir) {
  const u8 = () => w.HEAPU8; // re-read after every call: the heap may have grown
  const i32 = () => new Int32Array(w.HEAPU8.buffer);
  const check = (st, what) => {
    if (st !== 0) fail(`${what}: status ${w.UTF8ToString(w._smolweb_status_str(st))}`);
  };
  const bytesIn = (b) => {
    const p = w._malloc(b.length + 1) >>> 0;
    u8().set(b, p);
    u8()[p + b.length] = 0;
    return p;
  };

  // model: manifest, params (smolweb_model_params = 4 x int32)
  const manifest = fs.readFileSync(path.join(dir, 'manifest.json'));
  const mj = bytesIn(manifest);
  const params = w._malloc(16) >>> 0, out = w._malloc(4) >>> 0, err = w._malloc(512) >>> 0;
  i32().set([256, 1, 0, 0], params / 4); // n_ctx 256, 1 thread, f32 KV cache, default batch
  const st = w._smolweb_model_create(mj, manifest.length, params, out, err, 512);
  if (st !== 0) fail(`model_create: ${w.UTF8ToString(err)}`);
  const m = i32()[out / 4] >>> 0;

  // chunks: stream each file into the model's own buffer, then commit
  const n = w._smolweb_model_chunk_count(m);
  const info = w._malloc(24) >>> 0; // path*, u64 bytes, sha*, layer
  for (let i = 0; i < n; i++) {
    check(w._smolweb_model_chunk_info(m, i, info, info + 8, info + 16, info + 20), `chunk_info ${i}`);
    const rel = w.UTF8ToString(i32()[info / 4] >>> 0);
    const file = fs.readFileSync(path.join(dir, rel));
    const size = Number(new BigUint64Array(w.HEAPU8.buffer, info + 8, 1)[0]);
    if (size !== file.length) fail(`${rel}: manifest says ${size} bytes, file has ${file.length}`);
    const buf = w._smolweb_model_chunk_buffer(m, i) >>> 0;
    if (!buf) fail(`chunk_buffer ${rel}: ${w.UTF8ToString(w._smolweb_model_error(m))}`);
    u8().set(file, buf);
    const cs = w._smolweb_model_chunk_commit(m, i, 1);
    if (cs !== 0) fail(`commit ${rel}: ${w.UTF8ToString(w._smolweb_model_error(m))}`);
  }
  if (w._smolweb_model_missing_chunks(m, 0, 0) !== 0) fail('chunks still missing');

  // tokenize
  const text = Buffer.from(PROMPT, 'utf8');
  const tp = bytesIn(text);
  const cap = 1024, ids = w._malloc(cap * 4) >>> 0, nIds = w._malloc(4) >>> 0;
  check(w._smolweb_tokenize(m, tp, text.length, ids, cap, nIds), 'tokenize');
  const np = i32()[nIds / 4];
  const prompt = Array.from(i32().subarray(ids / 4, ids / 4 + np));

  // greedy sampler: defaults with temperature 0 and no repetition penalty,
  // as smolweb-run uses. smolweb_sampler_params: f32 temperature, i32 top_k,
  // f32 top_p, f32 min_p, f32 repeat_penalty, i32 repeat_last_n, u64 seed.
  const sp = w._malloc(32) >>> 0;
  w._smolweb_sampler_default_params(sp); // struct returned through a hidden pointer
  const f32 = new Float32Array(w.HEAPU8.buffer);
  f32[sp / 4] = 0;
  f32[sp / 4 + 4] = 1;
  const s = w._smolweb_sampler_create(sp, w._smolweb_model_n_vocab(m)) >>> 0;
  if (!s) fail('sampler_create');
  for (const id of prompt) w._smolweb_sampler_accept(s, id);

  // prefill, then decode
  const done = w._malloc(4) >>> 0;
  check(w._smolweb_prefill(m, ids, np, 0, done), `prefill: ${w.UTF8ToString(w._smolweb_model_error(m))}`);
  if (i32()[done / 4] !== np) fail(`prefill did ${i32()[done / 4]} of ${np}`);
  const gen = [];
  const tok = w._malloc(4) >>> 0;
  for (let i = 0; i < N_GEN; i++) {
    check(w._smolweb_decode_step(m, s, tok), 'decode_step');
    gen.push(i32()[tok / 4]);
  }
  w._smolweb_sampler_free(s);
  w._smolweb_model_free(m);
  for (const p of [mj, params, out, err, info, tp, ids, nIds, sp, done, tok]) w._free(p);
  return { prompt, gen };
}

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smolweb-wasm-'));
try {
  const dirs = makeModels(work);
  let failures = 0;
  for (const variant of ['smolweb-simd', 'smolweb-scalar']) {
    const w = await loadVariant(variant);
    for (const [q, dir] of Object.entries(dirs)) {
      const want = nativeRun(dir);
      const got = wasmRun(w, dir);
      const ok = same(got.prompt, want.prompt) && same(got.gen, want.gen);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${variant} ${q}: prompt ${got.prompt.length} ids, generated ${JSON.stringify(got.gen)}`);
      if (!ok) {
        console.log(`     native prompt ${JSON.stringify(want.prompt)}\n     wasm   prompt ${JSON.stringify(got.prompt)}`);
        console.log(`     native generated ${JSON.stringify(want.gen)}`);
        failures++;
      }
    }
  }
  if (failures) process.exit(1);
  console.log('ok');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

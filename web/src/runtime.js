// runtime.js: the lowest JavaScript layer over the raw wasm exports of a
// smolweb build (dist/smolweb-{simd-threads,simd,scalar}.mjs).
//
// It knows the C API (include/smolweb.h) and nothing about workers, the DOM
// or fetching, so the worker protocol, the public API and the Node tests all
// sit on it. Rules it keeps:
//   - No offset, size or enum value is written here: they come from the
//     build's smolweb_abi_json() (src/abi.c) at start-up.
//   - Pointers from wasm are read as unsigned (`>>> 0`): with memory up to
//     4 GiB, an address above 2 GiB arrives as a negative i32.
//   - Heap views are re-derived after every call that can allocate, because
//     memory growth replaces the buffer (and, in the threads build, another
//     thread may have grown it): every accessor below builds its view from
//     the current buffer, and the views it returns are valid until the next
//     call into wasm.
//   - A failing call throws SmolwebWasmError with .status (the status name,
//     e.g. 'INTEGRITY'), .code (its number) and a message naming the chunk
//     or the call, the status name and the C message.
//
//   import createSmolweb from '../../dist/smolweb-simd.mjs';
//   const rt = await createRuntime(createSmolweb, { wasmBinary });  // moduleOpts go to the loader
//   const model = rt.modelCreate(manifestText, { n_ctx: 1024, n_threads: 2 });
//   for (const c of model.chunks) { model.chunkBuffer(c.index).set(bytes); model.commit(c.index); }
//   const sampler = rt.samplerCreate({ temperature: 0, repeat_penalty: 1 }, model.nVocab);
//   model.prefill(model.tokenize('Hello'));  const id = model.decodeStep(sampler);
//   sampler.free(); model.free();

const ABI_VERSION = 1;

/** An error from the wasm runtime: .status is the status name ('INTEGRITY',
 * 'NOMEM', ...), .code its number, .detail the C message. */
export class SmolwebWasmError extends Error {
  constructor(message, status, code, detail = '') {
    super(message);
    this.name = 'SmolwebWasmError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

/** Instantiates a loader (the default export of a dist/*.mjs) with moduleOpts
 * (wasmBinary, locateFile, mainScriptUrlOrBlob, smolwebPoolSize for the
 * threads build...) and returns a Runtime over it. */
export async function createRuntime(factory, moduleOpts = {}) {
  const mod = await factory({ ...moduleOpts });
  return new Runtime(mod);
}

export class Runtime {
  constructor(mod) {
    this.mod = mod;
    this.abi = readAbi(mod);
    if (this.abi.abi_version !== ABI_VERSION)
      throw new SmolwebWasmError(`wasm ABI version ${this.abi.abi_version}, this runtime.js speaks ${ABI_VERSION}`, 'UNSUPPORTED', this.abi.status.UNSUPPORTED);
    // every out-parameter below is read as 4 bytes: wasm32 only
    if (this.abi.sizes.pointer !== 4 || this.abi.sizes.size_t !== 4)
      throw new SmolwebWasmError(`wasm build with ${this.abi.sizes.pointer}-byte pointers: runtime.js reads wasm32 only`, 'UNSUPPORTED', this.abi.status.UNSUPPORTED);
    this.statusNames = [];
    for (const [name, code] of Object.entries(this.abi.status)) this.statusNames[code] = name;
  }

  /** Build features from the ABI: { wasm, simd128, threads, kernels }. */
  get build() {
    return this.abi.build;
  }

  /** Workers in the threads build's pool (0 in single-thread builds): a model
   * can use at most poolSize + 1 threads. */
  get poolSize() {
    const p = this.mod.PThread;
    return p ? p.unusedWorkers.length + p.runningWorkers.length : 0;
  }

  // ---- heap access (fresh views; valid until the next call into wasm) ----

  buffer() {
    return this.mod.wasmMemory ? this.mod.wasmMemory.buffer : this.mod.HEAPU8.buffer;
  }
  u8(ptr, n) {
    return new Uint8Array(this.buffer(), ptr, n);
  }
  i32(ptr, n) {
    return new Int32Array(this.buffer(), ptr, n);
  }
  f32(ptr, n) {
    return new Float32Array(this.buffer(), ptr, n);
  }
  view() {
    return new DataView(this.buffer());
  }
  /** The NUL-terminated UTF-8 string at ptr ('' for NULL). */
  cstr(ptr) {
    ptr >>>= 0;
    if (!ptr) return '';
    const heap = new Uint8Array(this.buffer());
    const end = heap.indexOf(0, ptr);
    return this.utf8(ptr, (end < 0 ? heap.length : end) - ptr);
  }
  /** n bytes of UTF-8 at ptr as a string (copied: TextDecoder refuses shared memory). */
  utf8(ptr, n) {
    return n ? utf8.decode(new Uint8Array(this.buffer(), ptr >>> 0, n).slice()) : '';
  }

  // ---- memory ----

  /** malloc(n) as an unsigned pointer; throws NOMEM when the heap cannot grow. */
  alloc(n) {
    const p = this.mod._malloc(Math.max(1, n)) >>> 0;
    if (!p) throw this.error('malloc', this.abi.status.NOMEM, `out of memory for ${n} bytes`);
    return p;
  }
  free(ptr) {
    if (ptr) this.mod._free(ptr);
  }
  /** Copies bytes (plus a NUL) into a new allocation; returns its pointer. */
  copyIn(bytes) {
    const p = this.alloc(bytes.length + 1);
    const u = this.u8(p, bytes.length + 1);
    u.set(bytes);
    u[bytes.length] = 0;
    return p;
  }
  /** Copies an array of int32 into a new allocation; returns its pointer. */
  copyInI32(ids) {
    const p = this.alloc(ids.length * 4);
    this.i32(p, ids.length).set(ids);
    return p;
  }

  // ---- params structs, written by the ABI's offsets ----

  /** The default values of a params struct (from *_default_params()). */
  defaults(struct) {
    return { ...this.abi.structs[struct].defaults };
  }

  /** Writes `values` (field -> value; missing fields get the C defaults) as
   * struct `struct` at ptr. Unknown fields throw INVALID_ARG. */
  writeStruct(struct, ptr, values = {}) {
    const desc = this.abi.structs[struct];
    for (const k of Object.keys(values))
      if (!(k in desc.fields)) throw this.error(struct, this.abi.status.INVALID_ARG, `no field ${k}`);
    const v = { ...desc.defaults, ...values };
    const dv = this.view();
    this.u8(ptr, desc.size).fill(0);
    for (const [name, f] of Object.entries(desc.fields)) {
      const x = v[name];
      const at = ptr + f.offset;
      switch (f.type) {
        case 'i32': dv.setInt32(at, Number(x), true); break;
        case 'u32': dv.setUint32(at, Number(x) >>> 0, true); break;
        case 'f32': dv.setFloat32(at, Number(x), true); break;
        case 'f64': dv.setFloat64(at, Number(x), true); break;
        case 'i64': dv.setBigInt64(at, BigInt(x), true); break;
        case 'u64': dv.setBigUint64(at, BigInt.asUintN(64, BigInt(x)), true); break;
        default: throw this.error(struct, this.abi.status.UNSUPPORTED, `field ${name} has type ${f.type}`);
      }
    }
  }

  /** Allocates and fills a params struct; the caller frees it. */
  structIn(struct, values) {
    const p = this.alloc(this.abi.structs[struct].size);
    this.writeStruct(struct, p, values);
    return p;
  }

  // ---- errors ----

  statusName(code) {
    return this.statusNames[code] || `STATUS_${code}`;
  }

  /** An error for `what` (a chunk path or a call name): "what: NAME: detail",
   * where detail is the C message without a repeated "what: " prefix. */
  error(what, code, cmsg) {
    const name = this.statusName(code);
    let detail = cmsg || this.abi.status_text[name] || '';
    if (detail.startsWith(`${what}: `)) detail = detail.slice(what.length + 2);
    return new SmolwebWasmError(`${what}: ${name}: ${detail}`, name, code, cmsg || '');
  }

  // ---- objects ----

  /** Creates a model from manifest.json (string or bytes) and model params
   * (smolweb_model_params fields: n_ctx, n_threads, kv_f16, prefill_batch). */
  modelCreate(manifest, params = {}) {
    const bytes = typeof manifest === 'string' ? utf8enc.encode(manifest) : manifest;
    const errLen = this.abi.sizes.error_message;
    const scratch = [];
    try {
      const mj = this.copyIn(bytes);
      scratch.push(mj);
      const pp = this.structIn('smolweb_model_params', params);
      scratch.push(pp);
      const out = this.alloc(4 + errLen);
      scratch.push(out);
      const st = this.mod._smolweb_model_create(mj, bytes.length, pp, out, out + 4, errLen);
      if (st !== 0) {
        // manifest problems come prefixed with the file name; others (memory,
        // params) are about the call
        const msg = this.cstr(out + 4);
        throw this.error(msg.startsWith('manifest.json: ') ? 'manifest.json' : 'model_create', st, msg);
      }
      const ptr = this.i32(out, 1)[0] >>> 0;
      return new Model(this, ptr);
    } finally {
      for (const p of scratch) this.free(p);
    }
  }

  /** Creates a sampler for n_vocab ids (smolweb_sampler_params fields:
   * temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed). */
  samplerCreate(params, nVocab) {
    const pp = this.structIn('smolweb_sampler_params', params);
    try {
      const s = this.mod._smolweb_sampler_create(pp, nVocab) >>> 0;
      if (!s) throw this.error('sampler', this.abi.status.INVALID_ARG, 'bad sampler parameters or out of memory');
      return new Sampler(this, s);
    } finally {
      this.free(pp);
    }
  }
}

function readAbi(mod) {
  const n = mod._smolweb_abi_json(0, 0);
  const p = mod._malloc(n + 1) >>> 0;
  if (!p) throw new SmolwebWasmError('smolweb_abi_json: out of memory', 'NOMEM', -1);
  try {
    mod._smolweb_abi_json(p, n + 1);
    const buf = mod.wasmMemory ? mod.wasmMemory.buffer : mod.HEAPU8.buffer;
    return JSON.parse(utf8.decode(new Uint8Array(buf, p, n).slice()));
  } finally {
    mod._free(p);
  }
}

export class Sampler {
  constructor(rt, ptr) {
    this.rt = rt;
    this.ptr = ptr;
  }
  accept(id) {
    this.rt.mod._smolweb_sampler_accept(this.ptr, id);
  }
  reset() {
    this.rt.mod._smolweb_sampler_reset(this.ptr);
  }
  free() {
    if (this.ptr) this.rt.mod._smolweb_sampler_free(this.ptr);
    this.ptr = 0;
  }
}

// Scratch layout of a Model (one allocation, kept for the model's life):
const S_OUT = 0; // int32 / pointer out-parameter
const S_LEN = 8; // size_t out-parameter (4 bytes: wasm32)
const S_U64 = 16; // uint64 out-parameter
const S_STR = 24; // second pointer out-parameter
const S_I32 = 28; // int32 out-parameter
const S_SIZE = 32;

export class Model {
  constructor(rt, ptr) {
    this.rt = rt;
    this.ptr = ptr;
    this.scratch = 0;
    try {
      this.scratch = rt.alloc(S_SIZE);
      this.#readFacts();
    } catch (e) {
      this.free();
      throw e;
    }
  }

  #readFacts() {
    const { rt, ptr } = this;
    const m = rt.mod;
    // the manifest's files, copied out once (the strings are owned by the model)
    const s = this.scratch;
    this.chunks = [];
    const n = m._smolweb_model_chunk_count(ptr);
    for (let i = 0; i < n; i++) {
      const st = m._smolweb_model_chunk_info(ptr, i, s + S_OUT, s + S_U64, s + S_STR, s + S_I32);
      if (st !== 0) throw rt.error(`chunk ${i}`, st, this.message());
      const dv = rt.view();
      this.chunks.push({
        index: i,
        path: rt.cstr(dv.getUint32(s + S_OUT, true)),
        bytes: Number(dv.getBigUint64(s + S_U64, true)),
        sha256: rt.cstr(dv.getUint32(s + S_STR, true)),
        layer: dv.getInt32(s + S_I32, true),
      });
    }
    this.nVocab = m._smolweb_model_n_vocab(ptr);
    this.nCtx = m._smolweb_model_n_ctx(ptr);
    this.nLayers = m._smolweb_model_n_layers(ptr);
    this.nThreads = m._smolweb_model_n_threads(ptr);
    const nStop = m._smolweb_model_stop_ids(ptr, 0, 0);
    const sp = rt.alloc(Math.max(1, nStop) * 4);
    m._smolweb_model_stop_ids(ptr, sp, nStop);
    this.stopIds = Array.from(rt.i32(sp, nStop));
    rt.free(sp);
    const tpl = m._smolweb_model_chat_template(ptr) >>> 0;
    this.chatTemplate = tpl ? rt.cstr(tpl) : null;
    this.chatFormat = rt.cstr(m._smolweb_model_chat_format(ptr));
  }

  /** The C message of the model's last failed call. */
  message() {
    return this.rt.cstr(this.rt.mod._smolweb_model_error(this.ptr));
  }

  #check(st, what) {
    if (st !== 0) throw this.rt.error(what, st, this.message());
  }

  #chunk(i) {
    const c = this.chunks[i];
    if (!c) throw this.rt.error(`chunk ${i}`, this.rt.abi.status.INVALID_ARG, `no chunk ${i} (the model has ${this.chunks.length})`);
    return c;
  }

  // ---- chunks ----

  /** A view of chunk i's model-owned buffer (exactly its manifest size),
   * allocated on first call; fill it, then commit(i). Re-call after any other
   * call into wasm: growth replaces the buffer the view is on. */
  chunkBuffer(i) {
    const c = this.#chunk(i);
    const p = this.rt.mod._smolweb_model_chunk_buffer(this.ptr, i) >>> 0;
    // the index is valid, so NULL means the buffer could not be allocated
    if (!p) throw this.rt.error(c.path, this.rt.abi.status.NOMEM, this.message());
    return this.rt.u8(p, c.bytes);
  }

  /** Validates chunk i's bytes (SHA-256 unless verifySha is false, format,
   * shapes) and makes its weights live; throws an error naming the chunk. */
  commit(i, verifySha = true) {
    const c = this.#chunk(i);
    this.#check(this.rt.mod._smolweb_model_chunk_commit(this.ptr, i, verifySha ? 1 : 0), c.path);
  }

  /** Copies bytes into chunk i's buffer and commits it. */
  loadChunk(i, bytes, verifySha = true) {
    const c = this.#chunk(i);
    if (bytes.length !== c.bytes)
      throw this.rt.error(c.path, this.rt.abi.status.INTEGRITY, `${bytes.length} bytes, the manifest says ${c.bytes}`);
    this.chunkBuffer(i).set(bytes);
    this.commit(i, verifySha);
  }

  /** Frees chunk i's buffer; the chunk becomes missing. */
  dropChunk(i) {
    this.#chunk(i);
    this.rt.mod._smolweb_model_chunk_drop(this.ptr, i);
  }

  /** Indices of the chunks not committed yet. */
  missingChunks() {
    const m = this.rt.mod;
    const n = m._smolweb_model_missing_chunks(this.ptr, 0, 0);
    if (!n) return [];
    const p = this.rt.alloc(n * 4);
    try {
      m._smolweb_model_missing_chunks(this.ptr, p, n);
      return Array.from(this.rt.i32(p, n));
    } finally {
      this.rt.free(p);
    }
  }

  // ---- tokenizer ----

  /** Token ids of text (special-token strings match; no BOS). */
  tokenize(text) {
    const rt = this.rt;
    const bytes = utf8enc.encode(text);
    const tp = rt.copyIn(bytes);
    let cap = bytes.length + 8;
    let ids = 0;
    try {
      for (;;) {
        ids = rt.alloc(cap * 4);
        this.#check(rt.mod._smolweb_tokenize(this.ptr, tp, bytes.length, ids, cap, this.scratch + S_I32), 'tokenize');
        const n = rt.i32(this.scratch + S_I32, 1)[0];
        if (n <= cap) return Array.from(rt.i32(ids, n));
        rt.free(ids);
        ids = 0;
        cap = n;
      }
    } finally {
      rt.free(ids);
      rt.free(tp);
    }
  }

  /** The text of ids (special tokens as their text). */
  detokenize(ids) {
    const rt = this.rt;
    const ip = rt.copyInI32(ids);
    let out = 0;
    try {
      const lenp = this.scratch + S_LEN;
      this.#check(rt.mod._smolweb_detokenize(this.ptr, ip, ids.length, 0, 0, lenp), 'detokenize');
      const n = rt.view().getUint32(lenp, true);
      out = rt.alloc(n + 1);
      this.#check(rt.mod._smolweb_detokenize(this.ptr, ip, ids.length, out, n + 1, lenp), 'detokenize');
      return rt.utf8(out, n);
    } finally {
      rt.free(out);
      rt.free(ip);
    }
  }

  /** Streaming decode: the complete UTF-8 characters id adds ('' if none yet). */
  decodePiece(id) {
    const s = this.scratch;
    this.#check(this.rt.mod._smolweb_decode_piece(this.ptr, id, s + S_OUT, s + S_LEN), 'decode_piece');
    return this.#piece();
  }
  /** Whatever bytes the stream still holds (an incomplete character as U+FFFD). */
  decodeFlush() {
    const s = this.scratch;
    this.#check(this.rt.mod._smolweb_decode_flush(this.ptr, s + S_OUT, s + S_LEN), 'decode_flush');
    return this.#piece();
  }
  decodeReset() {
    this.rt.mod._smolweb_decode_reset(this.ptr);
  }
  #piece() {
    const dv = this.rt.view();
    const n = dv.getUint32(this.scratch + S_LEN, true);
    return this.rt.utf8(dv.getUint32(this.scratch + S_OUT, true), n);
  }

  // ---- generation ----

  /** How many leading tokens of ids the KV cache already holds. */
  commonPrefix(ids) {
    const p = this.rt.copyInI32(ids);
    try {
      return this.rt.mod._smolweb_common_prefix(this.ptr, p, ids.length);
    } finally {
      this.rt.free(p);
    }
  }

  /** Brings the KV cache to ids, running at most maxTokens (<= 0: all) new
   * tokens; returns how many tokens of ids are now cached (ids.length when
   * done; then the last token's logits are ready). */
  prefill(ids, maxTokens = 0) {
    const rt = this.rt;
    const p = rt.copyInI32(ids);
    try {
      this.#check(rt.mod._smolweb_prefill(this.ptr, p, ids.length, maxTokens, this.scratch + S_I32), 'prefill');
      return rt.i32(this.scratch + S_I32, 1)[0];
    } finally {
      rt.free(p);
    }
  }

  /** Runs the previously sampled token (if any) and samples the next id. */
  decodeStep(sampler) {
    this.#check(this.rt.mod._smolweb_decode_step(this.ptr, sampler.ptr, this.scratch + S_I32), 'decode_step');
    return this.rt.i32(this.scratch + S_I32, 1)[0];
  }

  /** A view of the logits of the last token run (nVocab floats), or null;
   * valid until the next call into wasm. */
  logits() {
    const p = this.rt.mod._smolweb_logits(this.ptr) >>> 0;
    return p ? this.rt.f32(p, this.nVocab) : null;
  }

  /** Forgets the KV cache. */
  reset() {
    this.rt.mod._smolweb_reset(this.ptr);
  }

  /** Frees the model and its chunk buffers; safe to call twice. */
  free() {
    if (this.ptr) this.rt.mod._smolweb_model_free(this.ptr);
    this.rt.free(this.scratch);
    this.ptr = 0;
    this.scratch = 0;
  }
}

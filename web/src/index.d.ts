// index.d.ts: types of smolweb's public JavaScript API (index.js; DESIGN.md
// section 3). Hand-written from the sources: keep it in step with index.js,
// worker.js (model info, lastRun), device.js, cache.js, errors.js.
//
//   import { loadModel } from 'smolweb';
//   const model = await loadModel('/models/smollm2-135m-q4/manifest.json', { onProgress });
//   for await (const text of model.generate('Hello', { maxTokens: 64 })) out.append(text);

// ---- errors ----

/** The `code` of a SmolwebError. */
export type SmolwebErrorCode =
  /** the connection failed or dropped, after retries */
  | 'NETWORK'
  /** the server answered 4xx/5xx (after retries for 5xx/408/429); `status` holds it */
  | 'HTTP_STATUS'
  /** a file's SHA-256 differs from the manifest's */
  | 'INTEGRITY'
  /** manifest.json is not valid JSON or fails its schema */
  | 'BAD_MANIFEST'
  /** a chunk's size or format is wrong */
  | 'BAD_CHUNK'
  /** storage quota exceeded while caching */
  | 'QUOTA'
  /** the model cannot fit this device (checked before anything is downloaded) */
  | 'MODEL_TOO_LARGE'
  /** a prompt longer than the context */
  | 'CONTEXT_LENGTH'
  /** a second generate() while one runs */
  | 'BUSY'
  /** the platform or the model lacks something needed */
  | 'UNSUPPORTED'
  /** a bug or an unexpected runtime failure */
  | 'INTERNAL';

/**
 * Every failure a caller can act on: a stable `code` and a one-line message
 * naming the file or value at fault. An abort is not a SmolwebError but a
 * DOMException named 'AbortError', as fetch() rejects with.
 */
export class SmolwebError extends Error {
  /** An unknown code becomes 'INTERNAL'. */
  constructor(code: SmolwebErrorCode, message: string, opts?: { file?: string; status?: number; cause?: unknown });
  name: 'SmolwebError';
  code: SmolwebErrorCode;
  /** The manifest-relative path or URL concerned, when there is one. */
  file?: string;
  /** The HTTP status, for 'HTTP_STATUS'. */
  status?: number;
}

// ---- manifest (manifest/manifest.schema.json) ----

export type QuantType = 'q4' | 'q8' | 'f16' | 'f32';

export interface ManifestFile {
  /** Relative to the manifest's folder. */
  path: string;
  bytes: number;
  /** Lowercase hex. */
  sha256: string;
  role: 'tokenizer' | 'embedding' | 'layer';
  /** Layer index; only with role 'layer'. */
  layer?: number;
}

/** A parsed manifest.json, as smolweb-chunk writes it. */
export interface Manifest {
  format: 'smolweb-model';
  format_version: 1;
  name: string;
  architecture: 'llama';
  /** Parameter count. */
  params: number;
  config: {
    hidden_size: number;
    intermediate_size: number;
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    head_dim: number;
    vocab_size: number;
    max_position_embeddings: number;
    rope_theta: number;
    rms_norm_eps: number;
    tie_word_embeddings: boolean;
    /** One flag per layer: 1 if the layer applies RoPE. */
    rope_layers: Array<0 | 1>;
  };
  quantization: { weights: QuantType; embedding: QuantType; group_size: number };
  tokens: { bos_id: number | null; eos_id: number | null; pad_id: number | null; stop_ids: number[] };
  chat_template: string | null;
  chat_format: 'chatml' | 'other';
  files: ManifestFile[];
  /** Sum of files[].bytes. */
  total_bytes: number;
}

// ---- device and tiers ----

/** What this device offers (detectDevice). */
export interface DeviceInfo {
  /** navigator.deviceMemory in GB (Chromium only, capped at 8), else null. */
  memoryGB: number | null;
  /** navigator.hardwareConcurrency, or null. */
  cores: number | null;
  /** WebAssembly is available. */
  wasm: boolean;
  /** 128-bit wasm SIMD validates. */
  simd: boolean;
  /** wasm threads can run here: cross-origin isolated, SharedArrayBuffer, shared memory. */
  threads: boolean;
  /** globalThis.crossOriginIsolated, or null where there is no such notion. */
  crossOriginIsolated: boolean | null;
  /** navigator.storage.estimate() quota and usage in bytes, or null when unknown. */
  storageQuota: number | null;
  storageUsage: number | null;
}

/** 'full': the configured context; 'reduced': a smaller KV cache and fewer threads. */
export type TierName = 'full' | 'reduced';

export interface ChooseTierOptions {
  /** Default 'auto'; a forced tier must still fit. */
  tier?: 'auto' | TierName;
  /** Replaces min(cores, 4) in every tier; still 1 without wasm threads. */
  threads?: number;
  /** KV cache element type; default 'f32' (identical to the native CLI). */
  kvType?: 'f32' | 'f16';
  /** Caps the full tier's context. */
  contextLength?: number;
}

export interface TierChoice {
  tier: TierName;
  contextLength: number;
  threads: number;
  kvType: 'f32' | 'f16';
  /** One line saying why, with the sizes. */
  reason: string;
  /** Bytes: what the choice needs, the device's budget and the wasm32 cap. */
  memory: {
    weights: number;
    kv: number;
    scratch: number;
    overhead: number;
    heap: number;
    device: number;
    budget: number;
    wasmCap: number;
  };
}

/** The wasm build a page runs. */
export type Variant = 'simd-threads' | 'simd' | 'scalar';

/** Build features the runtime reports (plus its thread pool size). */
export interface BuildInfo {
  wasm: boolean;
  simd128: boolean;
  threads: boolean;
  /** The kernel set in use, e.g. 'simd128' or 'scalar'. */
  kernels: string;
  /** Pool workers of the threads build (0 otherwise). */
  poolSize: number;
}

// ---- loading ----

/** An onProgress event. `loaded` counts bytes as they arrive over all files
 * (network or cache), never goes back, and equals `total` once every file is
 * verified and in the runtime. */
export interface LoadProgress {
  loaded: number;
  total: number;
  /** The file this event is about, when there is one. */
  file?: string;
  /** Layer files verified and ready, out of `layers`. */
  layersReady: number;
  layers: number;
  phase: 'manifest' | 'download' | 'cache' | 'init';
}

export interface LoadModelOptions {
  /** Called as bytes arrive; an exception it throws does not stop the load. */
  onProgress?: (p: LoadProgress) => void;
  /** Aborts the load (rejects with an AbortError); chunks finished so far stay cached. */
  signal?: AbortSignal;
  /** Default 'auto' (chooseTier decides). */
  tier?: 'auto' | TierName;
  /** Threads to run with (default min(cores, 4); 1 where the page is not cross-origin isolated). */
  threads?: number;
  /** Store verified chunks in the Cache API and read them from it (default true). */
  cache?: boolean;
  /** Caps the context (KV cache) length. */
  contextLength?: number;
  /** KV cache element type: 'f32' (default; generation identical to the
   * native CLI) or 'f16' (half the cache's memory, attention about 3x slower;
   * identical to the native CLI's --kv-f16). */
  kvType?: 'f32' | 'f16';
  /** Chunks downloaded at once (default 3). */
  maxInFlight?: number;
}

/** model.info. */
export interface ModelInfo {
  /** manifest.name */
  name: string;
  /** manifest.params */
  params: number;
  /** manifest.quantization.weights */
  quant: QuantType;
  tier: TierName;
  /** chooseTier's reason. */
  tierReason: string;
  threads: number;
  simd: boolean;
  /** Tokens the KV cache holds (prompt plus answer). */
  contextLength: number;
  /** The KV cache's element type. */
  kvType: 'f32' | 'f16';
  /** Bytes of the files that came from the network, and from the cache. */
  bytesDownloaded: number;
  bytesFromCache: number;
  /** Why chunks were not cached (no Cache API, the storage quota), for the user; null otherwise. */
  cacheWarning: string | null;
  variant: Variant;
  build: BuildInfo;
}

// ---- generation ----

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

/** What generate() takes: text, chat messages (rendered with the model's
 * chat_template), or token ids. */
export type Prompt = string | ChatMessage[] | { ids: number[] };

export interface GenerateOptions {
  /** Default 256. */
  maxTokens?: number;
  /** 0: greedy. The other sampling defaults are the C runtime's. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  /** 1: none. */
  repeatPenalty?: number;
  /** Default: random. */
  seed?: number;
  /** Generation ends before any of these strings; they are not emitted. */
  stop?: string[];
  /** Keep going past the end-of-sequence tokens (benchmarks). */
  ignoreEos?: boolean;
  /** Aborts within one token's time (the prefill too); the stream errors with an AbortError and the model stays usable. */
  signal?: AbortSignal;
  /** Prompt tokens per prefill slice between abort checks (default 32). */
  prefillSlice?: number;
}

/** model.lastRun, once a stream has closed (or errored). */
export interface LastRun {
  promptTokens: number;
  /** Prompt tokens whose KV cache a previous call left (not prefilled again). */
  reusedTokens: number;
  /** The generated ids (an end-of-sequence id that ended the run is not included). */
  ids: number[];
  /** Time to first token, from generate() to the first text, in ms. */
  ttftMs: number;
  /** Prefill tokens per second (new tokens only), decode tokens per second. */
  prefillTps: number;
  decodeTps: number;
  finishReason: 'eos' | 'length' | 'stop' | 'abort';
  /** Chat messages dropped (oldest turns after the system message) to fit the context. */
  droppedMessages: number;
}

/** A loaded model, from loadModel(); its wasm runs in a Web Worker. */
export class Model {
  private constructor();
  readonly info: Readonly<ModelInfo>;
  /** The last generation's figures; null before the first one ends. */
  lastRun: LastRun | null;
  /**
   * Generates text: a stream of decoded pieces (UTF-8 safe) that closes at
   * end of sequence, maxTokens or a stop string, and errors with a
   * SmolwebError or, on abort, an AbortError. Cancelling the stream aborts.
   * @throws SmolwebError 'BUSY' (synchronously) while another generation runs
   */
  generate(prompt: Prompt, opts?: GenerateOptions): ReadableStream<string>;
  /** Token ids of text (special-token strings match; no BOS added). */
  tokenize(text: string): Promise<number[]>;
  /** The text of ids. */
  detokenize(ids: ArrayLike<number>): Promise<string>;
  /** Frees the model and stops its worker. */
  dispose(): Promise<void>;
}

/**
 * Fetches and validates the manifest, chooses a tier for this device (or
 * rejects with MODEL_TOO_LARGE before downloading), starts the worker and
 * loads every chunk (cache first), verifying each one's SHA-256.
 */
export function loadModel(manifestUrl: string | URL, opts?: LoadModelOptions): Promise<Model>;

/** What this device offers; never rejects. */
export function detectDevice(): Promise<DeviceInfo>;

/**
 * How to run a model on a device, before anything is downloaded; pure.
 * @throws SmolwebError 'MODEL_TOO_LARGE' (naming the sizes) or 'BAD_MANIFEST'; TypeError for bad opts
 */
export function chooseTier(device: Pick<DeviceInfo, 'memoryGB' | 'cores' | 'threads'>, manifest: Manifest, opts?: ChooseTierOptions): TierChoice;

/** The build a device runs with this many threads. */
export function chooseVariant(device: Pick<DeviceInfo, 'simd' | 'threads'>, threads: number): Variant;

// ---- cache ----

/** A model whose manifest is in the chunk cache. */
export interface CachedModel {
  manifestUrl: string;
  name: string;
  params: number | null;
  quant: QuantType | null;
  /** Sum of the manifest's file sizes, and of the files stored with their exact SHA-256. */
  totalBytes: number;
  cachedBytes: number;
  files: number;
  cachedFiles: number;
  /** Every file is stored: the model loads with no network. */
  complete: boolean;
  /** When the manifest was stored (ISO 8601), or null. */
  storedAt: string | null;
}

/** Models in the chunk cache. Rejects with UNSUPPORTED where there is no Cache API. */
export function listCachedModels(): Promise<CachedModel[]>;

/** Deletes a cached model's chunks (every stored version) and manifest; resolves with what was removed. */
export function deleteCachedModel(manifestUrl: string | URL): Promise<{ files: number; bytes: number }>;

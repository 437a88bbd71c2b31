// progress.js: the arithmetic behind onProgress, kept pure so its promises
// can be tested: over one load,
//   - total is the sum of the manifest's file sizes and never changes;
//   - loaded is summed over all files as bytes arrive (network or cache), is
//     monotonic even when a file restarts (a Range ignored, a hash mismatch
//     refetched), never exceeds total, and equals total exactly when, and
//     only when, every file is done (verified and handed to the runtime);
//   - layersReady counts the layer files done, out of layers.
// How: each file counts its high-water mark of bytes (a restart does not lower
// it), capped at size - 1 until the file is marked done.
//
// Events are { loaded, total, file?, layersReady, layers, phase } with phase
// 'manifest' | 'download' | 'cache' | 'init'. To keep a large model from
// sending tens of thousands of events, a byte event is emitted only once
// loaded has advanced by minStep (default total / 1000); phase changes, file
// completions and the final event are always emitted. An exception thrown by
// onProgress does not break the load: it goes to reportError() (the console
// and the global 'error' event), or is rethrown from a microtask where that
// does not exist.

const PHASES = new Set(['manifest', 'download', 'cache', 'init']);

/** Sizes from a manifest: { total, layers, files: Map(path -> { bytes, role, layer }) }.
 * layers is config.num_hidden_layers, or the count of layer files. */
export function manifestSizes(manifest) {
  const files = new Map();
  let total = 0;
  let layerFiles = 0;
  for (const f of (manifest && manifest.files) || []) {
    const bytes = Number.isSafeInteger(f.bytes) && f.bytes > 0 ? f.bytes : 0;
    files.set(f.path, { bytes, role: f.role, layer: Number.isInteger(f.layer) ? f.layer : null });
    total += bytes;
    if (f.role === 'layer') layerFiles++;
  }
  const n = manifest && manifest.config && manifest.config.num_hidden_layers;
  return { total, layers: Number.isSafeInteger(n) && n > 0 ? n : layerFiles, files };
}

export class LoadProgress {
  /**
   * @param manifest the parsed manifest.json
   * @param {{ onProgress?: (p: object) => void, minStep?: number }} [opts]
   *   minStep: bytes loaded must advance between two byte events (0: every change)
   */
  constructor(manifest, { onProgress = null, minStep } = {}) {
    const s = manifestSizes(manifest);
    this.total = s.total;
    this.layers = s.layers;
    this.files = s.files;
    this.onProgress = typeof onProgress === 'function' ? onProgress : null;
    this.minStep = Number.isFinite(minStep) && minStep >= 0 ? minStep : Math.floor(this.total / 1000);
    this.state = new Map(); // path -> { current, high, done, source }
    this.loaded = 0;
    this.layersReady = 0;
    this.phase = 'manifest';
    this.lastEmitted = -1;
    this.bytesDownloaded = 0; // sizes of files completed from the network
    this.bytesFromCache = 0; // sizes of files completed from the cache
    this.networkBytes = 0; // every byte received (up to each file's size), refetches included
  }

  fileState(path) {
    if (!this.files.has(path)) throw new RangeError(`progress: ${path} is not in the manifest`);
    let st = this.state.get(path);
    if (!st) {
      st = { current: 0, high: 0, done: false, source: 'download' };
      this.state.set(path, st);
    }
    return st;
  }

  contribution(path, st) {
    const size = this.files.get(path).bytes;
    return st.done ? size : Math.min(st.high, Math.max(0, size - 1));
  }

  update(path, st, mutate) {
    const before = this.contribution(path, st);
    mutate();
    this.loaded += this.contribution(path, st) - before;
  }

  /** Sets the phase ('manifest' | 'download' | 'cache' | 'init') and emits. */
  setPhase(phase, file) {
    if (!PHASES.has(phase)) throw new RangeError(`progress: unknown phase ${phase}`);
    this.phase = phase;
    this.emit(file, true);
  }

  /** delta bytes of path arrived (negative: a restart discarded them).
   * source 'download' | 'cache' sets the event's phase. */
  bytes(path, delta, source = 'download') {
    const st = this.fileState(path);
    if (st.done || !Number.isFinite(delta) || delta === 0) return;
    const size = this.files.get(path).bytes;
    st.source = source;
    const was = st.current;
    this.update(path, st, () => {
      st.current = Math.min(size, Math.max(0, st.current + delta));
      st.high = Math.max(st.high, st.current);
    });
    if (source === 'download' && st.current > was) this.networkBytes += st.current - was;
    this.phase = source === 'cache' ? 'cache' : 'download';
    this.emit(path, false);
  }

  /** path's bytes are being fetched again from 0 (e.g. its hash failed):
   * loaded keeps its high-water mark, so it does not go back. */
  restart(path) {
    const st = this.fileState(path);
    if (!st.done) st.current = 0;
  }

  /** path is verified and in the runtime: it counts in full, and a layer file
   * adds to layersReady. source: where its bytes came from. */
  done(path, source) {
    const st = this.fileState(path);
    if (st.done) return;
    const info = this.files.get(path);
    const from = source || st.source;
    this.update(path, st, () => {
      st.done = true;
      st.current = st.high = info.bytes;
    });
    if (from === 'cache') this.bytesFromCache += info.bytes;
    else this.bytesDownloaded += info.bytes;
    if (info.role === 'layer') this.layersReady++;
    this.phase = from === 'cache' ? 'cache' : 'download';
    this.emit(path, true);
  }

  /** True when every file is done (then loaded === total). */
  get complete() {
    for (const path of this.files.keys()) {
      const st = this.state.get(path);
      if (!st || !st.done) return false;
    }
    return true;
  }

  /** The current event. */
  snapshot(file) {
    const p = { loaded: this.loaded, total: this.total, layersReady: this.layersReady, layers: this.layers, phase: this.phase };
    if (file !== undefined) p.file = file;
    return p;
  }

  emit(file, force) {
    if (!force && this.loaded - this.lastEmitted < this.minStep && this.loaded !== this.total) return;
    if (!force && this.loaded === this.lastEmitted) return;
    this.lastEmitted = this.loaded;
    if (!this.onProgress) return;
    const p = this.snapshot(file);
    try {
      this.onProgress(p);
    } catch (e) {
      // the caller's bug: surface it (console, window 'error') without
      // breaking the load
      if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
      else
        queueMicrotask(() => {
          throw e;
        });
    }
  }
}

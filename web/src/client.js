// client.js: promises over the worker protocol (protocol.js). One request per
// call; events for a request (progress, pieces) go to its onEvent; an
// AbortSignal sends an abort message for that request, which then settles
// with an AbortError from the worker. A worker that fails to start or dies
// rejects every pending request with an INTERNAL SmolwebError.
import { PROTOCOL_VERSION, request } from './protocol.js';
import { SmolwebError, abortError, deserializeError } from './errors.js';

export class WorkerClient {
  /** @param {Worker|URL|string} worker the worker running worker.js, or its
   * URL (started here as a module worker) */
  constructor(worker) {
    this.worker = typeof worker === 'string' || worker instanceof URL ? new Worker(worker, { type: 'module' }) : worker;
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, onEvent }
    this.dead = null;
    this.worker.onmessage = (ev) => this.#onMessage(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.#die(new SmolwebError('INTERNAL', `the smolweb worker failed: ${ev.message || 'could not load worker.js or the runtime'}`));
    };
    this.worker.onmessageerror = () => this.#die(new SmolwebError('INTERNAL', 'a message from the smolweb worker could not be read'));
  }

  #die(err) {
    this.dead = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  #onMessage(msg) {
    if (!msg || msg.v !== PROTOCOL_VERSION) {
      this.#die(new SmolwebError('INTERNAL', `the worker speaks protocol ${msg && msg.v}, this page ${PROTOCOL_VERSION}`));
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // a late event for a settled request
    if (msg.type === 'ok') {
      this.pending.delete(msg.id);
      p.resolve(msg.result);
    } else if (msg.type === 'error') {
      this.pending.delete(msg.id);
      const e = deserializeError(msg.error);
      if (msg.error && msg.error.lastRun) e.lastRun = msg.error.lastRun;
      p.reject(e);
    } else if (p.onEvent) {
      p.onEvent(msg);
    }
  }

  /** Sends a request; resolves with its result. */
  call(type, body = {}, { signal, onEvent, transfer } = {}) {
    if (this.dead) return Promise.reject(this.dead);
    if (signal && signal.aborted) return Promise.reject(abortError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let onAbort = null;
      const done = (fn) => (v) => {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        fn(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject), onEvent });
      if (signal) {
        onAbort = () => this.worker.postMessage(request(this.nextId++, 'abort', { target: id }));
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.worker.postMessage(request(id, type, body), transfer || []);
    });
  }

  terminate() {
    this.worker.terminate();
    this.#die(new SmolwebError('INTERNAL', 'the model was disposed'));
  }
}

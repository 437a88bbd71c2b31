// A module worker for tests/browser/cache_test.mjs: runs cache.js, device.js and
// a dynamic import of '@huggingface/jinja' inside a worker and posts back what
// happened ({ok: ..., ...} per check).
import { openCache } from '/src/cache.js';
import { detectDevice } from '/src/device.js';

self.onmessage = async ({ data }) => {
  const out = {};
  try {
    const c = await openCache();
    const url = `${self.location.origin}/models/w/layer-000.swc`;
    const bytes = new Uint8Array(2_500_000).map((_, i) => (i * 7) & 255);
    await c.put(url, data.sha, bytes);
    const back = new Uint8Array(await (await c.get(url, data.sha)).arrayBuffer());
    out.cache = { ok: back.length === bytes.length && back.every((b, i) => b === bytes[i]) };
    await c.remove(url, data.sha);
  } catch (e) {
    out.cache = { ok: false, error: String(e && e.stack) };
  }
  try {
    out.device = { ok: true, value: await detectDevice() };
  } catch (e) {
    out.device = { ok: false, error: String(e) };
  }
  try {
    const m = await import('@huggingface/jinja');
    out.jinja = { ok: typeof m.Template === 'function' };
  } catch (e) {
    out.jinja = { ok: false, error: String(e && e.message) };
  }
  self.postMessage(out);
};

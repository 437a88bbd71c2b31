// sw.js: the demo's service worker, so the page works offline.
//
// What it caches (in its own cache, CACHE below; it never touches the
// library's caches):
//   - the app shell: this folder's files, precached at install, plus whatever
//     the page and the library load from this origin (the library's modules
//     under ../src/, its worker, the wasm under ../../dist/): cached as they
//     pass through, and the page posts the URLs it loaded before this worker
//     took control ({type: 'cache-urls', urls}).
//   - models/index.json and every model's manifest.json.
// Everything it caches is served network-first with the cache as fallback:
// online, a rebuilt runtime or a new model shows up on the next reload;
// offline, the last copy answers. Model chunks (*.swc, *.swt, Range requests,
// anything else under models/) are not touched: the library downloads,
// verifies and caches those itself.
//
// It is registered with the scope of the site root (the demo server sends
// Service-Worker-Allowed: /), because the library's worker and wasm live
// outside web/demo/.
const CACHE = 'smolweb-demo-v1';
const DEMO = new URL('./', self.location).href;
const SHELL = ['./', './index.html', './style.css', './app.js', './text.js', './manifest.webmanifest',
  './icons/icon-192.png', './icons/icon-512.png'].map((p) => new URL(p, DEMO).href);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys())
      if (name.startsWith('smolweb-demo-') && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

// 'shell' (network-first, cached), 'model' (network-first, cached) or null (not ours)
function kind(request) {
  if (request.method !== 'GET' || request.headers.has('range')) return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  const p = url.pathname;
  if (p.endsWith('/models/index.json') || p.endsWith('/manifest.json')) return 'model';
  if (/\.(swc|swt)$/.test(p) || p.includes('/models/')) return null;
  return 'shell';
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (res.status === 200 && res.type === 'basic') await cache.put(request, res.clone());
    return res;
  } catch (err) {
    const hit = (await cache.match(request)) ||
      (request.mode === 'navigate' ? await cache.match(request, { ignoreSearch: true }) : undefined);
    if (hit) return hit;
    // the site root redirects to the demo when online; do the same offline
    if (request.mode === 'navigate' && new URL(request.url).pathname === new URL(self.registration.scope).pathname)
      return Response.redirect(DEMO, 302);
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  if (kind(event.request)) event.respondWith(networkFirst(event.request));
});

// The page's own files loaded before this worker controlled it: fetch and
// cache them now (each one independently; a failure only skips that file).
self.addEventListener('message', (event) => {
  const msg = event.data;
  if (!msg || msg.type !== 'cache-urls' || !Array.isArray(msg.urls)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(msg.urls.map(async (u) => {
      const req = new Request(u);
      if (kind(req) !== 'shell' && kind(req) !== 'model') return;
      if (await cache.match(req)) return;
      try {
        const res = await fetch(req);
        if (res.status === 200 && res.type === 'basic') await cache.put(req, res);
      } catch {
        /* offline: nothing to add */
      }
    }));
    event.source?.postMessage({ type: 'cached-urls', count: msg.urls.length });
  })());
});

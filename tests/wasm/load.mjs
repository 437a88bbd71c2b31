// load.mjs: loads a dist/ variant under Node 20 and wraps it in
// web/src/runtime.js.
//
//   const rt = await loadVariant('smolweb-simd');                 // or -scalar
//   const rt = await loadVariant('smolweb-simd-threads', { poolSize: 2 });
//
// emcc 3.1.6's ES-module loader still uses CommonJS `require` and `__dirname`
// on its Node path, and its default wasm fetch fails on file paths under
// Node 20, so this sets the two globals (before the loader is imported) and
// hands the loader the .wasm bytes. __dirname must be dist/: the threads
// build finds its pool's worker script (.worker.js) there. A process that
// loaded the threads build must call process.exit(): the pool's workers keep
// Node alive.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createRuntime } from '../../web/src/runtime.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.SMOLWEB_DIST || path.join(ROOT, 'dist');

globalThis.require ??= createRequire(import.meta.url);
globalThis.__dirname = DIST;

export async function loadVariant(name, { poolSize = 2 } = {}) {
  const file = path.join(DIST, `${name}.mjs`);
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run ./build_wasm.sh`);
  const { default: factory } = await import(file);
  return createRuntime(factory, { wasmBinary: fs.readFileSync(path.join(DIST, `${name}.wasm`)), smolwebPoolSize: poolSize });
}

/** Reads a file under dir as bytes (the readFile of tests/wasm/greedy.mjs). */
export const fileReader = (dir) => async (rel) => new Uint8Array(fs.readFileSync(path.join(dir, rel)));

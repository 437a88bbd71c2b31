// A Vite app's config for smolweb: these are the lines the README documents.
import { defineConfig } from 'vite';

export default defineConfig({
  // smolweb finds its worker and wasm files with new URL(..., import.meta.url);
  // Vite's dependency pre-bundling would move its code away from them
  optimizeDeps: { exclude: ['smolweb'] },
  // optional: wasm threads need a cross-origin isolated page (`vite preview`
  // sends these too; the server hosting the built site must send them as well)
  server: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The dashboard: React with Vite's built-in JSX transform (no plugin), Monaco bundled locally (workers through
 * `?worker` imports), built into `dist/dashboard/` and served by `apps/dashboard/src/dashboard.module.ts`.
 */
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: false,
    sourcemap: false,
  },
  worker: { format: 'es' },
  server: {
    // `npx vite --config apps/dashboard/web/vite.config.mts` against a running chatfn on :8080.
    proxy: Object.fromEntries(['/v1', '/oauth', '/admin', '/health'].map((p) => [p, 'http://127.0.0.1:8080'])),
  },
});

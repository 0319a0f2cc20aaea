import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The UI builds to static files in dist/, which the node serves at `/`. Preact's JSX runtime is
 * configured through Oxc (Vite 8's transformer), so no framework preset is needed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/allerac': 'http://127.0.0.1:8080',
      '/auth': 'http://127.0.0.1:8080',
      '/v1': 'http://127.0.0.1:8080',
    },
  },
});

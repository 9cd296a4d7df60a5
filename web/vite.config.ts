// The web app's build: `npm run build:web` (also run by `npm install` through
// `prepare`) writes web/dist, which `senseact ui` serves. Everything the page
// loads is in the bundle: no CDN, nothing fetched at run time.
// Development: `npx vite web` serves on 127.0.0.1:5173 and forwards /api to a
// running `senseact ui` on 127.0.0.1:8090.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // three.js and Rapier's inlined WASM are large; one lazy chunk holds them.
    chunkSizeWarningLimit: 8192,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: 'http://127.0.0.1:8090', ws: true } },
  },
});

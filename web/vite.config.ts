import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built into web/dist and served by `cdp serve --ui-dir web/dist`.
// `npm run dev` proxies /api to a running `cdp serve` (CDP_API, default :8080).
export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/api': process.env.CDP_API ?? 'http://127.0.0.1:8080' },
  },
});

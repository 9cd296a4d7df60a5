// Builds web/dist with Vite; `prepare` runs this on `npm install`. Without
// dev dependencies (npm install --omit=dev) there is no Vite: say so, exit 0.
import path from 'node:path';

const here = import.meta.dirname;
let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('web: vite is not installed (dev dependency); skipping the web app build. `senseact ui` needs it: npm install && npm run build:web');
  process.exit(0);
}
const t0 = performance.now();
await vite.build({ configFile: path.join(here, 'vite.config.ts'), root: here });
console.warn(`web: built web/dist in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

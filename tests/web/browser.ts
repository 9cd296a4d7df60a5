// Chromium for browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (never `npx playwright install`, which downloads). Without
// it the browser tests skip with a printed reason, unless
// SENSEACT_REQUIRE_WEBGPU=1 (CI), where a missing browser fails them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { BrowserContext } from 'playwright-core';
import { ROOT } from '../helpers/cli.ts';

export const CHROMIUM = process.env.SENSEACT_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  const reason = `${CHROMIUM} not found; install it with \`bash scripts/setup-browser.sh\``;
  if (process.env.SENSEACT_REQUIRE_WEBGPU === '1') throw new Error(`SENSEACT_REQUIRE_WEBGPU=1 but no browser for the web tests: ${reason}`);
  console.warn(`[senseact tests] browser tests skipped: ${reason}`);
  return false;
}

/** PLATFORM.md's flags, a fresh profile each time. */
export async function launchChromium(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; dispose: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    dispose: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Builds web/dist when it is missing or older than any source of the app. */
export function ensureWebBuilt(): void {
  const dist = path.join(ROOT, 'web/dist/index.html');
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'dist' || e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return t;
  };
  // The page bundles web/, teleop/ and the simulator (sim/browser.ts and what it imports).
  const sources = Math.max(...['web', 'teleop', 'sim', 'sensors'].map((d) => newest(path.join(ROOT, d))));
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'web/build.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`web build failed: ${r.stderr}`);
}

// Figures 2 and 3 in headless Chromium. The reference backend serves, on the
// same origin as the API, a tiny bench page at "/", the shared per-request loop
// (lib/overhead.mjs) at /overhead.mjs and the module at /dist/, from a
// throw-away static root whose files link to the real ones.
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startBackend } from './backend.mjs';
import { DIST_DIR } from './paths.mjs';

// The shared per-request loop, served beside the bench page.
const OVERHEAD_FILE = fileURLToPath(new URL('./overhead.mjs', import.meta.url));
const OVERHEAD_NAME = 'overhead.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// performance.now() counts from the navigation start of the page.
const BENCH_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>cleanslate bench</title></head><body>
<script type="module">
const importStart = performance.now();
const mod = await import('/dist/cleanslate.mjs');
const imported = performance.now();
const session = await mod.createSession({ apiBase: '/api/v1' });
const ready = performance.now();
window.benchSession = session;
window.benchCold = { importStart, imported, ready };
</script>
</body></html>
`;

function makeStaticRoot() {
  const root = mkdtempSync(join(tmpdir(), 'cleanslate-bench-page-'));
  mkdirSync(join(root, 'web', 'demo'), { recursive: true });
  writeFileSync(join(root, 'web', 'demo', 'index.html'), BENCH_PAGE);
  symlinkSync(DIST_DIR, join(root, 'web', 'dist'), 'dir');
  symlinkSync(OVERHEAD_FILE, join(root, 'web', 'demo', OVERHEAD_NAME), 'file');
  return root;
}

// Figure 3 inside the page: logs in, then runs lib/overhead.mjs as served
// beside the page. Imported only here, so the cold-start samples load nothing
// but the bench page and the module.
async function overheadInPage({ overheadName, plan }) {
  const { measureOverhead } = await import(new URL(overheadName, location.href).href);
  const session = window.benchSession;
  const login = await session.login('userA@test.com', 'password');
  if (!login.success) throw new Error(`login failed: ${login.code}`);
  return measureOverhead({
    session,
    path: '/user/profile',
    url: new URL('/api/v1/user/profile', location.href).href,
    token: localStorage.getItem('access_token'),
  }, plan);
}

export async function runBrowser({ coldSamples, overhead }) {
  if (!existsSync(CHROMIUM_PATH)) return { skipped: `no Chromium at ${CHROMIUM_PATH}` };
  const staticRoot = makeStaticRoot();
  const backend = await startBackend({ staticRoot });
  // launch() gives every run a fresh temporary profile (user-data dir).
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const result = { version: browser.version(), cold: [] };
  try {
    for (let i = 0; i < coldSamples; i++) {
      // A new context per sample: empty HTTP and code caches, new page.
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${backend.url}/`);
      await page.waitForFunction(() => window.benchCold, null, { timeout: 15_000 });
      const cold = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        return { ...window.benchCold, responseEnd: nav ? nav.responseEnd : NaN };
      });
      result.cold.push({ ...cold, errors });
      await context.close();
    }
    if (overhead) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${backend.url}/`);
      await page.waitForFunction(() => window.benchSession, null, { timeout: 15_000 });
      result.overhead = await page.evaluate(overheadInPage, { overheadName: OVERHEAD_NAME, plan: overhead });
      await context.close();
    }
  } finally {
    await browser.close();
    await backend.close();
    rmSync(staticRoot, { recursive: true, force: true });
  }
  return result;
}

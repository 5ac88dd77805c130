// Figures 2 and 3 in headless Chromium. The reference backend serves a tiny
// bench page at "/" (from a throw-away static root whose web/dist links to the
// real build output) and the module at /dist/, on the same origin as the API.
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startBackend } from './backend.mjs';
import { DIST_DIR } from './paths.mjs';

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
  return root;
}

// Same loop as children/client.mjs, inside the page.
async function overheadInPage({ rounds, perBlock, chunk, warmup }) {
  const session = window.benchSession;
  const login = await session.login('userA@test.com', 'password');
  if (!login.success) throw new Error(`login failed: ${login.code}`);
  const token = localStorage.getItem('access_token');
  const url = new URL('/api/v1/user/profile', location.href).href;
  let bad = 0;
  const rawGet = () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    xhr.setRequestHeader('Pragma', 'no-cache');
    xhr.setRequestHeader('Expires', '0');
    xhr.onload = () => resolve({ status: xhr.status, data: JSON.parse(xhr.responseText) });
    xhr.onerror = () => reject(new Error('network'));
    xhr.send();
  });
  const runSession = async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if ((await session.get('/user/profile')).status !== 200) bad++;
    return performance.now() - t0;
  };
  const runRaw = async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if ((await rawGet()).status !== 200) bad++;
    return performance.now() - t0;
  };
  await runSession(warmup);
  await runRaw(warmup);
  // Each round is perBlock requests of each kind, run in alternating sub-blocks
  // of `chunk`, so changes in machine load hit both sides alike.
  const sessionMs = [];
  const rawMs = [];
  let flip = false;
  for (let r = 0; r < rounds; r++) {
    let s = 0;
    let w = 0;
    for (let done = 0; done < perBlock; done += chunk) {
      const n = Math.min(chunk, perBlock - done);
      flip = !flip;
      if (flip) {
        s += await runSession(n);
        w += await runRaw(n);
      } else {
        w += await runRaw(n);
        s += await runSession(n);
      }
    }
    sessionMs.push(s);
    rawMs.push(w);
  }
  return { rounds, perBlock, chunk, warmup, sessionMs, rawMs, nonOk: bad };
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
      result.overhead = await page.evaluate(overheadInPage, overhead);
      await context.close();
    }
  } finally {
    await browser.close();
    await backend.close();
    rmSync(staticRoot, { recursive: true, force: true });
  }
  return result;
}

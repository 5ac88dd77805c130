// Figures 2 and 3 in headless Chromium. The reference backend serves, on the
// same origin as the API, a tiny bench page at "/", the shared per-request loop
// (lib/overhead.mjs) at /overhead.mjs and the module at /dist/, from a
// throw-away static root whose files link to the real ones. For the start-up
// comparison it also serves two one-line pages, /start-cleanslate.html and
// /start-ofetch.html, and ofetch bundled as an app would ship it (/ofetch.mjs).
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startBackend } from './backend.mjs';
import { DIST_DIR, ROOT } from './paths.mjs';

// The shared per-request loop, served beside the bench page.
const OVERHEAD_FILE = fileURLToPath(new URL('./overhead.mjs', import.meta.url));
const OVERHEAD_NAME = 'overhead.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Headless Chromium builds the omnibox popup (two chrome:// WebUI pages, in a
// renderer of their own) for every new window, so for every sample's new
// context, at the very moment the sample's page loads: about fifteen script
// loads and their evaluation compete with the page for the two cores, and
// the longer of two starts takes more of the hit. A user's page does not
// share its start with a new window's own UI, so the bench turns them off.
const QUIET_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

// Chromium keeps only the last --disable-features on its command line, and
// Playwright passes a list of its own. So a first, short launch reads that
// list back (Browser.getBrowserCommandLine needs --enable-automation), and the
// real one passes it again with QUIET_FEATURES added.
async function launchChromium() {
  const probe = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, '--enable-automation'] });
  let defaults;
  try {
    const cdp = await probe.newBrowserCDPSession();
    const { arguments: argv } = await cdp.send('Browser.getBrowserCommandLine');
    const flag = argv.find((a) => a.startsWith('--disable-features='));
    defaults = flag ? flag.slice('--disable-features='.length).split(',').filter(Boolean) : [];
  } finally {
    await probe.close();
  }
  const disabled = [...new Set([...defaults, ...QUIET_FEATURES])];
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, `--disable-features=${disabled.join(',')}`],
  });
  return { browser, disabledFeatures: disabled };
}

// The timed pages report their figures as one console message starting with
// this tag. Playwright's waitForFunction() and evaluate() would first inject
// its own helper scripts into the page (the larger one takes 40–70 ms of the
// page's main thread on this kind of machine), and that work would land
// inside the window being measured; a console message needs nothing in the
// page.
const REPORT_TAG = 'bench-report:';

// Resolves with the figures the page at `url` reports, or { error }.
async function timedPage(page, url) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const report = page.waitForEvent('console', { predicate: (m) => m.text().startsWith(REPORT_TAG), timeout: 15_000 })
    .then((m) => JSON.parse(m.text().slice(REPORT_TAG.length)), (e) => ({ error: String(e) }));
  await page.goto(url);
  const figures = await report;
  return errors.length && !figures.error ? { ...figures, error: errors[0] } : figures;
}

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
const nav = performance.getEntriesByType('navigation')[0];
console.log('${REPORT_TAG}' + JSON.stringify({ importStart, imported, ready, responseEnd: nav ? nav.responseEnd : NaN }));
</script>
</body></html>
`;

// Start-up pages: "import + ready to send". Both time from just before the
// dynamic import() to the moment a request could be made: for cleanslate,
// createSession() resolved (the wasm fetched, compiled and instantiated); for
// ofetch, the module evaluated and a client made with the API's base URL.
const startPage = (body) => `<!doctype html>
<html><head><meta charset="utf-8"><title>start-up</title></head><body>
<script type="module">
try {
  const t0 = performance.now();
  let imported = NaN;
  ${body.replace(/\n/g, '\n  ')}
  console.log('${REPORT_TAG}' + JSON.stringify({ ms: performance.now() - t0, importMs: imported - t0 }));
} catch (error) {
  console.log('${REPORT_TAG}' + JSON.stringify({ error: String(error) }));
}
</script>
</body></html>
`;
const START_PAGES = {
  cleanslate: startPage(`const { createSession } = await import('/dist/cleanslate.mjs');
imported = performance.now();
window.benchClient = await createSession({ apiBase: '/api/v1' });`),
  ofetch: startPage(`const { ofetch } = await import('/ofetch.mjs');
imported = performance.now();
window.benchClient = ofetch.create({ baseURL: '/api/v1' });`),
};

// ofetch's browser entry as one minified ES module (esbuild --bundle
// --minify, as an app would ship it), or null when ofetch is not installed.
async function bundleOfetch() {
  try {
    const out = await build({
      stdin: { contents: "export { ofetch } from 'ofetch';", resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0].contents;
  } catch {
    return null;
  }
}

function makeStaticRoot(ofetchBundle) {
  const root = mkdtempSync(join(tmpdir(), 'cleanslate-bench-page-'));
  const demo = join(root, 'web', 'demo');
  mkdirSync(demo, { recursive: true });
  writeFileSync(join(demo, 'index.html'), BENCH_PAGE);
  for (const [name, html] of Object.entries(START_PAGES)) writeFileSync(join(demo, `start-${name}.html`), html);
  if (ofetchBundle) writeFileSync(join(demo, 'ofetch.mjs'), ofetchBundle);
  symlinkSync(DIST_DIR, join(root, 'web', 'dist'), 'dir');
  symlinkSync(OVERHEAD_FILE, join(demo, OVERHEAD_NAME), 'file');
  return root;
}

// One cold start of a start-up page: a new context (empty HTTP and code
// caches, nothing shared with earlier samples) with the HTTP cache also
// turned off over CDP, then the page's own timing.
async function coldStart(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const timing = await timedPage(page, url);
    return timing.error ? { ms: NaN, importMs: NaN, error: timing.error } : { ms: timing.ms, importMs: timing.importMs };
  } finally {
    await context.close();
  }
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

export async function runBrowser({ coldSamples, startSamples, overhead }) {
  if (!existsSync(CHROMIUM_PATH)) return { skipped: `no Chromium at ${CHROMIUM_PATH}` };
  const ofetchBundle = await bundleOfetch();
  const staticRoot = makeStaticRoot(ofetchBundle);
  const backend = await startBackend({ staticRoot });
  // launch() gives every run a fresh temporary profile (user-data dir).
  const { browser, disabledFeatures } = await launchChromium();
  const result = { version: browser.version(), disabledFeatures, cold: [] };
  try {
    for (let i = 0; i < coldSamples; i++) {
      // A new context per sample: empty HTTP and code caches, new page.
      const context = await browser.newContext();
      const page = await context.newPage();
      const { error, ...cold } = await timedPage(page, `${backend.url}/`);
      if (error) throw new Error(`cold start page: ${error}`);
      result.cold.push(cold);
      await context.close();
    }
    // Start-up beside ofetch: the two alternate (which goes first flips every
    // round), so load on the shared machine hits both alike.
    if (startSamples) {
      if (!ofetchBundle) {
        result.start = { skipped: 'ofetch is not installed (npm ci)' };
      } else {
        const start = {
          cleanslate: [], ofetch: [], importMs: { cleanslate: [], ofetch: [] }, error: null,
          ofetchGzip: gzipSync(ofetchBundle, { level: 9 }).length,
        };
        for (let i = 0; i < startSamples; i++) {
          const order = i % 2 ? ['ofetch', 'cleanslate'] : ['cleanslate', 'ofetch'];
          for (const name of order) {
            const { ms, importMs, error } = await coldStart(browser, `${backend.url}/start-${name}.html`);
            start[name].push(ms);
            start.importMs[name].push(importMs);
            if (error && !start.error) start.error = `${name}: ${error.split('\n')[0]}`;
          }
        }
        result.start = start;
      }
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

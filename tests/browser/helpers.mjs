// Shared set-up for the browser tests: the reference server on an ephemeral port
// (fresh database, demo controls and request log on) and one small driver layer over puppeteer-core,
// so each test body is written once and runs in Debian's Chromium (over CDP) and
// Debian's Firefox ESR (over WebDriver BiDi). puppeteer-core for both, because it is
// the one client that drives stock Firefox; one API means no adapter per browser.
import { describe, test, before, after, afterEach } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const BROWSERS = ['chromium', 'firefox'];

// Debian's packages put them here; the variables override. A browser is never downloaded.
const SETUP = {
  chromium: {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    missing: 'install Debian\'s chromium (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary',
    options: {
      browser: 'chrome',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-component-update'],
      // puppeteer turns off Chromium's background-tab throttling by default; with it on,
      // a tab that is not in front is `hidden` and its timers run at most once a second,
      // as in a user's browser and as in Firefox, so both browsers test the same thing.
      ignoreDefaultArgs: [
        '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
        '--disable-renderer-backgrounding',
      ],
    },
  },
  firefox: {
    executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
    missing: 'install Debian\'s firefox-esr (apt-get install -y firefox-esr) or set FIREFOX_PATH to a Firefox binary',
    options: { browser: 'firefox' },
  },
};

export const USER_A = { email: 'userA@test.com', name: 'User A' };
export const USER_B = { email: 'userB@test.com', name: 'User B' };
export const LOGOUT_WARNING = '[Auth] Backend notification failed (non-critical):';
// The demo page creates its session with this logoutTimeoutMs.
export const DEMO_LOGOUT_TIMEOUT_MS = 3000;
export const DESKTOP = { width: 1200, height: 900 };

/** Starts a browser by name; throws (so the test fails, never skips) when it is not installed. */
export async function launchBrowser(name) {
  const setup = SETUP[name];
  if (!setup) throw new Error(`unknown browser "${name}" (known: ${BROWSERS.join(', ')})`);
  if (!existsSync(setup.executablePath)) {
    throw new Error(`${name} not found at ${setup.executablePath}: ${setup.missing}.`);
  }
  return puppeteer.launch({ executablePath: setup.executablePath, headless: true, ...setup.options });
}

/**
 * Defines a file's tests once per browser: a describe block per browser with its own
 * reference server and one launched browser (Firefox takes seconds to start). `define`
 * gets `env` ({ name, browser, server, newContext }) and `it`, node's `test` with the
 * browser's name in front of the title; when the browser or the server cannot start,
 * every test fails with the reason. Contexts made by env.newContext() are closed
 * after each test, also when it failed half-way. `serverOptions` go to
 * startDemoServer (e.g. `staticDirs` for a page the test built).
 */
export function forEachBrowser(define, { serverOptions = {} } = {}) {
  for (const name of BROWSERS) {
    describe(name, () => {
      const contexts = new Set();
      const env = {
        name,
        browser: null,
        server: null,
        async newContext() {
          const context = await env.browser.createBrowserContext();
          contexts.add(context);
          return context;
        },
      };
      let setupError = null;
      before(async () => {
        try {
          env.server = await startDemoServer(serverOptions);
          env.browser = await launchBrowser(name);
        } catch (err) {
          setupError = err; // thrown by every test below: a failed hook alone only cancels them
        }
      });
      afterEach(async () => {
        for (const context of contexts) await context.close().catch(() => {});
        contexts.clear();
      });
      after(async () => {
        await env.browser?.close();
        await env.server?.close();
      });
      define(env, (title, ...rest) => {
        const body = rest.pop();
        test(`${name}: ${title}`, ...rest, (t) => {
          if (setupError) throw setupError;
          return body(t);
        });
      });
    });
  }
}

/**
 * Starts the reference server with a throw-away database, the demo controls and
 * the request log on (entries keep no credentials: a refresh token shows only as
 * `refreshTokenHash`, its SHA-256 in hex); close() removes it again.
 */
export async function startDemoServer(options = {}) {
  const distEntry = join(ROOT, 'web', 'dist', 'cleanslate.mjs');
  if (!existsSync(distEntry)) {
    throw new Error('web/dist/cleanslate.mjs is missing: run "npm run build" before the browser tests.');
  }
  const { startServer } = await import('../../web/server/app.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'cleanslate-browser-'));
  const server = await startServer({
    port: 0, dbPath: join(dir, 'test.db'), controls: true, recordRequests: true, ...options,
  });
  const close = server.close.bind(server);
  server.close = async () => {
    try {
      await close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return server;
}

/**
 * Opens `url` in a new page (tab) of `context`. Console messages and uncaught page errors
 * are collected from before navigation; `init` runs in the page before any of its scripts.
 */
export async function openPage(context, url, { viewport = DESKTOP, init } = {}) {
  const page = await context.newPage();
  const consoleMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => consoleMessages.push({ type: msg.type(), text: msg.text() }));
  page.on('pageerror', (err) => pageErrors.push(String(err?.stack ?? err)));
  await page.setViewport(viewport);
  if (init) await page.evaluateOnNewDocument(init);
  await page.goto(url);
  return { page, consoleMessages, pageErrors };
}

/** Opens the demo in a new isolated context and waits until the session library is ready. */
export async function openDemo(env, { viewport } = {}) {
  const context = await env.newContext();
  const opened = await openPage(context, new URL('/', env.server.url).href, { viewport });
  await waitForReady(opened.page);
  return { context, ...opened };
}

export async function waitForReady(page) {
  await page.waitForSelector('[data-testid="app"][data-ready="true"]', { timeout: 10_000 });
}

// ---- elements by data-testid -------------------------------------------------

export const byTestId = (testId) => `[data-testid="${testId}"]`;

/**
 * "Shown" means rendered with a box and not hidden by CSS.
 * Waits until the element is shown (or, with `hidden: true`, until it is not) and,
 * when `text` (a string or RegExp) is given, its text matches. Re-checked on every
 * DOM change, not on a timer, so it is as quick in a background tab as in front.
 */
export async function waitForTestId(page, testId, { text, hidden = false, timeout = 5000 } = {}) {
  const pattern = text instanceof RegExp ? { source: text.source, flags: text.flags } : text;
  try {
    await page.waitForFunction((selector, wantHidden, pat) => {
      const el = document.querySelector(selector);
      const isShown = !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
      if (wantHidden) return !isShown;
      if (!isShown) return false;
      if (pat === undefined || pat === null) return true;
      const content = el.textContent;
      return typeof pat === 'string' ? content.includes(pat) : new RegExp(pat.source, pat.flags).test(content);
    }, { polling: 'mutation', timeout }, byTestId(testId), hidden, pattern ?? null);
  } catch (err) {
    const now = await textOf(page, testId).catch(() => '(no such element)');
    err.message = `${testId} ${hidden ? 'still shown' : `not shown${text ? ` with text ${text}` : ''}`}` +
      ` after ${timeout} ms (text now: ${JSON.stringify(now)}): ${err.message}`;
    throw err;
  }
}

/** Waits until the element is shown and its text contains `text`. */
export function waitForText(page, testId, text, timeout = 5000) {
  return waitForTestId(page, testId, { text, timeout });
}

/** Clicks the element once it is shown and enabled. */
export async function click(page, testId) {
  await page.locator(byTestId(testId)).setTimeout(5000).click();
}

/** Taps the element (touch input) once it is shown. */
export async function tap(page, testId) {
  const el = await page.waitForSelector(byTestId(testId), { visible: true, timeout: 5000 });
  await el.tap();
  await el.dispose();
}

/** Replaces the value of an input. */
export async function type(page, testId, text) {
  await page.locator(byTestId(testId)).setTimeout(5000).fill(text);
}

export async function selectOption(page, testId, value) {
  await page.select(byTestId(testId), value);
}

export function isVisible(page, testId) {
  return page.$eval(byTestId(testId),
    (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden');
}

export function textOf(page, testId) {
  return page.$eval(byTestId(testId), (el) => el.textContent);
}

export function attributeOf(page, testId, name) {
  return page.$eval(byTestId(testId), (el, n) => el.getAttribute(n), name);
}

/** The element's box in CSS pixels of the viewport, or null when it is not rendered. */
export async function boxOf(page, testId) {
  const el = await page.$(byTestId(testId));
  if (!el) return null;
  try {
    return await el.boundingBox();
  } finally {
    await el.dispose();
  }
}

// ---- demo flows ---------------------------------------------------------------

export async function signInWithButton(page, user) {
  await click(page, user === USER_A ? 'login-as-a' : 'login-as-b');
  await waitForText(page, 'profile-name', user.name);
}

/** Waits for the first page-log line containing `text`; resolves its data-kind (the line's level). */
export async function waitForLogLine(page, text, timeout = 5000) {
  const handle = await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="log-entry"]')]
    .find((li) => li.textContent.includes(t))?.dataset.kind, { polling: 'mutation', timeout }, text);
  return handle.jsonValue();
}

// The README picture (scripts/screenshot.mjs) and the screenshot test stage the same scene.
export const SCREENSHOT_VIEWPORT = { width: 1000, height: 700 };

/** A short story for the log: A signs out while the backend hangs, then B signs in. */
export async function stageScreenshotScene(page) {
  await signInWithButton(page, USER_A);
  await selectOption(page, 'fault-select', 'hang');
  await click(page, 'fault-apply');
  await waitForText(page, 'fault-status', 'never answers');
  await click(page, 'logout-button');
  await waitForLogLine(page, LOGOUT_WARNING, DEMO_LOGOUT_TIMEOUT_MS + 10_000);
  await waitForText(page, 'fault-status', 'healthy');
  await signInWithButton(page, USER_B);
  await waitForText(page, 'session-expiry', /\d\d:\d\d/);
  await page.waitForSelector('[data-testid="profile-panel"][aria-busy="false"]', { timeout: 5000 });
  // Nothing keyboard-focused in the picture.
  await page.evaluate(() => document.activeElement?.blur());
}

export async function storedTokens(page) {
  return page.evaluate(() => ({
    access: localStorage.getItem('access_token'),
    refresh: localStorage.getItem('refresh_token'),
  }));
}

/** The JSON payload of a JWT, or null. */
export function jwtPayload(token) {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

export async function logText(page) {
  return page.$eval(byTestId('log'), (el) => el.innerText);
}

export function problems({ consoleMessages, pageErrors }, types = ['error']) {
  return [
    ...consoleMessages.filter((m) => types.includes(m.type)).map((m) => `console.${m.type}: ${m.text}`),
    ...pageErrors.map((e) => `pageerror: ${e}`),
  ];
}

/** How many events of `type` the page's window.events log holds (tests keep that log). */
export const eventCount = (page, type) => page.evaluate((t) => window.events.filter((e) => e.type === t).length, type);

/**
 * Resolves once the page has seen more than `seen` events of `type`. Woken by the event
 * itself, not by a timer: a background tab's timers may run only once a second.
 */
export async function waitForEvent(page, type, seen = 0, timeout = 5000) {
  await page.evaluate((t, n, ms) => new Promise((resolve, reject) => {
    const count = () => window.events.filter((e) => e.type === t).length;
    if (count() > n) return resolve();
    const timer = setTimeout(() => reject(new Error(`no new ${t} event within ${ms} ms (${count()} seen)`)), ms);
    addEventListener(t, function onEvent() {
      if (count() <= n) return;
      clearTimeout(timer);
      removeEventListener(t, onEvent);
      resolve();
    });
  }), type, seen, timeout);
}

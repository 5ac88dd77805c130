// Shared set-up for the browser tests: the reference server on an ephemeral port
// (fresh database, demo controls on) and Debian's Chromium driven by playwright-core.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Debian's package puts it here; CHROMIUM_PATH overrides. A browser is never downloaded.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const USER_A = { email: 'userA@test.com', name: 'User A' };
export const USER_B = { email: 'userB@test.com', name: 'User B' };
export const LOGOUT_WARNING = '[Auth] Backend notification failed (non-critical):';
// The demo page creates its session with this logoutTimeoutMs.
export const DEMO_LOGOUT_TIMEOUT_MS = 3000;

/** Starts the browser; throws (so the test fails, never skips) when Chromium is missing. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The browser tests need Debian's chromium ` +
      '(apt-get install -y chromium) or CHROMIUM_PATH pointing at a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Starts the reference server with a throw-away database; close() removes it again. */
export async function startDemoServer(options = {}) {
  const distEntry = join(ROOT, 'web', 'dist', 'cleanslate.mjs');
  if (!existsSync(distEntry)) {
    throw new Error('web/dist/cleanslate.mjs is missing: run "npm run build" before the browser tests.');
  }
  const { startServer } = await import('../../web/server/app.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'cleanslate-browser-'));
  const server = await startServer({ port: 0, dbPath: join(dir, 'test.db'), controls: true, ...options });
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
 * Opens the demo in a fresh browser context and waits until the session library is ready.
 * Console messages and uncaught page errors are collected from before navigation.
 */
export async function openDemo(browser, server, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  const consoleMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => consoleMessages.push({ type: msg.type(), text: msg.text() }));
  page.on('pageerror', (err) => pageErrors.push(String(err?.stack ?? err)));
  await page.goto(new URL('/', server.url).href);
  await waitForReady(page);
  return { context, page, consoleMessages, pageErrors };
}

export async function waitForReady(page) {
  await page.locator('[data-testid="app"][data-ready="true"]').waitFor({ state: 'attached', timeout: 10_000 });
}

/** Waits until the element's text contains `text` (the element must be visible). */
export async function waitForText(page, testId, text, timeout = 5000) {
  await page.getByTestId(testId).filter({ hasText: text }).waitFor({ state: 'visible', timeout });
}

export async function signInWithButton(page, user) {
  await page.getByTestId(user === USER_A ? 'login-as-a' : 'login-as-b').click();
  await waitForText(page, 'profile-name', user.name);
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
  return page.getByTestId('log').innerText();
}

export function problems({ consoleMessages, pageErrors }, types = ['error']) {
  return [
    ...consoleMessages.filter((m) => types.includes(m.type)).map((m) => `console.${m.type}: ${m.text}`),
    ...pageErrors.map((e) => `pageerror: ${e}`),
  ];
}

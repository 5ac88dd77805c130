// Logout while the backend cannot be notified: the page is back at the sign-in view at
// once, the warning line shows up after at most logoutTimeoutMs, and the next user is unaffected.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, startDemoServer, openDemo, signInWithButton, storedTokens, logText,
  USER_A, USER_B, LOGOUT_WARNING, DEMO_LOGOUT_TIMEOUT_MS,
} from './helpers.mjs';

let browser;
let server;

before(async () => {
  server = await startDemoServer();
  browser = await launchBrowser();
});

afterEach(() => server.clearFaults());

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Clicks sign out and returns the milliseconds until the sign-in view is visible. */
async function clickLogoutAndTimeIt(page) {
  const started = Date.now();
  await page.getByTestId('logout-button').click();
  await page.getByTestId('login-view').waitFor({ state: 'visible', timeout: 1000 });
  return Date.now() - started;
}

async function waitForWarningLine(page, timeout) {
  const line = page.getByTestId('log-entry').filter({ hasText: LOGOUT_WARNING });
  await line.first().waitFor({ state: 'visible', timeout });
  return line.first();
}

test('backend hangs on logout: instant sign-out, warning within the timeout, B unaffected', { timeout: 30_000 }, async () => {
  const { page, context, consoleMessages } = await openDemo(browser, server);
  await signInWithButton(page, USER_A);
  const logoutsBefore = server.stats.logout;
  server.fault('POST /auth/logout', { mode: 'hang', times: 1 });

  const elapsed = await clickLogoutAndTimeIt(page);
  const clickedAt = Date.now() - elapsed;
  assert.ok(elapsed < 1000, `sign-in view took ${elapsed} ms`);
  assert.deepEqual(await storedTokens(page), { access: null, refresh: null }, 'tokens cleared before the backend answered');
  assert.equal(await page.getByTestId('session-user').textContent(), '—');

  // The next user signs in while A's notification is still hanging.
  await signInWithButton(page, USER_B);
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_B.email);

  const line = await waitForWarningLine(page, DEMO_LOGOUT_TIMEOUT_MS + 1000);
  const warnedAfter = Date.now() - clickedAt;
  assert.ok(warnedAfter <= DEMO_LOGOUT_TIMEOUT_MS + 1000, `warning after ${warnedAfter} ms`);
  assert.equal(await line.getAttribute('data-kind'), 'warn', 'the line is logged as a warning');
  assert.ok(
    consoleMessages.some((m) => m.type === 'warning' && m.text.startsWith(LOGOUT_WARNING)),
    'the warning also went to the browser console',
  );
  assert.ok(server.stats.logout === logoutsBefore, 'the hung logout never reached the handler');

  // A's failed notification did not touch B's session.
  await page.waitForTimeout(200);
  assert.equal(await page.getByTestId('account-view').isVisible(), true, 'B is still signed in');
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_B.email);
  const tokensB = await storedTokens(page);
  assert.ok(tokensB.access && tokensB.refresh, "B's tokens are still stored");

  // The log shows lines in the contract's order, and never a token.
  const text = await logText(page);
  const order = ['[Auth] Logging out', '[Auth] Tokens cleared from localStorage', 'auth:logout', LOGOUT_WARNING];
  assert.ok(order.every((s) => text.includes(s)), `log misses a logout line:\n${text}`);
  assert.ok(text.indexOf('[Auth] Logging out') < text.indexOf('[Auth] Tokens cleared from localStorage'));
  assert.ok(!text.includes(tokensB.access) && !text.includes(tokensB.refresh), 'a token appeared in the log');

  await context.close();
});

test('"Unreachable" from the backend-trouble control: instant sign-out and the warning', { timeout: 30_000 }, async () => {
  const { page, context } = await openDemo(browser, server);
  await page.getByTestId('fault-select').selectOption('drop');
  await page.getByTestId('fault-apply').click();
  await page.getByTestId('fault-status').filter({ hasText: 'dropped' }).waitFor({ timeout: 2000 });

  await signInWithButton(page, USER_A);
  const requestsBefore = server.requests.length;
  const elapsed = await clickLogoutAndTimeIt(page);
  assert.ok(elapsed < 1000, `sign-in view took ${elapsed} ms`);
  assert.deepEqual(await storedTokens(page), { access: null, refresh: null });

  try {
    await waitForWarningLine(page, DEMO_LOGOUT_TIMEOUT_MS + 1000);
  } catch (err) {
    const attempts = server.requests.slice(requestsBefore).filter((r) => r.method === 'POST' && r.path === '/auth/logout');
    if (attempts.length > 1) {
      // Chromium transparently re-sends a request whose reused keep-alive connection closed
      // before any response byte; a fault that drops only one request is then invisible.
      assert.fail(`the "drop" fault dropped only the first of ${attempts.length} logout POSTs: Chromium retried ` +
        'on a new connection and the retry succeeded, so the page never saw the backend as unreachable');
    }
    throw err;
  }
  // The page tells the visitor what happened, and the one-shot fault is used up.
  await page.getByTestId('status').filter({ hasText: 'could not be notified' }).waitFor({ timeout: 2000 });
  await page.getByTestId('fault-status').filter({ hasText: 'healthy' }).waitFor({ timeout: 2000 });

  await context.close();
});

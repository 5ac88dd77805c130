// Logout while the backend cannot be notified: the page is back at the sign-in view at
// once, the warning line shows up after at most logoutTimeoutMs, and the next user is
// unaffected. Runs in every browser of helpers.mjs. Durations are taken in page time
// (performance.now() in the page), so a busy test machine does not add its round trips.
import assert from 'node:assert/strict';
import {
  forEachBrowser, openDemo, signInWithButton, storedTokens, logText, waitForTestId, waitForText, click,
  selectOption, textOf, isVisible, waitForLogLine,
  USER_A, USER_B, LOGOUT_WARNING, DEMO_LOGOUT_TIMEOUT_MS,
} from './helpers.mjs';

// "At once" for the view switch, and the slack on logoutTimeoutMs: generous, because on a
// loaded machine a page's timers and tasks run late; a logout that waited for the
// backend (a hang never ends) is still far outside either bound.
const VIEW_SWITCH_LIMIT_MS = 1000;
const TIMEOUT_SLACK_MS = 1000;

/**
 * Arms a clock in the page: page-time stamps of the click on sign out, of the sign-in
 * view being shown and of the first backend-notification warning in the page log.
 */
async function armLogoutClock(page) {
  await page.evaluate((warning) => {
    const stamps = { clicked: null, signInShown: null, warned: null };
    window.logoutClock = stamps;
    const byId = (id) => document.querySelector(`[data-testid="${id}"]`);
    byId('logout-button').addEventListener('click', () => { stamps.clicked = performance.now(); }, { capture: true, once: true });
    new MutationObserver(() => {
      if (stamps.clicked === null) return;
      if (stamps.signInShown === null && !byId('login-view').hidden) stamps.signInShown = performance.now();
      const warned = [...document.querySelectorAll('[data-testid="log-entry"]')].some((li) => li.textContent.includes(warning));
      if (stamps.warned === null && warned) stamps.warned = performance.now();
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, LOGOUT_WARNING);
}

/** Milliseconds of page time from the click on sign out to each stamp (null if not reached). */
async function logoutClock(page) {
  return page.evaluate(() => {
    const { clicked, signInShown, warned } = window.logoutClock;
    const since = (t) => (t === null || clicked === null ? null : Math.round(t - clicked));
    return { signInShown: since(signInShown), warned: since(warned) };
  });
}

forEachBrowser((env, it) => {
  it('backend hangs on logout: instant sign-out, warning within the timeout, B unaffected', { timeout: 30_000 }, async () => {
    const { server } = env;
    const { page, consoleMessages } = await openDemo(env);
    await signInWithButton(page, USER_A);
    const logoutsBefore = server.stats.logout;
    server.fault('POST /auth/logout', { mode: 'hang', times: 1 });

    await armLogoutClock(page);
    await click(page, 'logout-button');
    await waitForTestId(page, 'login-view', { timeout: 5000 });
    const { signInShown } = await logoutClock(page);
    assert.ok(signInShown !== null && signInShown < VIEW_SWITCH_LIMIT_MS, `sign-in view took ${signInShown} ms of page time`);
    assert.deepEqual(await storedTokens(page), { access: null, refresh: null }, 'tokens cleared before the backend answered');
    assert.equal(await textOf(page, 'session-user'), '—');

    // The next user signs in while A's notification is still hanging.
    await signInWithButton(page, USER_B);
    assert.equal(await textOf(page, 'profile-email'), USER_B.email);
    assert.equal((await logoutClock(page)).warned, null, "B signed in before A's notification gave up");

    const kind = await waitForLogLine(page, LOGOUT_WARNING, DEMO_LOGOUT_TIMEOUT_MS + 10_000);
    const { warned } = await logoutClock(page);
    assert.ok(warned <= DEMO_LOGOUT_TIMEOUT_MS + TIMEOUT_SLACK_MS,
      `warning ${warned} ms of page time after the click, logoutTimeoutMs is ${DEMO_LOGOUT_TIMEOUT_MS}`);
    assert.equal(kind, 'warn', 'the line is logged as a warning');
    assert.ok(
      consoleMessages.some((m) => m.type === 'warn' && m.text.startsWith(LOGOUT_WARNING)),
      `the warning also went to the browser console: ${JSON.stringify(consoleMessages.filter((m) => m.type !== 'log'))}`,
    );
    assert.equal(server.stats.logout, logoutsBefore, 'the hung logout never reached the handler');

    // A's failed notification did not touch B's session. The warning is written as A's
    // notice ends and logout() settles in that same turn, so these checks see all it did.
    assert.equal(await isVisible(page, 'account-view'), true, 'B is still signed in');
    assert.equal(await textOf(page, 'profile-email'), USER_B.email);
    const tokensB = await storedTokens(page);
    assert.ok(tokensB.access && tokensB.refresh, "B's tokens are still stored");

    // The log shows lines in the contract's order, and never a token.
    const text = await logText(page);
    const order = ['[Auth] Logging out', '[Auth] Tokens cleared from localStorage', 'auth:logout', LOGOUT_WARNING];
    assert.ok(order.every((s) => text.includes(s)), `log misses a logout line:\n${text}`);
    assert.ok(text.indexOf('[Auth] Logging out') < text.indexOf('[Auth] Tokens cleared from localStorage'));
    assert.ok(!text.includes(tokensB.access) && !text.includes(tokensB.refresh), 'a token appeared in the log');
  });

  it('"Unreachable" from the backend-trouble control: instant sign-out and the warning', { timeout: 30_000 }, async () => {
    const { server } = env;
    const { page } = await openDemo(env);
    await selectOption(page, 'fault-select', 'drop');
    await click(page, 'fault-apply');
    await waitForText(page, 'fault-status', 'dropped');

    await signInWithButton(page, USER_A);
    const requestsBefore = server.requests.length;
    await armLogoutClock(page);
    await click(page, 'logout-button');
    await waitForTestId(page, 'login-view', { timeout: 5000 });
    const { signInShown } = await logoutClock(page);
    assert.ok(signInShown !== null && signInShown < VIEW_SWITCH_LIMIT_MS, `sign-in view took ${signInShown} ms of page time`);
    assert.deepEqual(await storedTokens(page), { access: null, refresh: null });

    try {
      await waitForLogLine(page, LOGOUT_WARNING, DEMO_LOGOUT_TIMEOUT_MS + 10_000);
    } catch (err) {
      const attempts = server.requests.slice(requestsBefore).filter((r) => r.method === 'POST' && r.path === '/auth/logout');
      if (attempts.length > 1) {
        // A browser may transparently re-send a request whose reused keep-alive connection
        // closed before any response byte; a fault that drops only one request is then invisible.
        assert.fail(`the "drop" fault dropped only the first of ${attempts.length} logout POSTs: the browser retried ` +
          'on a new connection and the retry succeeded, so the page never saw the backend as unreachable');
      }
      throw err;
    }
    const { warned } = await logoutClock(page);
    assert.ok(warned <= DEMO_LOGOUT_TIMEOUT_MS + TIMEOUT_SLACK_MS, `warning ${warned} ms of page time after the click`);
    // The page tells the visitor what happened, and the one-shot fault is used up.
    await waitForText(page, 'status', 'could not be notified');
    await waitForText(page, 'fault-status', 'healthy');
  });
});

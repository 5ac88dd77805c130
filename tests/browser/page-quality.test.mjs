// Demo page quality: a clean console, phone width without horizontal scrolling, and
// sign-in / sign-out with the keyboard alone. Runs in every browser of helpers.mjs.
import assert from 'node:assert/strict';
import {
  forEachBrowser, openDemo, signInWithButton, waitForText, waitForTestId, problems, storedTokens, click, tap,
  isVisible, boxOf, logText,
  USER_A, USER_B,
} from './helpers.mjs';

forEachBrowser((env, it) => {
  it('no console errors or warnings on load and through a login/logout cycle', { timeout: 30_000 }, async () => {
    const failedRequests = [];
    const demo = await openDemo(env);
    const { page } = demo;
    page.on('requestfailed', (req) => failedRequests.push(`${req.method()} ${req.url()}`));
    page.on('response', (res) => {
      if (res.status() >= 400) failedRequests.push(`${res.status()} ${res.url()}`);
    });
    await page.waitForNetworkIdle({ idleTime: 300, timeout: 10_000 });
    assert.deepEqual(problems(demo, ['error', 'warn']), [], 'console on load');
    assert.equal(await isVisible(page, 'fatal'), false, 'the library loaded');
    assert.equal(await isVisible(page, 'login-view'), true);

    await signInWithButton(page, USER_A);
    const tokens = await storedTokens(page);
    assert.ok(tokens.access && tokens.refresh, 'A holds both tokens after login');
    await click(page, 'logout-button');
    await waitForText(page, 'status', 'revoked');
    await page.waitForNetworkIdle({ idleTime: 300, timeout: 10_000 });

    assert.deepEqual(problems(demo, ['error', 'warn']), [], 'console after login/logout');
    assert.deepEqual(failedRequests, [], 'failed requests');

    // The library's lines at logLevel 'info', in the contract's order, reached the console
    // and the page log; none of them carries a token.
    const libraryLines = demo.consoleMessages.map((m) => m.text).filter((t) => /^\[(Auth|CSRF|API)\]/.test(t));
    assert.deepEqual(libraryLines.filter((t) => !t.startsWith('[API] ') || t.includes('reset')), [
      `[Auth] Attempting login for: ${USER_A.email}`,
      '[CSRF] Fetching fresh token for new session',
      '[Auth] Login successful, storing tokens',
      '[Auth] Logging out',
      '[CSRF] Token cache reset for new session',
      '[API] Interceptor state reset for new session',
      '[Auth] API state reset complete',
      '[Auth] Tokens cleared from localStorage',
      '[Auth] Backend logout notification successful',
    ]);
    for (const m of demo.consoleMessages) {
      assert.ok(!m.text.includes(tokens.access) && !m.text.includes(tokens.refresh), `token in console: ${m.text}`);
    }
    const logged = await logText(page);
    assert.match(logged, /\[Auth\] Backend logout notification successful/);
    assert.ok(!logged.includes(tokens.access) && !logged.includes(tokens.refresh), 'token in the page log');
  });

  it('phone width (375 px): buttons usable, no horizontal scroll', { timeout: 30_000 }, async () => {
    const demo = await openDemo(env, {
      viewport: { width: 375, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    });
    const { page } = demo;
    const scrollWidth = () => page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.equal(await page.evaluate(() => innerWidth), 375, 'the page is laid out at phone width');

    assert.ok(await scrollWidth() <= 375, `login view scrolls sideways (${await scrollWidth()} px)`);
    for (const id of ['login-as-a', 'login-as-b', 'login-submit']) {
      const box = await boxOf(page, id);
      assert.ok(box, `${id} is rendered`);
      assert.ok(box.x >= 0 && box.x + box.width <= 375, `${id} fits the width: ${JSON.stringify(box)}`);
      assert.ok(box.height >= 36, `${id} is a usable tap target: ${box.height} px`);
      assert.equal(await isVisible(page, id), true);
    }

    await tap(page, 'login-as-a');
    await waitForText(page, 'profile-name', USER_A.name);
    // Long log lines must wrap, not widen the page.
    assert.ok(await scrollWidth() <= 375, `signed-in view scrolls sideways (${await scrollWidth()} px)`);
    const logout = await boxOf(page, 'logout-button');
    assert.ok(logout && logout.x + logout.width <= 375);

    await tap(page, 'logout-button');
    await waitForTestId(page, 'login-view');
    assert.ok(await scrollWidth() <= 375);
    assert.deepEqual(problems(demo), []);
  });

  it('keyboard only: Tab reaches the sign-in buttons, Enter submits the form', { timeout: 30_000 }, async () => {
    const demo = await openDemo(env);
    const { page } = demo;
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName);

    // Tab order from the top of the page.
    const order = [];
    for (let i = 0; i < 12 && !order.includes('login-as-b'); i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    const at = (id) => order.indexOf(id);
    for (const id of ['login-email', 'login-password', 'login-submit', 'login-as-a', 'login-as-b']) {
      assert.ok(at(id) >= 0, `Tab never reached ${id}; order: ${order.join(' → ')}`);
    }
    assert.ok(at('login-email') < at('login-password') && at('login-password') < at('login-submit'));
    assert.ok(at('login-submit') < at('login-as-a') && at('login-as-a') < at('login-as-b'));
    // A visible focus indicator on the focused button.
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement);
      return { shadow: s.boxShadow, outline: s.outlineStyle };
    });
    assert.ok(ring.shadow !== 'none' || ring.outline !== 'none', `no focus style: ${JSON.stringify(ring)}`);

    // Type the credentials and press Enter in the password field.
    await page.focus('[data-testid="login-email"]');
    await page.keyboard.type(USER_A.email);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'login-password');
    await page.keyboard.type('password');
    await page.keyboard.press('Enter');
    await waitForText(page, 'profile-name', USER_A.name);

    // Sign out with the keyboard: Tab to the button, press Enter.
    let steps = 0;
    while ((await focused()) !== 'logout-button' && steps++ < 10) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'logout-button', 'Tab reaches the sign-out button');
    await page.keyboard.press('Enter');
    await waitForTestId(page, 'login-view');
    assert.equal(await focused(), 'login-email', 'focus returns to the form after sign-out');

    // A wrong password is reported inline.
    await page.keyboard.type(USER_B.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong-password');
    await page.keyboard.press('Enter');
    await waitForText(page, 'login-error', 'Invalid credentials');
    assert.equal(await isVisible(page, 'login-view'), true);

    // A demo-account button works with Space.
    steps = 0;
    while ((await focused()) !== 'login-as-b' && steps++ < 10) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'login-as-b', 'Tab reaches the demo-account button');
    await page.keyboard.press(' '); // the space bar (BiDi knows no key named "Space")
    await waitForText(page, 'profile-name', USER_B.name);
    // Chromium itself reports the refused login's 401 as a console error; nothing else may appear.
    assert.deepEqual(problems(demo).filter((p) => !/status of 401/.test(p)), []);
  });
});

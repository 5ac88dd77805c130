// One session across the tabs of a browser: logout and login propagate (also into a
// background tab, whose timers the browser throttles), and tabs whose tokens expired
// together refresh once. Several pages (tabs) of one context, each with its own session
// object, against the real reference backend; in every browser of helpers.mjs. Only the
// tab opened last is in front: the others are background tabs, as they would be for a user.
import assert from 'node:assert/strict';
import { eventCount, forEachBrowser, openPage, waitForEvent } from './helpers.mjs';

// Removes what older browsers lack: BroadcastChannel and Web Locks.
function withoutModernApis() {
  delete window.BroadcastChannel;
  Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
}

async function startSession(page, options) {
  await page.evaluate(async (opts) => {
    const { createSession } = await import('/dist/cleanslate.mjs');
    if (window.session) window.session.dispose();
    window.events = window.events || [];
    if (!window.listening) {
      for (const type of ['auth:login', 'auth:logout', 'auth:refresh']) {
        addEventListener(type, (e) => window.events.push({ type, detail: e.detail, at: Date.now() }));
      }
      window.listening = true;
    }
    window.session = await createSession({ apiBase: '/api/v1', logLevel: 'silent', ...opts });
  }, options);
}

const state = (page) =>
  page.evaluate(() => ({
    authenticated: window.session.isAuthenticated(),
    user: window.session.user,
    local: localStorage.getItem('access_token'),
    localRefresh: localStorage.getItem('refresh_token'),
    sessionStored: sessionStorage.getItem('access_token'),
    events: window.events,
  }));

async function login(page, email) {
  const result = await page.evaluate((e) => window.session.login(e, 'password'), email);
  assert.equal(result.success, true, `login of ${email} failed: ${JSON.stringify(result)}`);
  return result;
}

forEachBrowser((env, it) => {
  /** Opens `count` tabs of one new context, each with a session and an event log on window. */
  async function openTabs(count, options = {}, { init } = {}) {
    const context = await env.newContext();
    const pages = [];
    for (let i = 0; i < count; i++) {
      // Any document of the origin will do.
      const { page } = await openPage(context, `${env.server.apiBase}/public/ping`, { init });
      await startSession(page, options);
      pages.push(page);
    }
    return { context, pages };
  }

  /**
   * Moves the server's token clock past the access token's lifetime (no real waiting),
   * gives each tab a fresh session (restored from storage), then has all of them
   * request at once. Resolves the statuses (or error codes) and how many refreshes
   * reached the backend.
   */
  async function requestAllAfterExpiry(pages) {
    for (const page of pages) await page.evaluate(() => window.session.dispose());
    env.server.advanceClock(901_000); // the default accessTtlSec is 900
    for (const page of pages) await startSession(page, {});
    const before = env.server.stats.refresh;
    const results = await Promise.all(
      pages.map((page) => page.evaluate(() => window.session.get('/user/profile').then((r) => r.status, (e) => e.code))),
    );
    return { results, refreshes: env.server.stats.refresh - before };
  }

  it('logout in one tab ends the session in the others within a second (median over 20)', { timeout: 120_000 }, async () => {
    const { pages } = await openTabs(3);
    const [one, two, three] = pages;
    const delays = [];
    for (let round = 0; round < 20; round++) {
      const logins = await Promise.all([two, three].map((p) => eventCount(p, 'auth:login')));
      await login(one, 'userA@test.com');
      // Wait for the login message itself, not just the shared storage.
      await waitForEvent(two, 'auth:login', logins[0]);
      await waitForEvent(three, 'auth:login', logins[1]);
      const counts = await Promise.all([two, three].map((p) => eventCount(p, 'auth:logout')));
      // The notice goes out after auth:logout fires, so it may still be on its way when the
      // other tabs have caught up; each round waits for it, and the count below is final.
      const noticeAnswered = env.server.waitForResponse((r) => r.path === '/auth/logout');
      const firedAt = await one.evaluate(async () => {
        const seen = new Promise((resolve) => addEventListener('auth:logout', (e) => resolve(e.detail.timestamp), { once: true }));
        window.session.logout();
        return seen;
      });
      for (const [i, page] of [two, three].entries()) {
        await waitForEvent(page, 'auth:logout', counts[i]);
        const s = await state(page);
        const last = s.events.filter((e) => e.type === 'auth:logout').at(-1);
        assert.equal(last.detail.reason, 'remote');
        assert.equal(s.authenticated, false);
        assert.equal(s.user, null);
        assert.equal(s.local, null);
        delays.push(last.at - firedAt);
      }
      assert.equal((await noticeAnswered).status, 200, `round ${round}: the logout notice`);
    }
    delays.sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)];
    console.log(`${env.name}: cross-tab logout propagation: median ${median} ms, max ${delays.at(-1)} ms over ${delays.length}`);
    assert.ok(delays.at(-1) <= 1000, `slowest propagation ${delays.at(-1)} ms`);
    // Only the tab that logged out told the backend, once per round.
    assert.equal(env.server.requests.filter((r) => r.path === '/auth/logout').length, 20);
  });

  it('login in one tab is picked up by another as the same user', async () => {
    const { pages: [one, two] } = await openTabs(2);
    await login(one, 'userB@test.com');
    await waitForEvent(two, 'auth:login');
    const s = await state(two);
    assert.equal(s.authenticated, true);
    assert.equal(s.user.email, 'userB@test.com');
    assert.equal(s.events.find((e) => e.type === 'auth:login').detail.user.email, 'userB@test.com');
    const profile = await two.evaluate(() => window.session.get('/user/profile').then((r) => r.data));
    assert.equal(profile.email, 'userB@test.com');
    await one.evaluate(() => window.session.logout());
  });

  it('a background tab (hidden, throttled timers) joins a login and ends with a logout of the tab in front', async () => {
    const { pages: [background, front] } = await openTabs(2);
    await front.bringToFront();
    assert.equal(await background.evaluate(() => document.visibilityState), 'hidden', 'the first tab is in the background');
    assert.equal(await front.evaluate(() => document.visibilityState), 'visible');
    // Two 10 ms timers in a row: a background tab gets about one timer wake-up a second
    // (Firefox clamps each timer to 1 s; Chromium aligns wake-ups to whole seconds and
    // lets a 0 ms timer through, hence 10 ms).
    const twoTimersMs = await background.evaluate(() => new Promise((resolve) => {
      const start = performance.now();
      setTimeout(() => setTimeout(() => resolve(performance.now() - start), 10), 10);
    }));
    assert.ok(twoTimersMs >= 900, `the background tab's timers are throttled (two took ${Math.round(twoTimersMs)} ms)`);

    await login(front, 'userB@test.com');
    await waitForEvent(background, 'auth:login');
    let s = await state(background);
    assert.equal(s.authenticated, true, 'the background tab joined the session');
    assert.equal(s.user?.email, 'userB@test.com');
    const profile = await background.evaluate(() => window.session.get('/user/profile').then((r) => r.data));
    assert.equal(profile.email, 'userB@test.com', 'the background tab calls the API as the new user');

    await front.evaluate(() => window.session.logout());
    await waitForEvent(background, 'auth:logout');
    s = await state(background);
    assert.equal(s.events.filter((e) => e.type === 'auth:logout').at(-1).detail.reason, 'remote');
    assert.equal(s.authenticated, false);
    assert.equal(s.user, null);
    assert.equal(s.local, null, 'access token cleared from storage');
    assert.equal(s.localRefresh, null, 'refresh token cleared from storage');
    assert.equal(await background.evaluate(() => document.visibilityState), 'hidden', 'still in the background');
  });

  it('three tabs with expired access tokens request at once: one refresh, all succeed, none logged out', async () => {
    const { pages } = await openTabs(3);
    const logins = await Promise.all(pages.slice(1).map((p) => eventCount(p, 'auth:login')));
    await login(pages[0], 'userA@test.com');
    for (const [i, page] of pages.slice(1).entries()) await waitForEvent(page, 'auth:login', logins[i]);
    const { results, refreshes } = await requestAllAfterExpiry(pages);
    assert.deepEqual(results, [200, 200, 200]);
    assert.equal(refreshes, 1, 'exactly one refresh reached the backend');
    for (const page of pages) {
      const s = await state(page);
      assert.equal(s.authenticated, true);
      assert.equal(s.events.filter((e) => e.type === 'auth:logout').length, 0);
    }
    await pages[0].evaluate(() => window.session.logout());
  });

  it("storage: 'session' — logout still propagates through the channel", async () => {
    const { pages: [one, two] } = await openTabs(2, { storage: 'session' });
    await login(one, 'userA@test.com');
    await waitForEvent(two, 'auth:login');
    assert.equal((await state(two)).authenticated, true);
    assert.ok((await state(two)).sessionStored, 'tab two holds the tokens in its own sessionStorage');
    assert.equal((await state(two)).local, null);
    await one.evaluate(() => window.session.logout());
    await waitForEvent(two, 'auth:logout');
    const s = await state(two);
    assert.equal(s.events.find((e) => e.type === 'auth:logout').detail.reason, 'remote');
    assert.equal(s.authenticated, false);
    assert.equal(s.sessionStored, null);
  });

  it('without BroadcastChannel and Web Locks: logout propagates via storage events, three tabs still refresh once', async () => {
    const { pages } = await openTabs(3, {}, { init: withoutModernApis });
    assert.equal(await pages[0].evaluate(() => typeof BroadcastChannel + '/' + typeof navigator.locks), 'undefined/undefined');
    await login(pages[0], 'userA@test.com');
    for (const page of pages.slice(1)) await waitForEvent(page, 'auth:login');
    const { results, refreshes } = await requestAllAfterExpiry(pages);
    assert.deepEqual(results, [200, 200, 200]);
    assert.equal(refreshes, 1, 'the storage lease let one tab refresh');
    assert.equal(await pages[1].evaluate(() => localStorage.getItem('cleanslate_lease:cleanslate-refresh:' + location.origin + '/api/v1')), null, 'lease released');

    const counts = await Promise.all(pages.slice(1).map((p) => eventCount(p, 'auth:logout')));
    await pages[0].evaluate(() => window.session.logout());
    for (const [i, page] of pages.slice(1).entries()) {
      await waitForEvent(page, 'auth:logout', counts[i]);
      const s = await state(page);
      assert.equal(s.events.filter((e) => e.type === 'auth:logout').at(-1).detail.reason, 'remote');
      assert.equal(s.authenticated, false);
    }
    // The storage-event channel never put a token into storage.
    const keys = await pages[0].evaluate(() => Object.keys(localStorage));
    assert.deepEqual(keys.filter((k) => k.startsWith('cleanslate_msg')), []);
  });
});

// One session across the tabs of a browser: logout and login propagate,
// and tabs whose tokens expired together refresh once. Several pages of one
// Chromium context, each with its own session object, against the real
// reference backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemoServer } from './helpers.mjs';

let browser;
let server;

before(async () => {
  browser = await launchBrowser();
  server = await startDemoServer({ accessTtlSec: 2 });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens `count` pages of one context, each with a session and an event log on window. */
async function openTabs(count, options = {}, { withoutModernApis = false } = {}) {
  const context = await browser.newContext();
  if (withoutModernApis) {
    // As in older browsers: no BroadcastChannel, no Web Locks.
    await context.addInitScript(() => {
      delete window.BroadcastChannel;
      Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
    });
  }
  const pages = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(`${server.apiBase}/public/ping`); // any document of the origin will do
    await startSession(page, options);
    pages.push(page);
  }
  return { context, pages };
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

/**
 * Lets the access token every tab holds expire, gives each tab a fresh session
 * (restored from storage), then has all of them request at once. Resolves the
 * statuses (or error codes) and how many refreshes reached the backend.
 */
async function requestAllAfterExpiry(pages) {
  for (const page of pages) await page.evaluate(() => window.session.dispose());
  await new Promise((resolve) => setTimeout(resolve, 2100)); // accessTtlSec is 2
  for (const page of pages) await startSession(page, {});
  const before = server.stats.refresh;
  const results = await Promise.all(
    pages.map((page) => page.evaluate(() => window.session.get('/user/profile').then((r) => r.status, (e) => e.code))),
  );
  return { results, refreshes: server.stats.refresh - before };
}

const state = (page) =>
  page.evaluate(() => ({
    authenticated: window.session.isAuthenticated(),
    user: window.session.user,
    local: localStorage.getItem('access_token'),
    sessionStored: sessionStorage.getItem('access_token'),
    events: window.events,
  }));

async function waitFor(page, predicate, arg, timeout = 1000) {
  await page.waitForFunction(predicate, arg, { timeout, polling: 10 });
}

test('logout in one tab ends the session in the others within a second (median over 20)', async () => {
  const { context, pages } = await openTabs(3);
  const [one, two, three] = pages;
  const delays = [];
  try {
    for (let round = 0; round < 20; round++) {
      const logins = await Promise.all([two, three].map((p) => p.evaluate(() => window.events.filter((e) => e.type === 'auth:login').length)));
      const login = await one.evaluate(() => window.session.login('userA@test.com', 'password'));
      assert.equal(login.success, true);
      // Wait for the login message itself, not just the shared storage.
      await waitFor(two, (n) => window.events.filter((e) => e.type === 'auth:login').length > n, logins[0]);
      await waitFor(three, (n) => window.events.filter((e) => e.type === 'auth:login').length > n, logins[1]);
      const counts = await Promise.all([two, three].map((p) => p.evaluate(() => window.events.filter((e) => e.type === 'auth:logout').length)));
      const firedAt = await one.evaluate(async () => {
        const seen = new Promise((resolve) => addEventListener('auth:logout', (e) => resolve(e.detail.timestamp), { once: true }));
        window.session.logout();
        return seen;
      });
      for (const [i, page] of [two, three].entries()) {
        await waitFor(page, (n) => window.events.filter((e) => e.type === 'auth:logout').length > n, counts[i]);
        const s = await state(page);
        const last = s.events.filter((e) => e.type === 'auth:logout').at(-1);
        assert.equal(last.detail.reason, 'remote');
        assert.equal(s.authenticated, false);
        assert.equal(s.user, null);
        assert.equal(s.local, null);
        delays.push(last.at - firedAt);
      }
    }
    delays.sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)];
    console.log(`cross-tab logout propagation: median ${median} ms, max ${delays.at(-1)} ms over ${delays.length}`);
    assert.ok(delays.at(-1) <= 1000);
    // Only the tab that logged out told the backend, once per round.
    assert.equal(server.requests.filter((r) => r.path === '/auth/logout').length, 20);
  } finally {
    await context.close();
  }
});

test('login in one tab is picked up by another as the same user', async () => {
  const { context, pages } = await openTabs(2);
  const [one, two] = pages;
  try {
    await one.evaluate(() => window.session.login('userB@test.com', 'password'));
    await waitFor(two, () => window.events.some((e) => e.type === 'auth:login'));
    const s = await state(two);
    assert.equal(s.authenticated, true);
    assert.equal(s.user.email, 'userB@test.com');
    assert.equal(s.events.find((e) => e.type === 'auth:login').detail.user.email, 'userB@test.com');
    const profile = await two.evaluate(() => window.session.get('/user/profile').then((r) => r.data));
    assert.equal(profile.email, 'userB@test.com');
    await one.evaluate(() => window.session.logout());
  } finally {
    await context.close();
  }
});

test('three tabs with expired access tokens request at once: one refresh, all succeed, none logged out', async () => {
  const { context, pages } = await openTabs(3);
  try {
    await pages[0].evaluate(() => window.session.login('userA@test.com', 'password'));
    for (const page of pages) await waitFor(page, () => window.session.isAuthenticated());
    const { results, refreshes } = await requestAllAfterExpiry(pages);
    assert.deepEqual(results, [200, 200, 200]);
    assert.equal(refreshes, 1, 'exactly one refresh reached the backend');
    for (const page of pages) {
      const s = await state(page);
      assert.equal(s.authenticated, true);
      assert.equal(s.events.filter((e) => e.type === 'auth:logout').length, 0);
    }
    await pages[0].evaluate(() => window.session.logout());
  } finally {
    await context.close();
  }
});

test("storage: 'session' — logout still propagates through the channel", async () => {
  const { context, pages } = await openTabs(2, { storage: 'session' });
  const [one, two] = pages;
  try {
    await one.evaluate(() => window.session.login('userA@test.com', 'password'));
    await waitFor(two, () => window.session.isAuthenticated());
    assert.ok((await state(two)).sessionStored, 'tab two holds the tokens in its own sessionStorage');
    assert.equal((await state(two)).local, null);
    await one.evaluate(() => window.session.logout());
    await waitFor(two, () => window.events.some((e) => e.type === 'auth:logout'));
    const s = await state(two);
    assert.equal(s.events.find((e) => e.type === 'auth:logout').detail.reason, 'remote');
    assert.equal(s.authenticated, false);
    assert.equal(s.sessionStored, null);
  } finally {
    await context.close();
  }
});

test('without BroadcastChannel and Web Locks: logout propagates via storage events, three tabs still refresh once', async () => {
  const { context, pages } = await openTabs(3, {}, { withoutModernApis: true });
  try {
    assert.equal(await pages[0].evaluate(() => typeof BroadcastChannel + '/' + typeof navigator.locks), 'undefined/undefined');
    await pages[0].evaluate(() => window.session.login('userA@test.com', 'password'));
    for (const page of pages.slice(1)) await waitFor(page, () => window.events.some((e) => e.type === 'auth:login'));
    const { results, refreshes } = await requestAllAfterExpiry(pages);
    assert.deepEqual(results, [200, 200, 200]);
    assert.equal(refreshes, 1, 'the storage lease let one tab refresh');
    assert.equal(await pages[1].evaluate(() => localStorage.getItem('cleanslate_lease:cleanslate-refresh:' + location.origin + '/api/v1')), null, 'lease released');

    const counts = await Promise.all(pages.slice(1).map((p) => p.evaluate(() => window.events.filter((e) => e.type === 'auth:logout').length)));
    await pages[0].evaluate(() => window.session.logout());
    for (const [i, page] of pages.slice(1).entries()) {
      await waitFor(page, (n) => window.events.filter((e) => e.type === 'auth:logout').length > n, counts[i]);
      const s = await state(page);
      assert.equal(s.events.filter((e) => e.type === 'auth:logout').at(-1).detail.reason, 'remote');
      assert.equal(s.authenticated, false);
    }
    // The storage-event channel never put a token into storage.
    const keys = await pages[0].evaluate(() => Object.keys(localStorage));
    assert.deepEqual(keys.filter((k) => k.startsWith('cleanslate_msg')), []);
  } finally {
    await context.close();
  }
});

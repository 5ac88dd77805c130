// The app's own state starts clean too (CONTRACT.md §5.2), in real browsers: for every
// way a session ends — logout ('user'), a refused refresh ('expired'), another tab's
// logout ('remote') and a login of another user than the last one seen ('switch') — the
// page holds Cache Storage entries, IndexedDB databases, localStorage/sessionStorage keys
// and cookies, some named in clearOnReset and some not; afterwards every named thing is
// gone and every other one is still there. Also the order of the logout sequence as the
// hooks and listeners see it, a database the app holds open, and the session's own
// storage keys under a '*' pattern when the next session is already in storage.
// Runs in every browser of helpers.mjs, on the reference server's origin.
import assert from 'node:assert/strict';
import { forEachBrowser, openPage, problems } from './helpers.mjs';

// Named: two keys by prefix and one exact key, one of two caches, one of two databases,
// a cookie by name (set on / and on a sub path), one by prefix and one whose __Host-
// prefix makes the browser insist on the Secure attribute.
const CLEAR = {
  storageKeys: ['app:*', 'draft'],
  caches: ['api-v1'],
  indexedDB: ['app-db'],
  cookies: ['prefs', 'ui_*', '__Host-prefs'],
};
// What a page seeded by seedAppState() holds before and after a reset with CLEAR.
const SEEDED = {
  storage: ['app', 'app:cart', 'app:draft', 'apple', 'draft', 'drafts', 'keep'],
  cookies: ['__Host-keep=1', '__Host-prefs=1', 'keep_root=1', 'keep_sub=1', 'prefs=root', 'prefs=sub', 'ui_theme=dark'],
  caches: ['api-v1', 'keep-cache'],
  databases: ['app-db', 'keep-db'],
};
const AFTER_RESET = {
  storage: ['app', 'apple', 'drafts', 'keep'],
  cookies: ['__Host-keep=1', 'keep_root=1', 'keep_sub=1'],
  caches: ['keep-cache'],
  databases: ['keep-db'],
};
// The session's own keys in storage (wasm/core/token_store.h).
const OWN_KEYS = ['access_token', 'refresh_token', 'cleanslate_user', 'cleanslate_last_user'];
const REFRESH_TTL_SEC = 604800; // the reference server's default
const RESET_TIMEOUT_WARNING = (ms) => `[Auth] Reset hooks and cleaners still running after ${ms} ms; going on`;

/**
 * Runs in the page before any of its scripts (and again after a reload): an event log,
 * helpers to seed and read the app's state, a reset hook that records what it sees, a
 * BroadcastChannel whose incoming messages a test can hold back, and a record of the
 * Cache Storage and IndexedDB calls made in the page.
 */
function pageKit() {
  // Promises that reject after `ms`: no wait in the page is unbounded.
  const within = (promise, ms, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });

  // auth:login / auth:logout, each with the tokens storage held when it fired.
  window.events = [];
  const eventCount = (type) => window.events.filter((e) => e.type === type).length;
  for (const type of ['auth:login', 'auth:logout']) {
    addEventListener(type, (e) => window.events.push({
      type,
      reason: e.detail.reason ?? null,
      access: localStorage.getItem('access_token'),
      refresh: localStorage.getItem('refresh_token'),
    }));
  }
  /** Resolves once more than `seen` events of `type` have fired (woken by the event). */
  window.nextEvent = (type, seen) => within(new Promise((resolve) => {
    if (eventCount(type) > seen) return resolve();
    addEventListener(type, function onEvent() {
      if (eventCount(type) <= seen) return;
      removeEventListener(type, onEvent);
      resolve();
    });
  }), 5000, `${type} after ${seen}`);

  // Messages from other tabs wait here while `heldMessages` is an array, as a message
  // the browser delivers late would; releaseTabMessages(n) delivers the first n.
  const NativeChannel = window.BroadcastChannel;
  window.heldMessages = null;
  window.BroadcastChannel = class extends NativeChannel {
    set onmessage(handler) {
      super.onmessage = typeof handler !== 'function' ? handler : (event) => {
        if (!window.heldMessages) return handler.call(this, event);
        window.heldMessages.push(() => handler.call(this, event));
        dispatchEvent(new Event('test:held'));
      };
    }
    get onmessage() {
      return super.onmessage;
    }
  };
  window.holdTabMessages = () => {
    window.heldMessages = [];
  };
  window.waitHeld = (count) => within(new Promise((resolve) => {
    const check = () => {
      if (window.heldMessages.length < count) return;
      removeEventListener('test:held', check);
      resolve();
    };
    addEventListener('test:held', check);
    check();
  }), 5000, `${count} held tab message(s)`);
  window.releaseTabMessages = (count = Infinity) => {
    const batch = window.heldMessages.splice(0, count);
    if (window.heldMessages.length === 0) window.heldMessages = null;
    for (const deliver of batch) deliver();
    return batch.length;
  };

  // A reset of 'expired' or 'remote' has no promise to wait on, so the page keeps every
  // Cache Storage and IndexedDB deletion call made in it (the cleaners' asynchronous
  // work) and cleanerWorkDone() waits until they, and the calls they led to, settled.
  window.cleanerWork = [];
  const track = (promise) => {
    window.cleanerWork.push(promise.then(() => {}, () => {}));
    return promise;
  };
  for (const method of ['keys', 'delete']) {
    const original = CacheStorage.prototype[method];
    CacheStorage.prototype[method] = function (...args) {
      return track(original.apply(this, args));
    };
  }
  const deleteDatabase = IDBFactory.prototype.deleteDatabase;
  IDBFactory.prototype.deleteDatabase = function (name) {
    const request = deleteDatabase.call(this, name);
    track(new Promise((resolve) => {
      request.addEventListener('success', resolve);
      request.addEventListener('error', resolve);
    }));
    return request;
  };
  window.cleanerWorkDone = () => within((async () => {
    for (;;) {
      const count = window.cleanerWork.length;
      await Promise.all(window.cleanerWork);
      if (window.cleanerWork.length === count) return;
    }
  })(), 10_000, 'the cleaners\' Cache Storage and IndexedDB calls');

  const settle = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const openDb = (name) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('items', { keyPath: 'id' });
    return settle(request);
  };
  /**
   * The app's own connection to app-db. 'closes': it closes on `versionchange`, as an app
   * should; 'stays-open': it ignores the event and blocks the database's deletion.
   */
  window.openAppConnection = async (mode) => {
    const db = await openDb('app-db');
    window.appDb = db;
    window.versionchanges = 0;
    db.addEventListener('versionchange', () => {
      window.versionchanges++;
      if (mode === 'closes') db.close();
    });
  };

  /** What user A's app leaves in the origin: named and unnamed things of every kind. */
  window.seedAppState = async (appConnection = 'closes') => {
    for (const area of [localStorage, sessionStorage]) {
      for (const key of ['app:draft', 'app:cart', 'draft', 'app', 'apple', 'drafts', 'keep']) area.setItem(key, 'of user A');
    }
    // The page is /api/v1/public/ping: / and /api/v1 and /api/v1/public are all its paths.
    document.cookie = 'prefs=root; path=/';
    document.cookie = 'prefs=sub; path=/api/v1';
    document.cookie = 'ui_theme=dark; path=/api/v1/public';
    document.cookie = '__Host-prefs=1; Secure; path=/';
    document.cookie = 'keep_root=1; path=/';
    document.cookie = 'keep_sub=1; path=/api/v1';
    document.cookie = '__Host-keep=1; Secure; path=/';
    for (const name of ['api-v1', 'keep-cache']) {
      const cache = await caches.open(name);
      await cache.put(`/api/v1/public/ping?cache=${name}`, new Response(`kept in ${name}`));
    }
    for (const name of ['app-db', 'keep-db']) {
      const db = await openDb(name);
      await new Promise((resolve, reject) => {
        const tx = db.transaction('items', 'readwrite');
        tx.objectStore('items').put({ id: 1, owner: 'user A' });
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }
    await window.openAppConnection(appConnection);
  };

  const readRecord = async (name) => {
    const db = await openDb(name);
    try {
      return await settle(db.transaction('items').objectStore('items').get(1));
    } finally {
      db.close();
    }
  };
  /** The seeded things still there (the session's own keys apart), and what they hold. */
  window.appState = async () => {
    const own = new Set(['access_token', 'refresh_token', 'cleanslate_user', 'cleanslate_last_user']);
    const keys = (area) => Object.keys(area).filter((k) => !own.has(k)).sort();
    const databases = (await indexedDB.databases()).map((db) => db.name)
      .filter((name) => name === 'app-db' || name === 'keep-db').sort();
    const kept = await caches.match('/api/v1/public/ping?cache=keep-cache', { cacheName: 'keep-cache' });
    return {
      local: keys(localStorage),
      session: keys(sessionStorage),
      cookies: document.cookie.split(';').map((c) => c.trim()).filter(Boolean).sort(),
      caches: (await caches.keys()).sort(),
      databases,
      keptCacheEntry: kept ? await kept.text() : null,
      keptRecord: databases.includes('keep-db') ? await readRecord('keep-db') : null,
      keptValue: localStorage.getItem('keep'),
    };
  };
  /** The session's own keys in localStorage. */
  window.ownKeys = () => Object.fromEntries(
    ['access_token', 'refresh_token', 'cleanslate_user', 'cleanslate_last_user'].map((k) => [k, localStorage.getItem(k)]));

  // Each reset as the first hook sees it; every hook notes its name in hookOrder.
  window.resets = [];
  window.hookOrder = [];
  window.loginSettled = null;
  window.startSession = async (options) => {
    const { createSession } = await import('/dist/cleanslate.mjs');
    window.session = await createSession({ apiBase: '/api/v1', logLevel: 'warn', ...options });
    window.session.onReset((info) => {
      window.hookOrder.push('recorder');
      window.resets.push({
        reason: info.reason,
        timestampIsNumber: typeof info.timestamp === 'number',
        access: localStorage.getItem('access_token'),
        refresh: localStorage.getItem('refresh_token'),
        logoutEvents: eventCount('auth:logout'),
        loginEvents: eventCount('auth:login'),
        draft: localStorage.getItem('app:draft'),
        loginSettled: window.loginSettled,
      });
    });
  };
  window.loginAs = async (email) => {
    window.loginSettled = false;
    const result = await window.session.login(email, 'password');
    window.loginSettled = true;
    return result;
  };
}

/** Expected state of a page after a reset with CLEAR: only the unnamed things remain. */
function assertOnlyUnnamedLeft(state, where) {
  assert.deepEqual(state.local, AFTER_RESET.storage, `${where}: localStorage keys`);
  assert.deepEqual(state.session, AFTER_RESET.storage, `${where}: sessionStorage keys`);
  assert.deepEqual(state.cookies, AFTER_RESET.cookies, `${where}: cookies`);
  assert.deepEqual(state.caches, AFTER_RESET.caches, `${where}: Cache Storage`);
  assert.deepEqual(state.databases, AFTER_RESET.databases, `${where}: IndexedDB databases`);
  assert.equal(state.keptCacheEntry, 'kept in keep-cache', `${where}: the unnamed cache keeps its entry`);
  assert.deepEqual(state.keptRecord, { id: 1, owner: 'user A' }, `${where}: the unnamed database keeps its record`);
  assert.equal(state.keptValue, 'of user A', `${where}: an unnamed key keeps its value`);
}

function assertSeeded(state, where) {
  assert.deepEqual(state.local, SEEDED.storage, `${where}: localStorage keys`);
  assert.deepEqual(state.session, SEEDED.storage, `${where}: sessionStorage keys`);
  assert.deepEqual(state.cookies, SEEDED.cookies, `${where}: cookies`);
  assert.deepEqual(state.caches, SEEDED.caches, `${where}: Cache Storage`);
  assert.deepEqual(state.databases, SEEDED.databases, `${where}: IndexedDB databases`);
}

async function login(page, email) {
  const result = await page.evaluate((e) => window.loginAs(e), email);
  assert.equal(result.success, true, `login of ${email}: ${JSON.stringify(result)}`);
  return result.user;
}

/**
 * The page's errors and warnings, apart from the lines Chromium logs for every HTTP error
 * status it loads (the 401s of an expiry, say): those are the browser's, not the page's.
 */
function pageProblems(tab, types = ['error', 'warn']) {
  return problems(tab, types).filter((line) => !line.includes('Failed to load resource: the server responded with a status of'));
}

const eventsOf = (page, type) => page.evaluate((t) => window.events.filter((e) => e.type === t), type);

forEachBrowser((env, it) => {
  /** A tab on the server's origin with the page kit; its console is collected. */
  async function openTab(context) {
    return openPage(context, `${env.server.apiBase}/public/ping`, { init: pageKit });
  }

  it("logout ('user'): hooks in order see the tokens, then the cleaners, then the tokens go, then auth:logout", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.evaluate((clear) => window.startSession({ clearOnReset: clear }), CLEAR);
    await login(page, 'userA@test.com');
    await page.evaluate(() => window.seedAppState('closes'));
    assertSeeded(await page.evaluate(() => window.appState()), 'before logout');
    await page.evaluate(() => {
      window.session.onReset(() => window.hookOrder.push('first'));
      window.session.onReset(() => window.hookOrder.push('second'));
      const off = window.session.onReset(() => window.hookOrder.push('unsubscribed'));
      off();
    });

    const { result, atReturn } = await page.evaluate(async () => {
      const pending = window.session.logout();
      // logout() has returned: the local part of the sequence is over, the rest is I/O.
      const seen = { logoutEvents: window.events.filter((e) => e.type === 'auth:logout').length, access: localStorage.getItem('access_token') };
      return { result: await pending, atReturn: seen };
    });
    assert.equal(result.success, true);
    assert.deepEqual(atReturn, { logoutEvents: 1, access: null }, 'tokens cleared and auth:logout fired before logout() returned');

    const resets = await page.evaluate(() => window.resets);
    assert.equal(resets.length, 1);
    const [reset] = resets;
    assert.equal(reset.reason, 'user');
    assert.equal(reset.timestampIsNumber, true);
    assert.ok(reset.access && reset.refresh, 'the hook runs while the tokens are still in storage');
    assert.equal(reset.logoutEvents, 0, 'the hook runs before auth:logout');
    assert.equal(reset.draft, 'of user A', 'the hooks run before the cleaners');
    assert.deepEqual(await page.evaluate(() => window.hookOrder), ['recorder', 'first', 'second'], 'registration order; an unsubscribed hook is not called');

    const logouts = await eventsOf(page, 'auth:logout');
    assert.deepEqual(logouts.map((e) => [e.reason, e.access, e.refresh]), [['user', null, null]], 'auth:logout sees the tokens gone');

    // logout() resolved after the cleaners' work: nothing left to wait for.
    assertOnlyUnnamedLeft(await page.evaluate(() => window.appState()), 'after logout');
    assert.equal(await page.evaluate(() => window.versionchanges), 1, "the app's connection was asked to close, and did");
    assert.deepEqual(await page.evaluate(() => window.ownKeys()),
      { access_token: null, refresh_token: null, cleanslate_user: null, cleanslate_last_user: null });
    assert.deepEqual(pageProblems(tab), []);
  });

  it('logout with a database the app holds open (no versionchange handler) still resolves within resetTimeoutMs, with a warning', { timeout: 60_000 }, async () => {
    const RESET_TIMEOUT_MS = 1000;
    const context = await env.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.evaluate((clear, ms) => window.startSession({ clearOnReset: clear, resetTimeoutMs: ms, logoutTimeoutMs: ms }),
      CLEAR, RESET_TIMEOUT_MS);
    await login(page, 'userA@test.com');
    await page.evaluate(() => window.seedAppState('stays-open'));

    const { result, elapsedMs, atReturn } = await page.evaluate(async () => {
      const start = performance.now();
      const pending = window.session.logout();
      const seen = { logoutEvents: window.events.filter((e) => e.type === 'auth:logout').length, access: localStorage.getItem('access_token') };
      const answer = await pending;
      return { result: answer, elapsedMs: performance.now() - start, atReturn: seen };
    });
    assert.equal(result.success, true);
    assert.deepEqual(atReturn, { logoutEvents: 1, access: null }, 'a blocked cleaner delays neither the token clearing nor auth:logout');
    // It waited for the bound (the deletion could not finish), and the backend notice has
    // the same bound; the upper limit leaves room for two busy cores.
    assert.ok(elapsedMs >= RESET_TIMEOUT_MS * 0.9, `logout() resolved after ${Math.round(elapsedMs)} ms, before the bound`);
    assert.ok(elapsedMs < RESET_TIMEOUT_MS + 4000, `logout() took ${Math.round(elapsedMs)} ms`);
    const warnings = tab.consoleMessages.filter((m) => m.text.includes('[Auth] Reset hooks and cleaners still running'));
    assert.deepEqual(warnings, [{ type: 'warn', text: RESET_TIMEOUT_WARNING(RESET_TIMEOUT_MS) }]);
    assert.equal(await page.evaluate(() => window.versionchanges), 1, 'the app was asked to close its connection');

    // Every other cleaner finished; the database waits for the app's connection.
    const state = await page.evaluate(() => window.appState());
    assert.deepEqual(state.local, AFTER_RESET.storage);
    assert.deepEqual(state.cookies, AFTER_RESET.cookies);
    assert.deepEqual(state.caches, AFTER_RESET.caches);
    // Once the app lets go of it, the deletion that was waiting goes through.
    await page.evaluate(async () => {
      window.appDb.close();
      await window.cleanerWorkDone();
    });
    assertOnlyUnnamedLeft(await page.evaluate(() => window.appState()), 'after the connection closed');
    assert.deepEqual(pageProblems(tab, ['error']), []);
  });

  it("another tab's logout ('remote'): the cleaners run in every tab, each with its own reason", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const one = await openTab(context);
    const two = await openTab(context);
    for (const { page } of [one, two]) await page.evaluate((clear) => window.startSession({ clearOnReset: clear }), CLEAR);
    const joined = two.page.evaluate(() => window.nextEvent('auth:login', 0));
    await login(one.page, 'userA@test.com');
    await joined;
    // Both tabs' apps hold state: the shared kinds, and each tab's own sessionStorage.
    await one.page.evaluate(() => window.seedAppState('closes'));
    await two.page.evaluate(() => window.seedAppState('closes'));
    // Tab two gets tab one's messages only when the test says so.
    await two.page.evaluate(() => window.holdTabMessages());

    const result = await one.page.evaluate(() => window.session.logout());
    assert.equal(result.success, true);
    assert.deepEqual((await one.page.evaluate(() => window.resets)).map((r) => r.reason), ['user']);
    assertOnlyUnnamedLeft(await one.page.evaluate(() => window.appState()), 'tab one after its logout');
    await two.page.evaluate(() => window.waitHeld(1));
    assert.deepEqual(await two.page.evaluate(() => window.resets), [], 'tab two has not heard of the logout yet');
    assert.deepEqual((await two.page.evaluate(() => window.appState())).session, SEEDED.storage,
      "tab two's sessionStorage is its own: only its reset clears it");
    // Tab two's app wrote the shared kinds again meanwhile: its own reset must clear them.
    await two.page.evaluate(() => window.seedAppState('closes'));
    assertSeeded(await two.page.evaluate(() => window.appState()), 'tab two before the message');

    await two.page.evaluate(async () => {
      window.releaseTabMessages();
      await window.nextEvent('auth:logout', 0);
      await window.cleanerWorkDone();
    });
    const resets = await two.page.evaluate(() => window.resets);
    assert.deepEqual(resets.map((r) => [r.reason, r.logoutEvents]), [['remote', 0]], 'tab two: one reset, before its auth:logout');
    assert.deepEqual((await eventsOf(two.page, 'auth:logout')).map((e) => e.reason), ['remote']);
    assertOnlyUnnamedLeft(await two.page.evaluate(() => window.appState()), 'tab two after the remote logout');
    assert.equal(await two.page.evaluate(() => window.session.isAuthenticated()), false);
    assert.deepEqual((await one.page.evaluate(() => window.resets)).map((r) => r.reason), ['user'], 'no second reset in tab one');
    for (const tab of [one, two]) assert.deepEqual(pageProblems(tab), []);
  });

  it("'remote' with storageKeys ['*'] while the next session is already in storage: the session's own keys stay", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const one = await openTab(context);
    const two = await openTab(context);
    await one.page.evaluate(() => window.startSession({}));
    await two.page.evaluate(() => window.startSession({ clearOnReset: { storageKeys: ['*'] } }));
    const joined = two.page.evaluate(() => window.nextEvent('auth:login', 0));
    await login(one.page, 'userA@test.com');
    await joined;
    await two.page.evaluate(() => window.holdTabMessages());

    // Tab one logs out and B logs in there before tab two hears of either.
    assert.equal((await one.page.evaluate(() => window.session.logout())).success, true);
    await login(one.page, 'userB@test.com');
    await two.page.evaluate(() => window.waitHeld(2));
    const sessionOfB = await one.page.evaluate(() => window.ownKeys());
    for (const key of OWN_KEYS) assert.ok(sessionOfB[key], `B's session wrote ${key}`);
    await two.page.evaluate(() => {
      localStorage.setItem('app:draft', 'of user A');
      localStorage.setItem('keep', 'of user A');
      sessionStorage.setItem('keep', 'of user A');
    });

    // The logout message alone: the '*' cleaner runs in tab two.
    const afterLogout = await two.page.evaluate(() => {
      window.releaseTabMessages(1);
      return { own: window.ownKeys(), other: Object.keys(localStorage).filter((k) => !k.startsWith('cleanslate_') && !k.endsWith('_token')), session: Object.keys(sessionStorage) };
    });
    assert.deepEqual((await two.page.evaluate(() => window.resets)).map((r) => r.reason), ['remote']);
    assert.deepEqual(afterLogout.other, [], "every other localStorage key went ('*')");
    assert.deepEqual(afterLogout.session, [], "every sessionStorage key went ('*')");
    assert.deepEqual(afterLogout.own, sessionOfB, "B's session, already in storage, is untouched");

    // Then the login message: tab two joins B's session, which still works.
    await two.page.evaluate(async () => {
      window.releaseTabMessages();
      await window.nextEvent('auth:login', 1);
    });
    assert.equal(await two.page.evaluate(() => window.session.user?.email), 'userB@test.com');
    const profile = await two.page.evaluate(() => window.session.get('/user/profile').then((r) => [r.status, r.data.email]));
    assert.deepEqual(profile, [200, 'userB@test.com']);
    assert.deepEqual((await two.page.evaluate(() => window.resets)).map((r) => r.reason), ['remote'], 'no switch after a reset');
    assert.deepEqual(await one.page.evaluate(() => window.ownKeys()), sessionOfB);
    for (const tab of [one, two]) assert.deepEqual(pageProblems(tab), []);
  });

  it("'switch': A's session ended while the page was closed; B's login resets first, before login() resolves and before auth:login", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.evaluate((clear) => window.startSession({ clearOnReset: clear }), CLEAR);
    const userA = await login(page, 'userA@test.com');
    await page.evaluate(() => window.seedAppState('closes'));
    // A's tokens go without a reset (they expired while every tab was closed, say); the
    // marker of the last user stays.
    const markerOfA = await page.evaluate(() => {
      window.session.dispose();
      for (const key of ['access_token', 'refresh_token', 'cleanslate_user']) localStorage.removeItem(key);
      return localStorage.getItem('cleanslate_last_user');
    });
    assert.ok(markerOfA, 'the last user is marked');
    assert.ok(!markerOfA.includes(userA.email) && markerOfA !== String(userA.id), 'the marker is not the user id');
    await page.reload();

    await page.evaluate(async (clear) => {
      await window.openAppConnection('closes'); // the app opens its database again
      await window.startSession({ clearOnReset: clear });
    }, CLEAR);
    assert.equal(await page.evaluate(() => localStorage.getItem('cleanslate_last_user')), markerOfA);
    assert.equal(await page.evaluate(() => window.session.isAuthenticated()), false);
    assertSeeded(await page.evaluate(() => window.appState()), "A's app state after the reload");

    // The state is read as soon as login() has resolved, with nothing awaited in between.
    const { result, state } = await page.evaluate(async () => {
      const answer = await window.loginAs('userB@test.com');
      return { result: answer, state: await window.appState() };
    });
    assert.equal(result.success, true, JSON.stringify(result));
    assert.equal(result.user.email, 'userB@test.com');
    const resets = await page.evaluate(() => window.resets);
    assert.deepEqual(resets.map((r) => [r.reason, r.loginSettled, r.loginEvents]), [['switch', false, 0]],
      'one reset, before login() resolved and before auth:login');
    assert.equal((await eventsOf(page, 'auth:login')).length, 1);
    assertOnlyUnnamedLeft(state, "when B's login() resolved");
    assert.equal(await page.evaluate(() => window.versionchanges), 1);
    const own = await page.evaluate(() => window.ownKeys());
    assert.ok(own.access_token && own.refresh_token, "B's tokens are stored");
    assert.ok(own.cleanslate_last_user && own.cleanslate_last_user !== markerOfA, 'the marker now names B');
    assert.notEqual(own.cleanslate_last_user, String(result.user.id));
    assert.deepEqual(pageProblems(tab), []);
  });

  it("'switch' joined in another tab with storageKeys ['*']: that tab resets before its auth:login and keeps B's session", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const one = await openTab(context);
    await one.page.evaluate(() => window.startSession({}));
    await login(one.page, 'userA@test.com');
    await one.page.evaluate(() => {
      window.session.dispose();
      for (const key of ['access_token', 'refresh_token', 'cleanslate_user']) localStorage.removeItem(key);
    });
    await one.page.reload();
    await one.page.evaluate(() => window.startSession({}));
    const two = await openTab(context);
    await two.page.evaluate(() => window.startSession({ clearOnReset: { storageKeys: ['*'] } }));
    await two.page.evaluate(() => {
      localStorage.setItem('keep', 'of user A');
      sessionStorage.setItem('keep', 'of user A');
    });

    const joined = two.page.evaluate(() => window.nextEvent('auth:login', 0));
    await login(one.page, 'userB@test.com');
    await joined;
    const sessionOfB = await one.page.evaluate(() => window.ownKeys());
    assert.deepEqual((await one.page.evaluate(() => window.resets)).map((r) => r.reason), ['switch']);
    const resets = await two.page.evaluate(() => window.resets);
    assert.deepEqual(resets.map((r) => [r.reason, r.loginEvents]), [['switch', 0]], 'tab two resets before its auth:login');
    assert.equal(resets[0].access, sessionOfB.access_token, "B's session was in storage while the '*' cleaner ran");
    const after = await two.page.evaluate(() => ({
      own: window.ownKeys(),
      local: Object.keys(localStorage).filter((k) => !k.startsWith('cleanslate_') && !k.endsWith('_token')),
      session: Object.keys(sessionStorage),
    }));
    assert.deepEqual(after.local, [], "every other localStorage key went ('*')");
    assert.deepEqual(after.session, []);
    assert.deepEqual(after.own, sessionOfB, "B's session is untouched");
    const profile = await two.page.evaluate(() => window.session.get('/user/profile').then((r) => [r.status, r.data.email]));
    assert.deepEqual(profile, [200, 'userB@test.com']);
    for (const tab of [one, two]) assert.deepEqual(pageProblems(tab), []);
  });

  // Last in the file: it moves the server's token clock forward for good.
  it("a refused refresh ('expired'): the hooks see the tokens, the cleaners run, then auth:logout", { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const tab = await openTab(context);
    const { page } = tab;
    await page.evaluate((clear) => window.startSession({ clearOnReset: clear }), CLEAR);
    await login(page, 'userA@test.com');
    await page.evaluate(() => window.seedAppState('closes'));
    // Both tokens are past their lifetime on the server's clock; the client, on its own
    // clock, still sends the access token.
    env.server.advanceClock((REFRESH_TTL_SEC + 1) * 1000);
    const refusedBefore = env.server.stats.refreshFailed;

    const outcome = await page.evaluate(async () => {
      const code = await window.session.get('/user/profile').then(() => 'resolved', (e) => e.code);
      await window.nextEvent('auth:logout', 0);
      await window.cleanerWorkDone();
      return code;
    });
    assert.equal(outcome, 'session_expired');
    // Counted before the answer is written, so final once the page has it.
    assert.equal(env.server.stats.refreshFailed - refusedBefore, 1, 'the server refused one refresh');
    const resets = await page.evaluate(() => window.resets);
    assert.equal(resets.length, 1);
    assert.equal(resets[0].reason, 'expired');
    assert.ok(resets[0].access && resets[0].refresh, 'the hook runs while the tokens are still in storage');
    assert.equal(resets[0].logoutEvents, 0);
    assert.deepEqual((await eventsOf(page, 'auth:logout')).map((e) => [e.reason, e.access, e.refresh]), [['expired', null, null]]);
    assertOnlyUnnamedLeft(await page.evaluate(() => window.appState()), 'after the expiry');
    assert.equal(await page.evaluate(() => window.versionchanges), 1);
    assert.equal(await page.evaluate(() => window.session.isAuthenticated()), false);
    assert.deepEqual(pageProblems(tab, ['error']), []);
  });
});

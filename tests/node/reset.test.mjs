// The app's own state starts clean too (CONTRACT.md §5.2), through the public
// API in jsdom against the reference backend: onReset hooks and the cleaners
// jsdom has (storage keys, cookies), where they run in the logout sequence,
// for which reasons, how their async work is bounded, and the 'switch' of
// users. Cache Storage and IndexedDB are checked in real browsers
// (tests/browser/clean-slate.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBackend, createSession, SessionError, assertLogin, recordConsole, recordEvents, waitForEvent, within,
} from './helpers.mjs';

const suite = useBackend();
const DAY_MS = 24 * 60 * 60 * 1000;

// A promise with its resolve function, for a hook whose work the test ends.
function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// Whether `promise` has settled by the time the promises already queued have
// run (a look at its state, not a wait for time to pass).
async function isSettled(promise) {
  const marker = Symbol('pending');
  return (await Promise.race([promise.then(() => true, () => true), new Promise((r) => setImmediate(() => r(marker)))])) !== marker;
}

test('logout: hooks run in registration order after the API reset, before the tokens are cleared and the event', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const seen = [];
  const events = recordEvents();
  session.onReset((info) => {
    seen.push({
      hook: 1,
      info,
      tokenInStorage: localStorage.getItem('access_token') !== null,
      logoutEvents: events.filter((e) => e.type === 'auth:logout').length,
    });
  });
  session.onReset(() => seen.push({ hook: 2 }));
  const out = await session.logout();
  assert.equal(out.success, true);
  assert.deepEqual(seen.map((s) => s.hook), [1, 2]);
  assert.equal(seen[0].info.reason, 'user');
  assert.equal(typeof seen[0].info.timestamp, 'number');
  assert.equal(seen[0].tokenInStorage, true, 'the hooks run before the tokens are cleared');
  assert.equal(seen[0].logoutEvents, 0, 'and before auth:logout');
  assert.equal(localStorage.getItem('access_token'), null);
  assert.equal(events.filter((e) => e.type === 'auth:logout').length, 1);
});

test('logout() resolves once a hook\'s promise has settled; the tokens and the event do not wait for it', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const work = deferred();
  session.onReset(() => work.promise);
  const fired = waitForEvent('auth:logout');
  const notified = within(suite.server.waitForResponse((r) => r.path === '/auth/logout'), 'the backend notification');
  const logout = session.logout();
  // The event fired, and the tokens went, while the hook's work is pending.
  await fired;
  assert.equal(localStorage.getItem('access_token'), null);
  assert.equal((await notified).status, 200);
  assert.equal(await isSettled(logout), false, 'logout() waits for the hook');
  work.resolve();
  assert.equal((await within(logout, 'logout()')).success, true);
});

test('resetTimeoutMs bounds a hook that never settles: logout() resolves with one warning', async () => {
  const session = await suite.newSession({ resetTimeoutMs: 50, logLevel: 'warn' });
  await assertLogin(session);
  session.onReset(() => new Promise(() => {}));
  const rec = recordConsole();
  let out;
  try {
    out = await within(session.logout(), 'logout() with a hook that never settles');
  } finally {
    rec.restore();
  }
  assert.equal(out.success, true);
  assert.deepEqual(rec.lines.filter((l) => l.level === 'warn').map((l) => l.text),
    ['[Auth] Reset hooks and cleaners still running after 50 ms; going on']);
});

test('a hook that throws or rejects gets one warning line and stops nothing', async () => {
  const session = await suite.newSession({ logLevel: 'warn' });
  await assertLogin(session);
  const ran = [];
  session.onReset(() => {
    ran.push('throws');
    throw new Error('boom');
  });
  session.onReset(() => {
    ran.push('rejects');
    return Promise.reject(new Error('async boom'));
  });
  session.onReset(() => ran.push('fine'));
  const rec = recordConsole();
  let out;
  try {
    out = await session.logout();
  } finally {
    rec.restore();
  }
  assert.equal(out.success, true);
  assert.deepEqual(ran, ['throws', 'rejects', 'fine']);
  assert.deepEqual(rec.lines.filter((l) => l.level === 'warn').map((l) => l.text).sort(), [
    '[Auth] Reset hook failed (non-critical): async boom',
    '[Auth] Reset hook failed (non-critical): boom',
  ]);
  assert.equal(session.isAuthenticated(), false);
});

test('the console lines of §3 keep their text and order at info with hooks and cleaners', async () => {
  const session = await suite.newSession({ logLevel: 'info', clearOnReset: { storageKeys: ['app:*'] } });
  await assertLogin(session);
  session.onReset(() => {});
  const rec = recordConsole();
  try {
    await session.logout();
  } finally {
    rec.restore();
  }
  assert.deepEqual(rec.texts(), [
    '[Auth] Logging out',
    '[CSRF] Token cache reset for new session',
    '[API] Interceptor state reset for new session',
    '[Auth] API state reset complete',
    '[Auth] Tokens cleared from localStorage',
    '[Auth] Backend logout notification successful',
  ]);
});

test('an unsubscribed hook is not called; onReset takes only a function', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  let calls = 0;
  const off = session.onReset(() => calls++);
  off();
  off(); // a second call is harmless
  await session.logout();
  assert.equal(calls, 0);
  assert.throws(() => session.onReset('not a function'), (e) => e instanceof SessionError && e.code === 'invalid_argument');
});

test('clearOnReset and resetTimeoutMs are checked: invalid_config', async () => {
  const bad = [
    { clearOnReset: [] },
    { clearOnReset: { storageKeys: 'app:*' } },
    { clearOnReset: { storageKeys: [''] } },
    { clearOnReset: { caches: [42] } },
    { clearOnReset: { localStorage: ['x'] } },
    { resetTimeoutMs: -1 },
    { resetTimeoutMs: '2000' },
    { resetTimeoutMs: Infinity },
  ];
  for (const options of bad) {
    await assert.rejects(createSession({ apiBase: suite.server.apiBase, ...options }),
      (e) => e instanceof SessionError && e.code === 'invalid_config', JSON.stringify(options));
  }
});

test('storage keys and cookies named in clearOnReset go; everything else, and the session\'s own keys, stay', async () => {
  const session = await suite.newSession({
    clearOnReset: { storageKeys: ['app:*', 'draft', 'query-*'], cookies: ['prefs', 'ui:*'] },
  });
  await assertLogin(session);
  localStorage.setItem('app:list', '[1]');
  localStorage.setItem('app:user', 'A');
  localStorage.setItem('draft', 'A wrote this');
  localStorage.setItem('drafts', 'kept: not named');
  localStorage.setItem('theme', 'dark');
  sessionStorage.setItem('app:tab', 'x');
  sessionStorage.setItem('query-cache', 'x');
  document.cookie = 'prefs=1; path=/';
  document.cookie = 'ui:lang=en; path=/';
  document.cookie = 'other=2; path=/';
  let storageAtHook;
  session.onReset(() => {
    storageAtHook = localStorage.getItem('app:list');
  });
  await session.logout();
  assert.equal(storageAtHook, '[1]', 'the app\'s hooks run before the built-in cleaners');
  for (const key of ['app:list', 'app:user', 'draft']) assert.equal(localStorage.getItem(key), null, key);
  assert.equal(sessionStorage.getItem('app:tab'), null);
  assert.equal(sessionStorage.getItem('query-cache'), null);
  assert.equal(localStorage.getItem('drafts'), 'kept: not named');
  assert.equal(localStorage.getItem('theme'), 'dark');
  assert.doesNotMatch(document.cookie, /prefs=/);
  assert.doesNotMatch(document.cookie, /ui:lang=/);
  assert.match(document.cookie, /other=2/);
});

test('a storageKeys pattern of * leaves the session\'s own keys to the session', async () => {
  const session = await suite.newSession({ clearOnReset: { storageKeys: ['*'] } });
  await assertLogin(session);
  localStorage.setItem('anything', '1');
  let ownKeysAtEvent;
  window.addEventListener('auth:logout', () => {
    ownKeysAtEvent = ['access_token', 'refresh_token', 'cleanslate_user'].map((k) => localStorage.getItem(k));
  }, { once: true });
  // A switch: the cleaners run while A's tokens are still stored; they must
  // survive the cleaners (the core replaces them with B's).
  const hookSaw = [];
  session.onReset((info) => hookSaw.push(info.reason));
  await assertLogin(session, 'userB@test.com');
  assert.deepEqual(hookSaw, ['switch']);
  assert.equal(localStorage.getItem('anything'), null);
  assert.notEqual(localStorage.getItem('refresh_token'), null);
  assert.equal(session.user.email, 'userB@test.com');
  await session.logout();
  assert.deepEqual(ownKeysAtEvent, [null, null, null]);
});

test('a refused refresh resets the app\'s state as "expired"', async () => {
  const session = await suite.newSession({ clearOnReset: { storageKeys: ['app:*'] } });
  await assertLogin(session);
  localStorage.setItem('app:data', 'A');
  const reasons = [];
  session.onReset((info) => reasons.push(info.reason));
  suite.server.advanceClock(30 * DAY_MS); // access and refresh tokens expire on the server
  const ended = waitForEvent('auth:logout');
  await assert.rejects(session.get('/user/profile'), (e) => e instanceof SessionError && e.code === 'session_expired');
  assert.equal((await ended)[0].detail.reason, 'expired');
  assert.deepEqual(reasons, ['expired']);
  assert.equal(localStorage.getItem('app:data'), null);
});

test('another tab\'s logout resets this tab\'s app state as "remote"', async () => {
  const one = await suite.newSession();
  const two = await suite.newSession();
  const joined = waitForEvent('auth:login', { count: 2 });
  await assertLogin(one);
  await joined;
  assert.equal(two.isAuthenticated(), true);
  const reasons = { one: [], two: [] };
  one.onReset((info) => reasons.one.push(info.reason));
  two.onReset((info) => reasons.two.push(info.reason));
  const bothOut = waitForEvent('auth:logout', { count: 2 });
  await one.logout();
  await bothOut;
  assert.deepEqual(reasons, { one: ['user'], two: ['remote'] });
});

test('switch: another user\'s login resets first; login() and auth:login wait for the hooks\' work', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const marker = localStorage.getItem('cleanslate_last_user');
  assert.match(marker, /^[0-9a-f]{16}$/, 'the last-user marker is a hash');
  assert.notEqual(marker, String(session.user.id));
  assert.ok(!marker.includes('userA'), 'nor the email');
  const order = [];
  const work = deferred();
  const called = deferred();
  session.onReset((info) => {
    order.push(`hook:${info.reason}`);
    called.resolve();
    return work.promise.then(() => order.push('hook work done'));
  });
  window.addEventListener('auth:login', () => order.push('auth:login'), { once: true });
  const login = session.login('userB@test.com', 'password').then((r) => {
    order.push('login resolved');
    return r;
  });
  await within(called.promise, 'the switch hook');
  assert.equal(await isSettled(login), false);
  assert.equal(session.isAuthenticated(), false, 'no session is held while the reset runs');
  work.resolve();
  const result = await within(login, 'login()');
  assert.equal(result.success, true);
  assert.deepEqual(order, ['hook:switch', 'hook work done', 'auth:login', 'login resolved']);
  assert.notEqual(localStorage.getItem('cleanslate_last_user'), marker);
});

test('switch after a reload: A\'s session ended while the page was closed, B logs in', async () => {
  const first = await suite.newSession();
  await assertLogin(first);
  first.dispose();
  // The stored session is gone (it expired and the app dropped it, say),
  // with no reset: the marker of A stays.
  for (const key of ['access_token', 'refresh_token', 'cleanslate_user']) localStorage.removeItem(key);
  const reloaded = await suite.newSession({ clearOnReset: { storageKeys: ['app:*'] } });
  localStorage.setItem('app:cached', 'A\'s data');
  const reasons = [];
  reloaded.onReset((info) => reasons.push(info.reason));
  await assertLogin(reloaded, 'userB@test.com');
  assert.deepEqual(reasons, ['switch']);
  assert.equal(localStorage.getItem('app:cached'), null);
});

test('no switch for the same user again, nor for the next user after a reset', async () => {
  const session = await suite.newSession();
  const reasons = [];
  session.onReset((info) => reasons.push(info.reason));
  await assertLogin(session);
  await assertLogin(session);
  assert.deepEqual(reasons, []);
  await session.logout();
  await assertLogin(session, 'userB@test.com');
  assert.deepEqual(reasons, ['user']);
});

test('the marker lives in the session\'s storage area: sessionStorage, or nowhere with memory', async () => {
  const inTab = await suite.newSession({ storage: 'session' });
  await assertLogin(inTab);
  assert.match(sessionStorage.getItem('cleanslate_last_user'), /^[0-9a-f]{16}$/);
  assert.equal(localStorage.getItem('cleanslate_last_user'), null);
  await inTab.logout();
  inTab.dispose();

  const inMemory = await suite.newSession({ storage: 'memory' });
  const reasons = [];
  inMemory.onReset((info) => reasons.push(info.reason));
  await assertLogin(inMemory);
  assert.equal(localStorage.getItem('cleanslate_last_user'), null);
  assert.equal(sessionStorage.getItem('cleanslate_last_user'), null);
  await assertLogin(inMemory, 'userB@test.com');
  assert.deepEqual(reasons, ['switch'], 'switch detection covers the page\'s lifetime');
});

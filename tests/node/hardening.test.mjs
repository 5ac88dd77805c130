// Bad input, faults and hostile responses through the public API: every one
// ends in a defined outcome with a code, never an exception, a hang or a
// leaked token. Runs in Node with jsdom globals against the reference
// backend, which misbehaves on purpose through its fault hooks (and holds a
// request where a test needs one in flight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBackend, installDom, recordConsole, recordEvents, recordSentHeaders, createSession, SessionError, assertLogin, within,
} from './helpers.mjs';

const suite = useBackend({ loginRateLimit: { perAccount: 1000, perAddress: 1000, windowSec: 300 } });

const jwt = (payload) => `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${
  typeof payload === 'string' ? payload : Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

test('malformed auth answers are bad_response and store nothing: login, CSRF, refresh', async () => {
  const session = await suite.newSession();
  const big = JSON.stringify({ access_token: 'a', refresh_token: 'r', user: { id: 1 }, pad: 'x'.repeat(1024 * 1024) });
  const bodies = ['not json', '{"access_token":', '[]', 'null', '{"access_token":1,"refresh_token":2,"user":{}}',
    '{"refresh_token":"r","user":{}}', '{"access_token":"a","user":{}}', '{"access_token":"a","refresh_token":"r"}',
    '{"access_token":"","refresh_token":"r","user":{}}', '', '<!doctype html><h1>502 Bad Gateway</h1>', big];
  for (const body of bodies) {
    suite.server.fault('POST /auth/login', { mode: 'status', status: 200, body, times: 1 });
    const result = await session.login('userA@test.com', 'password');
    assert.equal(result.success, false, body.slice(0, 40));
    assert.equal(result.code, 'bad_response', body.slice(0, 40));
    assert.equal(localStorage.length, 0);
    assert.equal(session.isAuthenticated(), false);
  }
  assert.equal((await session.login('userA@test.com', 'password')).success, true);

  for (const body of ['<html>', '{"csrf_token":5}', '{}', '', `{"csrf_token":"${'x'.repeat(2 * 1024 * 1024)}"}`]) {
    session.resetCsrfToken();
    suite.server.fault('GET /auth/csrf', { mode: 'status', status: 200, body, times: 1 });
    await assert.rejects(session.post('/user/notes', { text: 'x' }), (e) => e instanceof SessionError && e.code === 'bad_response');
  }
  assert.equal((await session.post('/user/notes', { text: 'fine' })).status, 201);

  const refreshBefore = localStorage.getItem('refresh_token');
  for (const body of ['{"access_token":"only"}', 'garbage', '{"access_token":7,"refresh_token":"r"}']) {
    suite.server.fault('GET /user/profile', { mode: 'status', status: 401, body: { detail: 'expired' }, times: 1 });
    suite.server.fault('POST /auth/refresh', { mode: 'status', status: 200, body, times: 1 });
    await assert.rejects(session.get('/user/profile'), (e) => e.code === 'bad_response');
    assert.equal(localStorage.getItem('refresh_token'), refreshBefore, 'nothing stored');
    assert.equal(session.isAuthenticated(), true);
  }
});

test('odd access tokens are treated as opaque: no crash, reactive refresh still works', async () => {
  const session = await suite.newSession();
  const odd = ['opaque-token', 'a.b', jwt({ sub: '1', exp: 'soon' }), jwt({ exp: 1e300 }), jwt({ exp: -1 }),
    jwt('!!!not-base64!!!'), jwt({ exp: 17e8, pad: 'y'.repeat(200000) }), jwt('W10')];
  for (const access of odd) {
    assert.equal((await session.logout()).success, true);
    // A real login, whose access token the backend then swaps for an odd one.
    await assertLogin(session);
    const refreshToken = localStorage.getItem('refresh_token');
    localStorage.setItem('access_token', access);
    const res = await session.get('/user/profile'); // the backend says 401; refresh; replay
    if (access.length > 16 * 1024) {
      // Larger than the backend accepts in a header: its own 4xx comes back, nothing breaks.
      assert.ok([400, 431].includes(res.status), `${res.status}`);
      continue;
    }
    assert.equal(res.status, 200, access.slice(0, 30));
    assert.notEqual(localStorage.getItem('refresh_token'), refreshToken);
  }
});

test('storage that throws (quota, SecurityError) keeps the session working in memory with one warning', async () => {
  for (const failure of ['QuotaExceededError', 'SecurityError']) {
    installDom(`${suite.server.url}/`);
    const real = globalThis.localStorage;
    const broken = {
      getItem: (k) => { if (failure === 'SecurityError') throw new DOMException('disabled', failure); return real.getItem(k); },
      setItem: () => { throw new DOMException('full', failure); },
      removeItem: (k) => real.removeItem(k),
    };
    globalThis.localStorage = broken;
    const rec = recordConsole(); // a storage that throws on read is noticed at construction
    const session = await suite.newSession({ logLevel: 'warn' });
    try {
      const login = await session.login('userA@test.com', 'password');
      assert.equal(login.success, true, failure);
      assert.equal(session.isAuthenticated(), true);
      assert.equal((await session.get('/user/profile')).data.email, 'userA@test.com');
      assert.equal((await session.logout()).success, true);
      assert.equal(session.isAuthenticated(), false);
      assert.equal((await session.login('userB@test.com', 'password')).success, true);
      assert.equal((await session.get('/user/profile')).data.email, 'userB@test.com');
    } finally {
      rec.restore();
    }
    const warnings = rec.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(rec.lines));
    assert.match(warnings[0].text, new RegExp(`Storage unavailable \\(${failure}\\)`));
    assert.equal(real.getItem('access_token'), null, 'no token left in the broken storage');
    session.dispose();
    suite.sessions.pop();
  }
});

test('XMLHttpRequest that throws on open or send is a network error, and the session carries on', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const Real = globalThis.XMLHttpRequest;
  for (const where of ['constructor', 'open', 'send']) {
    globalThis.XMLHttpRequest = class extends Real {
      constructor() { if (where === 'constructor') throw new Error('blocked'); super(); }
      open(...args) { if (where === 'open') throw new DOMException('bad', 'SyntaxError'); return super.open(...args); }
      send(...args) { if (where === 'send') throw new DOMException('bad', 'NetworkError'); return super.send(...args); }
    };
    await assert.rejects(session.get('/user/profile'), (e) => e instanceof SessionError && e.code === 'network', where);
    globalThis.XMLHttpRequest = Real;
    assert.equal((await session.get('/user/profile')).status, 200, `works again after ${where}`);
  }
  // Logout never rejects, whatever the transport does.
  globalThis.XMLHttpRequest = class extends Real { open() { throw new Error('no'); } };
  const out = await session.logout();
  globalThis.XMLHttpRequest = Real;
  assert.equal(out.success, true);
  assert.equal(out.backendNotified, false);
  assert.equal(localStorage.getItem('access_token'), null);
});

test('without BroadcastChannel and navigator.locks the session still works (fallbacks)', async () => {
  const saved = globalThis.BroadcastChannel;
  delete globalThis.BroadcastChannel;
  try {
    const session = await suite.newSession();
    assert.equal((await session.login('userA@test.com', 'password')).success, true);
    assert.equal((await session.get('/user/profile')).status, 200);
    assert.equal((await session.logout()).success, true);
    assert.equal(session.isAuthenticated(), false);
  } finally {
    globalThis.BroadcastChannel = saved;
  }
});

test('lifecycle edges have defined results: after dispose, double logout, login during logout, concurrent logins', async () => {
  const session = await suite.newSession();
  // Concurrent logins: the newest wins, the older one says superseded.
  const [first, second] = await Promise.all([
    session.login('userA@test.com', 'password'),
    session.login('userB@test.com', 'password'),
  ]);
  assert.deepEqual([first.success, first.code], [false, 'superseded']);
  assert.equal(second.success, true);
  assert.equal(session.user.email, 'userB@test.com');

  // Double logout: both resolve; the second finds nothing to tell the backend.
  const events = recordEvents();
  const [one, two] = await Promise.all([session.logout(), session.logout()]);
  assert.equal(one.success, true);
  assert.equal(two.success, true);
  assert.equal(events.filter((e) => e.type === 'auth:logout').length, 2);

  // Login during logout: the logout's notice, held at the server until the
  // new login is done, does not touch the new session.
  await assertLogin(session, 'userA@test.com');
  suite.server.fault('POST /auth/logout', { mode: 'hold', times: 1 });
  const logoutArrived = suite.server.waitForRequest((r) => r.path === '/auth/logout');
  const loggingOut = session.logout();
  await assertLogin(session, 'userB@test.com');
  await within(logoutArrived, 'the logout notice');
  assert.equal(suite.server.release('POST /auth/logout'), 1);
  assert.equal((await loggingOut).success, true);
  assert.equal(session.user.email, 'userB@test.com');

  // Logout while a login is in flight: the login reports session_changed, and
  // its answer, let through only after the logout, signs nobody in.
  suite.server.fault('POST /auth/login', { mode: 'hold', times: 1 });
  const isLogin = (r) => r.path === '/auth/login';
  const loginArrived = suite.server.waitForRequest(isLogin);
  const loginAnswered = suite.server.waitForResponse(isLogin);
  const pendingLogin = session.login('userA@test.com', 'password');
  await within(loginArrived, 'the login request');
  assert.equal((await session.logout()).success, true);
  assert.equal(suite.server.release('POST /auth/login'), 1);
  const late = await pendingLogin;
  assert.equal(late.success, false);
  assert.equal(late.code, 'session_changed');
  await within(loginAnswered, 'the login answer');
  // Made after the login answer was written, so answered after it was handled.
  assert.equal((await session.get('/public/ping')).status, 200);
  assert.equal(session.isAuthenticated(), false);
  assert.equal(localStorage.getItem('access_token'), null);

  // After dispose: defined results, nothing throws.
  session.dispose();
  session.dispose();
  assert.equal(session.isAuthenticated(), false);
  assert.equal(session.user, null);
  assert.deepEqual(await session.login('userA@test.com', 'password'), { success: false, error: 'The session was disposed', code: 'disposed' });
  assert.equal((await session.logout()).code, 'disposed');
  await assert.rejects(session.get('/user/profile'), (e) => e.code === 'disposed');
  session.resetCsrfToken();
  session.resetApiState();
});

test('bad arguments reject with invalid_argument, never throw', async () => {
  const session = await suite.newSession();
  await assert.rejects(session.request('TRACE', '/x'), (e) => e.code === 'invalid_argument');
  await assert.rejects(session.request(42, '/x'), (e) => e.code === 'invalid_argument');
  await assert.rejects(session.get('/x', { headers: { 'X-Bad': 'a\r\nInjected: 1' } }), (e) => e.code === 'invalid_argument');
  await assert.rejects(session.get('/x', { headers: { 'bad header': '1' } }), (e) => e.code === 'invalid_argument');
  const cyclic = {};
  cyclic.self = cyclic;
  await assert.rejects(session.post('/x', cyclic), (e) => e.code === 'invalid_argument');
  await assert.rejects(session.post('/x', 10n), (e) => e.code === 'invalid_argument');
  assert.equal((await session.login('', '')).code, 'invalid_argument');
  assert.equal((await session.login(null, undefined)).code, 'invalid_argument');
  await assert.rejects(createSession(null), (e) => e.code === 'invalid_config');
  await assert.rejects(createSession({ apiBase: suite.server.apiBase, endpoints: { login: 'https://evil.test/login' } }), (e) => e.code === 'invalid_config');
});

test('no token or password in any log line at any level, or in any event detail', async () => {
  const session = await suite.newSession({ logLevel: 'debug' });
  const events = recordEvents();
  const rec = recordConsole();
  const sent = recordSentHeaders();
  const secrets = new Set(['password']);
  const steps = {};
  try {
    steps.login = (await session.login('userA@test.com', 'password')).success;
    secrets.add(localStorage.getItem('access_token'));
    secrets.add(localStorage.getItem('refresh_token'));
    steps.note = (await session.post('/user/notes', { text: 'x' })).status;
    suite.server.fault('GET /user/profile', { mode: 'status', status: 401, body: { detail: 'expired' }, times: 1 });
    steps.refreshed = (await session.get('/user/profile')).status; // refresh
    secrets.add(localStorage.getItem('access_token'));
    secrets.add(localStorage.getItem('refresh_token'));
    suite.server.fault('POST /auth/logout', { mode: 'status', status: 500, body: { detail: 'nope' }, times: 1 });
    steps.logout = (await session.logout()).success;
    steps.wrong = (await session.login('userA@test.com', 'wrong')).code;
  } finally {
    rec.restore();
    sent.restore();
  }
  assert.deepEqual(steps, { login: true, note: 201, refreshed: 200, logout: true, wrong: 'invalid_credentials' });
  assert.ok(![...secrets].includes(null), 'every token was there to collect');
  for (const r of sent.sent) if (r.headers['x-csrf-token']) secrets.add(r.headers['x-csrf-token']);
  assert.ok(secrets.size >= 5);
  assert.ok(rec.lines.length >= 10);
  const everything = [...rec.lines.map((l) => l.text), ...events.map((e) => JSON.stringify(e.detail))];
  for (const text of everything) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `secret in: ${text}`);
  }
});

test('credentials never go to an origin that only looks like apiBase', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const port = new URL(suite.server.url).port;
  const lookalikes = [
    `http://127.0.0.1.evil.test:${port}/api/v1/user/profile`,
    `http://127.0.0.1:${port}@evil.test/api/v1/user/profile`,
    `http://evil.test/http://127.0.0.1:${port}/api/v1/user/profile`,
    `https://127.0.0.1:${port}/api/v1/user/profile`,
    `http://localhost:${port}/api/v1/user/profile`,
    `//evil.test/api/v1/user/profile`,
  ];
  const before = suite.server.requests.length;
  for (const url of lookalikes) {
    const outcome = await session.get(url).then((r) => r.status, (e) => e.code);
    assert.ok(outcome !== undefined);
  }
  // Whatever reached our backend through these (only the localhost alias can)
  // arrived without the session's credentials.
  for (const r of suite.server.requests.slice(before)) {
    assert.equal(r.hasAuthorization, false, r.path);
    assert.equal(r.hasCsrf, false, r.path);
  }
});

test('an absolute URL a browser could read as apiBase in its own way is refused, and nothing is sent', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const port = new URL(suite.server.url).port;
  const unreadable = [
    `http://127.0.0.1:${port}/api/v1/user/profile\u0000`,
    `http://127.0.0.1:${port}\\api/v1/user/profile`,
    `http://user@127.0.0.1:${port}/api/v1/user/profile`,
    `http:127.0.0.1:${port}/api/v1/user/profile`,
  ];
  const before = suite.server.requests.length;
  for (const url of unreadable) {
    const error = await session.get(url, { headers: { Authorization: 'Bearer forged' } }).then(() => null, (e) => e);
    assert.ok(error instanceof SessionError, url);
    assert.equal(error.code, 'invalid_argument', url);
  }
  assert.equal(suite.server.requests.length, before, 'nothing reached the backend');
  assert.equal((await session.get('/user/profile')).status, 200, 'the session goes on');
});

test('a harness that puts only window and XMLHttpRequest on globalThis still gets storage and events', async () => {
  for (const name of ['localStorage', 'sessionStorage', 'dispatchEvent', 'addEventListener', 'removeEventListener', 'CustomEvent']) {
    delete globalThis[name];
  }
  const seen = [];
  globalThis.window.addEventListener('auth:login', (e) => seen.push(e.detail.user.email));
  const session = await suite.newSession({ logLevel: 'warn' });
  const rec = recordConsole();
  try {
    assert.equal((await session.login('userA@test.com', 'password')).success, true);
  } finally {
    rec.restore();
  }
  assert.deepEqual(seen, ['userA@test.com']);
  assert.ok(globalThis.window.localStorage.getItem('access_token'));
  assert.deepEqual(rec.texts(), [], 'no storage warning, no dispatch error');
});

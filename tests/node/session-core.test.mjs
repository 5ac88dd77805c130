// The session core through the public API, in Node with jsdom globals,
// against the real reference backend on 127.0.0.1: the seed's A → logout →
// B flow, logout order and bounds, storage modes, CSRF and header rules.
// Requests are held and released at the server (a 'hold' fault) where a test
// needs one in flight; time bounds are upper bounds on liveness, with room
// for a machine whose cores are all busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import {
  useBackend, startBackend, installDom, recordConsole, recordEvents, recordSentHeaders, createSession, SessionError,
  assertLogin, within,
} from './helpers.mjs';
import { startServer } from '../../web/server/app.mjs';

const suite = useBackend({}, {}); // sessions keep the default logLevel

// What a busy machine may add to a timer before its callback runs. Bounds
// that say "resolves within X" allow X plus this; timers never fire early, so
// lower bounds need no slack.
const BUSY_SLACK_MS = 2000;
// The request timeout of the timeout tests: long enough that a request that
// is answered never meets it on a busy machine.
const SHORT_TIMEOUT_MS = 1000;

/**
 * A session with these options restored from storage after a login made with
 * the default timeouts, so the login itself never meets a short bound.
 */
async function restoredSession(options, email = 'userA@test.com') {
  const first = await suite.newSession();
  await assertLogin(first, email);
  first.dispose();
  const session = await suite.newSession(options);
  assert.equal(session.isAuthenticated(), true, 'restored from storage');
  assert.equal(session.user.email, email);
  return session;
}

test('seed flow: A logs in, reads A, logs out; B logs in and reads only B', async () => {
  const session = await suite.newSession();
  const sent = recordSentHeaders();
  const a = await session.login('userA@test.com', 'password');
  assert.equal(a.success, true);
  assert.equal(a.user.email, 'userA@test.com');
  const profileA = await session.get('/user/profile');
  assert.equal(profileA.status, 200);
  assert.equal(profileA.data.email, 'userA@test.com');
  const tokenA = localStorage.getItem('access_token');
  assert.ok(tokenA);

  const out = await session.logout();
  assert.equal(out.success, true);
  assert.equal(session.isAuthenticated(), false);
  assert.equal(session.user, null);
  assert.equal(localStorage.getItem('access_token'), null);
  assert.equal(localStorage.getItem('refresh_token'), null);

  const b = await session.login('userB@test.com', 'password');
  assert.equal(b.success, true);
  const profileB = await session.get('/user/profile');
  assert.equal(profileB.data.email, 'userB@test.com');
  assert.notEqual(profileB.data.email, 'userA@test.com');
  assert.equal(session.user.email, 'userB@test.com');
  assert.notEqual(localStorage.getItem('access_token'), tokenA);
  sent.restore();
  const lastProfile = sent.sent.filter((r) => r.url.endsWith('/user/profile')).at(-1);
  assert.equal(lastProfile.headers.authorization, `Bearer ${localStorage.getItem('access_token')}`);
  assert.notEqual(lastProfile.headers.authorization, `Bearer ${tokenA}`);
});

test('inside the auth:logout listener the tokens are already gone', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const seen = [];
  const onLogout = (event) => {
    seen.push({
      access: localStorage.getItem('access_token'),
      refresh: localStorage.getItem('refresh_token'),
      authenticated: session.isAuthenticated(),
      user: session.user,
      reason: event.detail.reason,
      timestamp: event.detail.timestamp,
      logoutRequestsSoFar: suite.server.requests.filter((r) => r.path === '/auth/logout').length - logoutsBefore,
    });
  };
  const before = suite.server.requests.length;
  const logoutsBefore = suite.server.requests.filter((r) => r.path === '/auth/logout').length;
  addEventListener('auth:logout', onLogout);
  const started = Date.now();
  await session.logout();
  removeEventListener('auth:logout', onLogout);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    { access: seen[0].access, refresh: seen[0].refresh, authenticated: seen[0].authenticated, user: seen[0].user, reason: seen[0].reason },
    { access: null, refresh: null, authenticated: false, user: null, reason: 'user' },
  );
  assert.ok(seen[0].timestamp >= started - 5 && seen[0].timestamp <= Date.now());
  assert.equal(seen[0].logoutRequestsSoFar, 0, 'the backend was told only after the event');
  assert.ok(suite.server.requests.slice(before).some((r) => r.path === '/auth/logout'));
});

test('console lines at info, verbatim and in order, with no token in any line', async () => {
  const session = await suite.newSession({ logLevel: 'debug' });
  const rec = recordConsole();
  const sent = recordSentHeaders();
  let login;
  let profile;
  let out;
  try {
    login = await session.login('userA@test.com', 'password');
    profile = await session.get('/user/profile');
    out = await session.logout();
  } finally {
    rec.restore();
    sent.restore();
  }
  assert.equal(login.success, true);
  assert.equal(profile.status, 200);
  assert.equal(out.success, true);
  const texts = rec.texts();
  assert.deepEqual(texts, [
    '[Auth] Attempting login for: userA@test.com',
    '[CSRF] Fetching fresh token for new session',
    '[Auth] Login successful, storing tokens',
    '[Auth] Logging out',
    '[CSRF] Token cache reset for new session',
    '[API] Interceptor state reset for new session',
    '[Auth] API state reset complete',
    '[Auth] Tokens cleared from localStorage',
    '[Auth] Backend logout notification successful',
  ]);
  const tokens = sent.sent.flatMap((r) => [r.headers.authorization?.slice(7), r.headers['x-csrf-token']]).filter(Boolean);
  assert.ok(tokens.length >= 3);
  for (const line of texts) for (const token of tokens) assert.ok(!line.includes(token), `token in log line: ${line}`);
});

test('logLevel warn (the default) prints nothing on a clean login/logout', async () => {
  const session = await suite.newSession();
  const rec = recordConsole();
  let login;
  let out;
  try {
    login = await session.login('userA@test.com', 'password');
    out = await session.logout();
  } finally {
    rec.restore();
  }
  assert.equal(login.success, true);
  assert.equal(out.success, true);
  assert.deepEqual(rec.texts(), []);
});

test('logout with a hanging backend resolves within logoutTimeoutMs and warns', async () => {
  const session = await suite.newSession({ logLevel: 'info', logoutTimeoutMs: 400 });
  await assertLogin(session);
  suite.server.fault('POST /auth/logout', { mode: 'hang', times: 1 });
  const events = recordEvents();
  const rec = recordConsole();
  const started = performance.now();
  let result;
  try {
    result = await session.logout();
  } finally {
    rec.restore();
  }
  const elapsed = performance.now() - started;
  assert.equal(result.success, true);
  assert.equal(result.backendNotified, false);
  // The bound exists (the backend never answers); a busy machine may run its timer late.
  assert.ok(elapsed < 400 + BUSY_SLACK_MS, `logout took ${elapsed} ms`);
  assert.ok(elapsed >= 350, `logout resolved before its bound (${elapsed} ms) although the backend hung`);
  assert.equal(events.filter((e) => e.type === 'auth:logout').length, 1);
  const warning = rec.lines.find((l) => l.text.startsWith('[Auth] Backend notification failed (non-critical): '));
  assert.ok(warning, rec.texts().join('\n'));
  assert.equal(warning.level, 'warn');
  assert.equal(localStorage.getItem('refresh_token'), null);
});

test('logout with the backend stopped resolves at once, clean', async () => {
  const own = await startBackend();
  installDom(`${own.url}/`);
  try {
    // A bound far above what the refused connection takes, so "at once" means
    // "on the refusal, not at the bound", even on a busy machine.
    const logoutTimeoutMs = 30000;
    const session = await createSession({ apiBase: own.apiBase, logoutTimeoutMs, logLevel: 'silent' });
    suite.sessions.push(session);
    await assertLogin(session);
    await own.closeKeepingDb();
    const started = performance.now();
    const result = await session.logout();
    const elapsed = performance.now() - started;
    assert.equal(result.success, true);
    assert.equal(result.backendNotified, false);
    assert.ok(elapsed < logoutTimeoutMs / 3, `logout took ${elapsed} ms`);
    assert.equal(session.isAuthenticated(), false);
    assert.equal(localStorage.getItem('access_token'), null);
  } finally {
    await own.close();
  }
});

test('the revoked refresh token is refused after logout, and after a restart on the same database', async () => {
  const own = await startBackend();
  const dbPath = own.dbPath;
  installDom(`${own.url}/`);
  try {
    const session = await createSession({ apiBase: own.apiBase, logLevel: 'silent' });
    suite.sessions.push(session);
    await assertLogin(session);
    const refreshToken = localStorage.getItem('refresh_token');
    assert.ok(refreshToken);
    const result = await session.logout();
    assert.equal(result.success, true);
    assert.equal(result.backendNotified, true);
    const logoutRequest = own.requests.find((r) => r.path === '/auth/logout');
    assert.equal(logoutRequest.refreshTokenHash, createHash('sha256').update(refreshToken).digest('hex'));

    const tryRefresh = async (base) => {
      const csrf = await (await fetch(`${base}/auth/csrf`)).json();
      const res = await fetch(`${base}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.csrf_token },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      return res.status;
    };
    assert.equal(await tryRefresh(own.apiBase), 401);
    await own.closeKeepingDb();
    const restarted = await startServer({ port: 0, dbPath });
    try {
      assert.equal(await tryRefresh(restarted.apiBase), 401);
    } finally {
      await restarted.close();
    }
  } finally {
    await own.close();
  }
});

test('CSRF is fetched once for many concurrent unsafe requests', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  assert.equal((await session.get('/user/profile')).status, 200);
  session.resetCsrfToken();
  const before = suite.server.stats.csrf;
  const sent = recordSentHeaders();
  let results;
  try {
    results = await Promise.all(Array.from({ length: 12 }, (_, i) => session.post('/user/notes', { text: `n${i}` })));
  } finally {
    sent.restore();
  }
  assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.map((r) => r.status)));
  assert.equal(suite.server.stats.csrf - before, 1);
  const notes = sent.sent.filter((r) => r.url.endsWith('/user/notes'));
  assert.equal(notes.length, 12);
  assert.equal(new Set(notes.map((r) => r.headers['x-csrf-token'])).size, 1);
});

test('a 403 csrf_invalid refetches the token and retries once', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  assert.equal((await session.post('/user/notes', { text: 'first' })).status, 201);
  const postsBefore = suite.server.requests.filter((r) => r.path === '/user/notes' && r.method === 'POST').length - 1;
  suite.server.rotateCsrfSecret();
  const before = suite.server.stats.csrf;
  const res = await session.post('/user/notes', { text: 'after rotation' });
  assert.equal(res.status, 201);
  assert.equal(suite.server.stats.csrf - before, 1);
  const notes = suite.server.requests.filter((r) => r.path === '/user/notes' && r.method === 'POST');
  assert.equal(notes.length - postsBefore, 3, 'first, the refused attempt, and one retry');

  // A server that keeps refusing gets exactly one retry, then the 403.
  suite.server.fault('POST /user/notes', { mode: 'status', status: 403, body: { detail: 'no', code: 'csrf_invalid' } });
  const refused = await session.post('/user/notes', { text: 'x' });
  assert.equal(refused.status, 403);
  assert.equal(refused.data.code, 'csrf_invalid');
  assert.equal(suite.server.requests.filter((r) => r.path === '/user/notes' && r.method === 'POST').length - postsBefore, 5);
});

test('every apiBase request carries the no-cache trio; only unsafe ones carry CSRF; auth endpoints never Authorization', async () => {
  const session = await suite.newSession();
  const from = suite.server.requests.length;
  await assertLogin(session);
  assert.equal((await session.get('/user/profile')).status, 200);
  assert.equal((await session.post('/user/notes', { text: 'x' })).status, 201);
  // The routes refuse these methods (405); only their headers matter here.
  await session.put('/user/notes', { text: 'x' });
  await session.delete('/user/notes');
  await session.patch('/user/notes', { text: 'x' });
  assert.equal((await session.logout()).backendNotified, true);
  const seen = suite.server.requests.slice(from);
  assert.ok(seen.length >= 9);
  for (const r of seen) {
    assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate', r.path);
    assert.equal(r.headers.pragma, 'no-cache');
    assert.equal(r.headers.expires, '0');
    const unsafe = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method);
    assert.equal(r.hasCsrf, unsafe, `${r.method} ${r.path}`);
    assert.equal(r.hasAuthorization, !r.path.startsWith('/auth/'), r.path);
  }
});

test('requests to another origin carry neither Authorization nor the CSRF header', async () => {
  const received = [];
  const other = http.createServer((req, res) => {
    received.push({ method: req.method, headers: req.headers });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, PATCH');
    res.setHeader('Content-Type', 'application/json');
    res.end(req.method === 'OPTIONS' ? '' : '{"other":true}');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const session = await suite.newSession();
    await assertLogin(session);
    const base = `http://127.0.0.1:${other.address().port}`;
    const got = await session.get(`${base}/data`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.data, { other: true });
    assert.equal((await session.post(`${base}/data`, { a: 1 })).status, 200);
    // Looks like apiBase but is not: another port, a userinfo trick, another host.
    await session.get(`${suite.server.url.replace('127.0.0.1', 'localhost').replace(/:\d+$/, `:${other.address().port}`)}/x`).catch(() => {});
    await session.get(`http://127.0.0.1@127.0.0.1:${other.address().port}/x`).catch(() => {});
    const actual = received.filter((r) => r.method !== 'OPTIONS');
    assert.ok(actual.length >= 2);
    for (const r of received) {
      assert.equal(r.headers.authorization, undefined);
      assert.equal(r.headers['x-csrf-token'], undefined);
      assert.ok(!JSON.stringify(r.headers).includes(localStorage.getItem('access_token')));
    }
    // An absolute URL on apiBase's own origin is treated like a path.
    const own = await session.get(`${suite.server.apiBase}/user/profile`);
    assert.equal(own.status, 200);
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});

test('storage modes: session and memory keep tokens where they say', async () => {
  const inSession = await suite.newSession({ storage: 'session' });
  await assertLogin(inSession, 'userA@test.com');
  assert.ok(sessionStorage.getItem('access_token'));
  assert.equal(localStorage.getItem('access_token'), null);
  assert.equal((await inSession.get('/user/profile')).data.email, 'userA@test.com');
  assert.equal((await inSession.logout()).success, true);
  assert.equal(sessionStorage.getItem('access_token'), null);

  const inMemory = await suite.newSession({ storage: 'memory' });
  await assertLogin(inMemory, 'userB@test.com');
  assert.equal(localStorage.length, 0);
  assert.equal(sessionStorage.length, 0);
  assert.equal(inMemory.isAuthenticated(), true);
  assert.equal((await inMemory.get('/user/profile')).data.email, 'userB@test.com');
  assert.equal((await inMemory.logout()).success, true);
  assert.equal(inMemory.isAuthenticated(), false);
});

test('a session restores from storage on page load', async () => {
  const first = await suite.newSession();
  await assertLogin(first, 'userB@test.com');
  first.dispose();
  const second = await suite.newSession();
  assert.equal(second.isAuthenticated(), true);
  assert.equal(second.user.email, 'userB@test.com');
  assert.equal((await second.get('/user/profile')).data.email, 'userB@test.com');
});

test('login failures resolve with a code, never reject', async () => {
  const session = await suite.newSession({ logLevel: 'silent' });
  const wrong = await session.login('userA@test.com', 'nope');
  assert.deepEqual(wrong, { success: false, error: 'Invalid credentials', code: 'invalid_credentials' });

  suite.server.fault('POST /auth/login', { mode: 'status', status: 503, body: { detail: 'down' }, times: 1 });
  const down = await session.login('userA@test.com', 'password');
  assert.equal(down.success, false);
  assert.equal(down.code, 'server_error');

  for (const body of ['<html>oops</html>', '{"access_token": 5}', '{"access_token":"a","refresh_token":"b"}', '']) {
    suite.server.fault('POST /auth/login', { mode: 'status', status: 200, body, times: 1 });
    const bad = await session.login('userA@test.com', 'password');
    assert.equal(bad.success, false, body);
    assert.equal(bad.code, 'bad_response', body);
    assert.equal(localStorage.getItem('access_token'), null);
  }

  suite.server.fault('POST /auth/login', { mode: 'drop', times: 1 });
  const dropped = await session.login('userA@test.com', 'password');
  assert.equal(dropped.code, 'network');

  assert.equal((await session.login(42, 'password')).code, 'invalid_argument');
  assert.equal(session.isAuthenticated(), false);
});

test('request errors reject with SessionError codes: network, timeout', async () => {
  const session = await restoredSession({ requestTimeoutMs: SHORT_TIMEOUT_MS });
  suite.server.fault('GET /user/profile', { mode: 'drop', times: 1 });
  await assert.rejects(session.get('/user/profile'), (e) => e instanceof SessionError && e.code === 'network');
  suite.server.fault('GET /user/profile', { mode: 'hang', times: 1 });
  const started = performance.now();
  await assert.rejects(session.get('/user/profile'), (e) => e instanceof SessionError && e.code === 'timeout');
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= SHORT_TIMEOUT_MS - 1 && elapsed < SHORT_TIMEOUT_MS + BUSY_SLACK_MS, `timed out after ${elapsed} ms`);
  const ok = await session.get('/user/profile');
  assert.equal(ok.status, 200);
  const missing = await session.get('/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.ok, false);
});

test('each request keeps its own deadline while other timers wait', async () => {
  // The session's timers share one browser timer armed for the earliest task:
  // a logged-in session always has its proactive refresh pending (minutes
  // away), and here two hanging requests whose deadlines are set 150 ms apart.
  const session = await restoredSession({ requestTimeoutMs: SHORT_TIMEOUT_MS });
  suite.server.fault('GET /user/profile', { mode: 'hang', times: 2 });
  const order = [];
  // Milliseconds from a request's own start to its timeout.
  const timedOutAfter = (name) => {
    const start = performance.now();
    return within(session.get('/user/profile').then(
      () => assert.fail('a hanging request resolved'),
      (e) => {
        assert.equal(e.code, 'timeout');
        order.push(name);
        return { start, ms: performance.now() - start };
      }), `the deadline of the ${name} request`);
  };
  const first = timedOutAfter('first');
  // Not a wait for anything to happen: this spacing is the stimulus, two
  // deadlines set at different times. Every check below is measured from each
  // request's own start, so a late timer here changes no outcome.
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(order, [], 'the first request is still waiting when the second starts');
  const second = timedOutAfter('second');
  const [a, b] = await Promise.all([first, second]);
  // Neither deadline fires early (the second is not taken along with the
  // first), both fire (the timer is re-armed), and in the order they were due.
  assert.ok(a.ms >= SHORT_TIMEOUT_MS - 1 && a.ms < SHORT_TIMEOUT_MS + BUSY_SLACK_MS, `first deadline after ${a.ms} ms`);
  assert.ok(b.ms >= SHORT_TIMEOUT_MS - 1 && b.ms < SHORT_TIMEOUT_MS + BUSY_SLACK_MS, `second deadline after ${b.ms} ms`);
  assert.ok(b.start - a.start >= 149, `deadlines set ${b.start - a.start} ms apart`);
  assert.deepEqual(order, ['first', 'second']);
  const ok = await session.get('/user/profile');
  assert.equal(ok.status, 200);
  assert.equal(session.isAuthenticated(), true, 'the pending proactive refresh timer is still there');
});

test('a request cancelled in the turn that made it never reaches the server', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const before = suite.server.stats.profile;
  const cancelled = session.get('/user/profile');
  session.resetApiState();
  await assert.rejects(cancelled, (e) => e instanceof SessionError && e.code === 'session_changed');
  const dropped = session.get('/user/profile');
  const loggedOut = session.logout();
  await assert.rejects(dropped, (e) => e instanceof SessionError && e.code === 'session_changed');
  assert.equal((await loggedOut).success, true);
  // A request made after both: one of them sent anyway would have left first,
  // so it has reached the server by the time this one is answered.
  assert.equal((await session.get('/public/ping')).status, 200);
  assert.equal(suite.server.stats.profile - before, 0, 'neither request was sent');
  await assertLogin(session);
  assert.equal((await session.get('/user/profile')).status, 200);
  assert.equal(suite.server.stats.profile - before, 1, 'a later request is sent and counted');
});

test('invalid options throw SessionError invalid_config', async () => {
  await assert.rejects(createSession({}), (e) => e.code === 'invalid_config');
  await assert.rejects(createSession({ apiBase: 'ftp://x' }), (e) => e.code === 'invalid_config');
  await assert.rejects(createSession({ apiBase: suite.server.apiBase, storage: 'disk' }), (e) => e.code === 'invalid_config');
  await assert.rejects(createSession({ apiBase: suite.server.apiBase, logoutTimeoutMs: -1 }), (e) => e.code === 'invalid_config');
  const relative = await suite.newSession({ apiBase: '/api/v1' });
  assert.equal((await relative.get('/public/ping')).data.ok, true);
});

test('a slow logout notification never blocks a new login', async () => {
  // The notification is held at the server until B is logged in; the bound
  // on it is far above what B's login takes on a busy machine.
  const session = await suite.newSession({ logoutTimeoutMs: 20000 });
  await assertLogin(session, 'userA@test.com');
  suite.server.fault('POST /auth/logout', { mode: 'hold', times: 1 });
  const isLogout = (r) => r.path === '/auth/logout';
  const logoutArrived = suite.server.waitForRequest(isLogout);
  const logoutAnswered = suite.server.waitForResponse(isLogout);
  const pending = session.logout();
  await assertLogin(session, 'userB@test.com');
  assert.equal((await session.get('/user/profile')).data.email, 'userB@test.com');
  await within(logoutArrived, 'the logout notification');
  assert.equal(suite.server.release('POST /auth/logout'), 1);
  assert.equal((await within(logoutAnswered, 'the logout answer')).status, 200);
  const result = await pending;
  assert.equal(result.backendNotified, true);
  assert.equal(session.user.email, 'userB@test.com', 'the late logout answer did not end B');
  assert.equal((await session.get('/user/profile')).data.email, 'userB@test.com');
});

test('resetApiState() drops what is in flight; the session itself carries on from storage', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  suite.server.fault('GET /user/profile', { mode: 'hold', times: 1 });
  const arrived = suite.server.waitForRequest((r) => r.path === '/user/profile');
  const inFlight = session.get('/user/profile');
  inFlight.catch(() => {}); // asserted below
  await within(arrived, 'the profile request');
  session.resetApiState();
  await assert.rejects(inFlight, (e) => e instanceof SessionError && e.code === 'session_changed');
  assert.equal(suite.server.release('GET /user/profile'), 1);
  assert.equal(session.isAuthenticated(), true);
  const again = await session.get('/user/profile');
  assert.equal(again.status, 200);
  assert.equal(again.data.email, 'userA@test.com');
});

test('response headers reach the caller, lower-cased and whole, however long', async () => {
  const session = await suite.newSession();
  await assertLogin(session);
  const plain = await session.get('/user/profile');
  assert.equal(plain.status, 200);
  assert.match(plain.headers['content-type'], /^application\/json/);
  // Over 1 KB of headers: past the transport's first-read buffer.
  const long = 'v'.repeat(3000);
  suite.server.fault('GET /user/items', {
    mode: 'status', status: 200, body: { items: [] }, headers: { 'X-Long': long, 'X-Short': 'yes' }, times: 1,
  });
  const big = await session.get('/user/items');
  assert.equal(big.status, 200);
  assert.deepEqual(big.data, { items: [] });
  assert.equal(big.headers['x-long'], long);
  assert.equal(big.headers['x-short'], 'yes');
  assert.match(big.headers['content-type'], /^application\/json/);
});

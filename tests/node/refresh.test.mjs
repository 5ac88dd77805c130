// Token refresh and the session generation guard, through the public API in
// Node with jsdom globals, against the real reference backend. An access
// token expires because the server's clock is moved past it (advanceClock),
// never because the test waited; the proactive timer, which runs on the
// client's clock, is met with short-lived tokens and waited for by its event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  useBackend, startBackend, installDom, recordEvents, createSession, SessionError,
  assertLogin, waitForEvent, within,
} from './helpers.mjs';

// On the client's clock the suite's tokens live 15 minutes, so no proactive
// refresh fires during a test and every refresh here is the reactive one.
const ACCESS_TTL_SEC = 900;
const suite = useBackend({ accessTtlSec: ACCESS_TTL_SEC });

/** Every access token the server has issued so far is expired from now on. */
function expireAccessTokens(server = suite.server) {
  server.advanceClock((ACCESS_TTL_SEC + 1) * 1000);
}

/** Logs in, expires the access token on the server, and returns a session restored from storage with it. */
async function sessionWithExpiredAccess(user = 'userA@test.com', options = {}) {
  const first = await suite.newSession();
  await assertLogin(first, user);
  first.dispose(); // its timers are gone; the tokens stay in storage
  expireAccessTokens();
  const session = await suite.newSession(options);
  assert.equal(session.isAuthenticated(), true, 'restored from storage');
  assert.equal(session.user.email, user);
  return session;
}

async function rawRefresh(refreshToken) {
  const csrf = await (await fetch(`${suite.server.apiBase}/auth/csrf`)).json();
  const res = await fetch(`${suite.server.apiBase}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.csrf_token },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  return { status: res.status, body: await res.json() };
}

const isRefresh = (r) => r.path === '/auth/refresh';

test('20 concurrent GETs with an expired token: one refresh, all 200, tokens rotated', async () => {
  const session = await sessionWithExpiredAccess();
  const oldRefresh = localStorage.getItem('refresh_token');
  const events = recordEvents();
  const before = suite.server.stats.refresh;
  const results = await Promise.all(Array.from({ length: 20 }, () => session.get('/user/profile')));
  assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
  assert.ok(results.every((r) => r.data.email === 'userA@test.com'));
  assert.equal(suite.server.stats.refresh - before, 1);
  assert.notEqual(localStorage.getItem('refresh_token'), oldRefresh);
  assert.equal(events.filter((e) => e.type === 'auth:refresh').length, 1);
  // The old refresh token is never sent again (the log keeps only its hash).
  const oldHash = createHash('sha256').update(oldRefresh).digest('hex');
  assert.equal(suite.server.requests.filter((r) => isRefresh(r) && r.refreshTokenHash === oldHash).length, 1);
});

test('a refused refresh ends the session once: expired, session_expired, no loop', async () => {
  const session = await sessionWithExpiredAccess();
  const refreshToken = localStorage.getItem('refresh_token');
  // Revoke it behind the session's back.
  const csrf = await (await fetch(`${suite.server.apiBase}/auth/csrf`)).json();
  const revoked = await fetch(`${suite.server.apiBase}/auth/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.csrf_token },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  assert.equal(revoked.status, 200);
  const events = recordEvents();
  const before = suite.server.stats.refresh;
  const results = await Promise.allSettled([session.get('/user/profile'), session.get('/user/profile')]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof SessionError);
    assert.equal(r.reason.code, 'session_expired');
  }
  const logouts = events.filter((e) => e.type === 'auth:logout');
  assert.equal(logouts.length, 1);
  assert.equal(logouts[0].detail.reason, 'expired');
  assert.equal(session.isAuthenticated(), false);
  assert.equal(localStorage.getItem('access_token'), null);
  // A request now goes out unauthenticated and gets its 401 back, without a
  // refresh. It is made after the refusal came back, so a refresh sent again
  // on that refusal reached the server before its answer: the count is final.
  const anonymous = await session.get('/user/profile');
  assert.equal(anonymous.status, 401);
  assert.equal(suite.server.stats.refresh - before, 1, 'exactly one refresh, no retry loop');
});

test('a refresh answered after logout puts nothing back', async () => {
  const session = await sessionWithExpiredAccess();
  // Both the refresh and the logout notice wait at the server until released,
  // so the refresh is answered (with a good token pair) after logout() has
  // cleaned up and before the backend revokes anything.
  suite.server.fault('POST /auth/refresh', { mode: 'hold', times: 1 });
  suite.server.fault('POST /auth/logout', { mode: 'hold', times: 1 });
  const refreshArrived = suite.server.waitForRequest(isRefresh);
  const refreshAnswered = suite.server.waitForResponse(isRefresh);
  const logoutArrived = suite.server.waitForRequest((r) => r.path === '/auth/logout');
  const events = recordEvents();
  const pending = session.get('/user/profile');
  pending.catch(() => {}); // rejected during logout(); asserted below
  await within(refreshArrived, 'the refresh after the 401');
  const loggingOut = session.logout();
  await assert.rejects(pending, (e) => e.code === 'session_changed');
  await within(logoutArrived, 'the logout notice');
  assert.equal(suite.server.release('POST /auth/refresh'), 1);
  const answer = await within(refreshAnswered, 'the refresh answer');
  assert.ok([200, null].includes(answer.status), `the refresh was answered ${answer.status} (null: the client hung up)`);
  assert.equal(suite.server.release('POST /auth/logout'), 1);
  assert.equal((await loggingOut).success, true);
  // Made after the refresh answer was written: by the time its own answer is
  // back, the refresh answer has been handled too.
  assert.equal((await session.get('/public/ping')).status, 200);
  assert.equal(localStorage.getItem('access_token'), null);
  assert.equal(localStorage.getItem('refresh_token'), null);
  assert.equal(session.isAuthenticated(), false);
  assert.equal(events.filter((e) => e.type === 'auth:refresh').length, 0);
});

test("A's slow profile request overtaken by logout and B's login rejects with session_changed", async () => {
  const own = await startBackend();
  installDom(`${own.url}/`);
  try {
    const session = await createSession({ apiBase: own.apiBase, logLevel: 'silent' });
    suite.sessions.push(session);
    await assertLogin(session, 'userA@test.com');
    own.fault('GET /user/profile', { mode: 'hold', times: 1 });
    const isProfile = (r) => r.path === '/user/profile';
    const arrived = own.waitForRequest(isProfile);
    const answered = own.waitForResponse(isProfile);
    const slowA = session.get('/user/profile');
    const seen = [];
    slowA.then((r) => seen.push(r.data), () => {});
    await within(arrived, "A's profile request");
    assert.equal((await session.logout()).success, true);
    await assertLogin(session, 'userB@test.com');
    await assert.rejects(slowA, (e) => e instanceof SessionError && e.code === 'session_changed');
    assert.equal(own.release('GET /user/profile'), 1);
    await within(answered, "the answer to A's profile request");
    // B's own request goes out after A's answer was written.
    assert.equal((await session.get('/user/profile')).data.email, 'userB@test.com');
    assert.deepEqual(seen, []);
  } finally {
    await own.close();
  }
});

test('proactive refresh fires before expiry without any request; logout cancels the next one', async () => {
  // The proactive timer runs on the client's clock. Tokens live 4 s and the
  // leeway is 2 s, so it fires halfway, about 2 s after login and at least
  // 1.5 s before exp: room for a refresh round trip on a busy machine.
  const own = await startBackend({ accessTtlSec: 4 });
  installDom(`${own.url}/`);
  // A second backend (another origin, so CORS) for a session that only marks time, below.
  const clockBackend = await startBackend({ accessTtlSec: 4, corsOrigins: [own.url] });
  try {
    const options = { logLevel: 'silent', refreshLeewaySec: 2 };
    const session = await createSession({ apiBase: own.apiBase, ...options });
    suite.sessions.push(session);
    const refreshed = waitForEvent('auth:refresh');
    await assertLogin(session);
    const firstAccess = localStorage.getItem('access_token');
    const exp = JSON.parse(Buffer.from(firstAccess.split('.')[1], 'base64url')).exp * 1000;
    const [refreshEvent] = await refreshed;
    assert.ok(refreshEvent.at < exp, `refreshed ${exp - refreshEvent.at} ms before exp`);
    assert.equal(own.stats.refresh, 1);
    assert.equal(own.requests.filter((r) => r.path === '/user/profile').length, 0);
    assert.notEqual(localStorage.getItem('access_token'), firstAccess);
    assert.equal((await session.get('/user/profile')).status, 200);
    assert.equal((await session.logout()).success, true); // cancels the next proactive timer
    const after = own.stats.refresh;

    // The moment that timer would have fired has passed once a session that
    // logs in now, with the same lifetimes and leeway, has had its own
    // proactive refresh: its timer is due no earlier. It keeps its tokens in
    // memory and talks to another apiBase, so it shares nothing with `session`.
    const clock = await createSession({ apiBase: clockBackend.apiBase, storage: 'memory', ...options });
    suite.sessions.push(clock);
    const clockRefreshed = clockBackend.waitForRequest(isRefresh);
    await assertLogin(clock);
    await within(clockRefreshed, 'the later proactive refresh of the second session');
    assert.equal(own.stats.refresh, after, 'no proactive refresh after logout');
  } finally {
    await own.close();
    await clockBackend.close();
  }
});

test('replaying a rotated refresh token revokes the family: the session ends as expired', async () => {
  const session = await sessionWithExpiredAccess();
  const original = localStorage.getItem('refresh_token');
  assert.equal((await session.get('/user/profile')).status, 200); // reactive refresh rotates
  const rotated = localStorage.getItem('refresh_token');
  assert.notEqual(rotated, original);
  const replay = await rawRefresh(original); // an attacker replays the old token
  assert.equal(replay.status, 401);
  assert.equal(replay.body.code, 'token_reused');
  assert.equal((await rawRefresh(rotated)).status, 401, 'the whole family is revoked');

  // The session finds out at its next refresh: with its access token expired
  // on the server, the next request refreshes, is refused, and is told why.
  expireAccessTokens();
  const events = recordEvents();
  await assert.rejects(session.get('/user/profile'), (e) => e instanceof SessionError && e.code === 'session_expired');
  const logouts = events.filter((e) => e.type === 'auth:logout');
  assert.equal(logouts.length, 1);
  assert.equal(logouts[0].detail.reason, 'expired');
  assert.equal(session.isAuthenticated(), false);
  assert.equal(localStorage.getItem('refresh_token'), null);
});

test('refresh 5xx keeps the session; the caller gets its 401; the next 401 tries again', async () => {
  const session = await sessionWithExpiredAccess();
  suite.server.fault('POST /auth/refresh', { mode: 'status', status: 500, body: { detail: 'broken' }, times: 1 });
  const events = recordEvents();
  const first = await session.get('/user/profile');
  assert.equal(first.status, 401);
  assert.equal(session.isAuthenticated(), true);
  assert.equal(events.filter((e) => e.type === 'auth:logout').length, 0);
  const second = await session.get('/user/profile');
  assert.equal(second.status, 200);
});

test('refresh answered 429 with Retry-After: waits, retries, and succeeds; a backend that stays at 503 gets a bounded number of tries', async () => {
  const session = await sessionWithExpiredAccess();
  suite.server.fault('POST /auth/refresh', { mode: 'status', status: 429, body: { detail: 'slow down' }, headers: { 'Retry-After': '1' }, times: 2 });
  const before = suite.server.requests.filter(isRefresh).length;
  const started = Date.now();
  const ok = await session.get('/user/profile');
  assert.equal(ok.status, 200);
  // A lower bound only: timers never fire early, however busy the machine.
  assert.ok(Date.now() - started >= 1900, 'Retry-After: 1 was honoured twice');
  assert.equal(suite.server.requests.filter(isRefresh).length - before, 3);

  session.dispose(); // it would join the next login as another tab would
  const second = await sessionWithExpiredAccess('userB@test.com', { requestTimeoutMs: 20000 });
  suite.server.fault('POST /auth/refresh', { mode: 'status', status: 503, body: { detail: 'down' } });
  const from = suite.server.requests.filter(isRefresh).length;
  const res = await second.get('/user/profile');
  assert.equal(res.status, 401, 'retries exhausted: the caller sees its own 401');
  assert.equal(second.isAuthenticated(), true, 'the session survives a backend that is down');
  const tries = suite.server.requests.filter(isRefresh);
  assert.equal(tries.length - from, 4, 'one try and three retries');
  // No loop afterwards: the next attempt is the session's own, at least 5 s
  // after the last refusal, and nothing goes out in between.
  const lastAt = tries.at(-1).at;
  const next = await within(suite.server.waitForRequest(isRefresh), 'the next refresh attempt');
  assert.equal(suite.server.requests.filter(isRefresh).length - from, 5, 'nothing between the retries and the next attempt');
  assert.ok(next.at - lastAt >= 4900, `the next attempt came ${next.at - lastAt} ms after the last refusal`);
  suite.server.clearFaults();
});

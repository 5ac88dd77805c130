// Token refresh and the session generation guard, through the public API in
// Node with jsdom globals, against the real reference backend with
// short token lifetimes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBackend, startBackend, installDom, recordEvents, createSession, SessionError, sleep,
} from './helpers.mjs';

const suite = useBackend({ accessTtlSec: 2 });

/** Logs in, lets the access token expire, and returns a session restored from storage with it. */
async function sessionWithExpiredAccess(user = 'userA@test.com', options = {}) {
  const first = await suite.newSession();
  assert.equal((await first.login(user, 'password')).success, true);
  first.dispose(); // its timers are gone; the tokens stay in storage
  await sleep(2100); // accessTtlSec is 2: expired whatever the phase within the second
  // Restored: the proactive timer waits at least a second, so requests made
  // now meet the expired token and take the reactive path.
  return suite.newSession(options);
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
  // The old refresh token is never sent again.
  const refreshBodies = suite.server.requests.filter((r) => r.path === '/auth/refresh').map((r) => JSON.parse(r.body).refresh_token);
  assert.equal(refreshBodies.filter((t) => t === oldRefresh).length, 1);
});

test('a refused refresh ends the session once: expired, session_expired, no loop', async () => {
  const session = await sessionWithExpiredAccess();
  const refreshToken = localStorage.getItem('refresh_token');
  // Revoke it behind the session's back.
  const csrf = await (await fetch(`${suite.server.apiBase}/auth/csrf`)).json();
  await fetch(`${suite.server.apiBase}/auth/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.csrf_token },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
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
  await sleep(1500);
  assert.equal(suite.server.stats.refresh - before, 1, 'exactly one refresh, no retry loop');
  // A request now goes out unauthenticated and gets its 401 back, without a refresh.
  const anonymous = await session.get('/user/profile');
  assert.equal(anonymous.status, 401);
  assert.equal(suite.server.stats.refresh - before, 1);
});

test('a refresh delayed by the backend and overtaken by logout puts nothing back', async () => {
  const session = await sessionWithExpiredAccess();
  suite.server.fault('POST /auth/refresh', { mode: 'delay', delayMs: 600, times: 1 });
  const events = recordEvents();
  const pending = session.get('/user/profile');
  pending.catch(() => {}); // rejected during logout(); asserted below
  await sleep(150); // the 401 has come back and the refresh is on its way
  assert.equal(suite.server.requests.filter((r) => r.path === '/auth/refresh').length >= 1, true);
  await session.logout();
  await assert.rejects(pending, (e) => e.code === 'session_changed');
  await sleep(800); // the refresh answer has landed by now
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
    await session.login('userA@test.com', 'password');
    own.fault('GET /user/profile', { mode: 'delay', delayMs: 500, times: 1 });
    const slowA = session.get('/user/profile');
    const seen = [];
    slowA.then((r) => seen.push(r.data), () => {});
    await sleep(50);
    await session.logout();
    assert.equal((await session.login('userB@test.com', 'password')).success, true);
    await assert.rejects(slowA, (e) => e instanceof SessionError && e.code === 'session_changed');
    await sleep(600);
    assert.deepEqual(seen, []);
    assert.equal((await session.get('/user/profile')).data.email, 'userB@test.com');
  } finally {
    await own.close();
  }
});

test('proactive refresh fires before expiry without any request', async () => {
  const own = await startBackend({ accessTtlSec: 3 });
  installDom(`${own.url}/`);
  try {
    const session = await createSession({ apiBase: own.apiBase, logLevel: 'silent', refreshLeewaySec: 1 });
    suite.sessions.push(session);
    const events = recordEvents();
    await session.login('userA@test.com', 'password');
    const loggedInAt = Date.now();
    const firstAccess = localStorage.getItem('access_token');
    const exp = JSON.parse(Buffer.from(firstAccess.split('.')[1], 'base64url')).exp * 1000;
    while (!events.some((e) => e.type === 'auth:refresh') && Date.now() - loggedInAt < 4000) await sleep(50);
    const refreshEvent = events.find((e) => e.type === 'auth:refresh');
    assert.ok(refreshEvent, 'auth:refresh fired');
    assert.ok(refreshEvent.at < exp, `refreshed ${exp - refreshEvent.at} ms before exp`);
    assert.equal(own.stats.refresh, 1);
    assert.equal(own.requests.filter((r) => r.path === '/user/profile').length, 0);
    assert.notEqual(localStorage.getItem('access_token'), firstAccess);
    assert.equal((await session.get('/user/profile')).status, 200);
    await session.logout(); // cancels the next proactive timer
    const after = own.stats.refresh;
    await sleep(2500);
    assert.equal(own.stats.refresh, after);
  } finally {
    await own.close();
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

  // The session finds out at its next refresh, proactive (the new access
  // token lives a second) or reactive, whichever comes first.
  const events = recordEvents();
  const request = session.get('/user/profile').then((r) => r.status, (e) => e.code);
  const deadline = Date.now() + 3000;
  while (!events.some((e) => e.type === 'auth:logout') && Date.now() < deadline) await sleep(25);
  const logouts = events.filter((e) => e.type === 'auth:logout');
  assert.equal(logouts.length, 1);
  assert.equal(logouts[0].detail.reason, 'expired');
  assert.equal(session.isAuthenticated(), false);
  assert.equal(localStorage.getItem('refresh_token'), null);
  assert.ok(['session_expired', 200].includes(await request), 'the request either ran before expiry or was told why it failed');
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
  const before = suite.server.requests.filter((r) => r.path === '/auth/refresh').length;
  const started = Date.now();
  const ok = await session.get('/user/profile');
  assert.equal(ok.status, 200);
  assert.ok(Date.now() - started >= 1900, 'Retry-After: 1 was honoured twice');
  assert.equal(suite.server.requests.filter((r) => r.path === '/auth/refresh').length - before, 3);

  session.dispose(); // it would join the next login as another tab would
  const second = await sessionWithExpiredAccess('userB@test.com', { requestTimeoutMs: 20000 });
  suite.server.fault('POST /auth/refresh', { mode: 'status', status: 503, body: { detail: 'down' } });
  const from = suite.server.requests.filter((r) => r.path === '/auth/refresh').length;
  const res = await second.get('/user/profile');
  assert.equal(res.status, 401, 'retries exhausted: the caller sees its own 401');
  assert.equal(second.isAuthenticated(), true, 'the session survives a backend that is down');
  const tries = suite.server.requests.filter((r) => r.path === '/auth/refresh').length - from;
  assert.ok(tries >= 4 && tries <= 5, `one try and three retries (${tries}; a proactive attempt may add one)`);
  await sleep(1500);
  const later = suite.server.requests.filter((r) => r.path === '/auth/refresh').length - from - tries;
  assert.equal(later, 0, `no loop afterwards: ${later} more tries in 1.5 s (the next attempt waits at least 5 s)`);
  suite.server.clearFaults();
});

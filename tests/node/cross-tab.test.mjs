// Cross-tab behaviour where Node has the APIs: two sessions in one process
// share a jsdom window's localStorage and Node's BroadcastChannel, as two tabs
// of one origin would. (Web Locks are absent here, so the storage lease is
// what serialises their refreshes.)
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, installDom, removeDom, recordEvents, createSession, sleep } from './helpers.mjs';

let server;
const sessions = [];

before(async () => {
  server = await startBackend();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  installDom(`${server.url}/`);
});
afterEach(() => {
  while (sessions.length) sessions.pop().dispose();
  removeDom();
});

async function tab(options = {}) {
  const session = await createSession({ apiBase: server.apiBase, logLevel: 'silent', ...options });
  sessions.push(session);
  return session;
}

async function until(predicate, ms = 1000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

test('login and logout in one "tab" reach the other; only one tells the backend', async () => {
  assert.equal(typeof globalThis.BroadcastChannel, 'function');
  const one = await tab();
  const two = await tab();
  const events = recordEvents();
  await one.login('userA@test.com', 'password');
  await until(() => two.isAuthenticated());
  assert.equal(two.user.email, 'userA@test.com');
  // Both fire auth:login on the shared window: one for each session.
  await until(() => events.filter((e) => e.type === 'auth:login').length === 2);

  server.fault('GET /user/profile', { mode: 'delay', delayMs: 300, times: 1 });
  const pending = two.get('/user/profile');
  pending.catch(() => {}); // rejected when the other tab logs out; asserted below
  const logoutsBefore = server.requests.filter((r) => r.path === '/auth/logout').length;
  await one.logout();
  await until(() => events.some((e) => e.type === 'auth:logout' && e.detail.reason === 'remote'));
  assert.equal(two.isAuthenticated(), false);
  await assert.rejects(pending, (e) => e.code === 'session_changed');
  assert.equal(server.requests.filter((r) => r.path === '/auth/logout').length - logoutsBefore, 1);
});

test("storage: 'memory' sessions share a login through the channel, never through storage", async () => {
  const one = await tab({ storage: 'memory' });
  const two = await tab({ storage: 'memory' });
  await one.login('userB@test.com', 'password');
  await until(() => two.isAuthenticated());
  assert.equal((await two.get('/user/profile')).data.email, 'userB@test.com');
  assert.equal(localStorage.length, 0);
  assert.equal(sessionStorage.length, 0);
  await two.logout();
  await until(() => !one.isAuthenticated());
});

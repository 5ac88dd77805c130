// Cross-tab behaviour where Node has the APIs: two sessions in one process
// share a jsdom window's localStorage and Node's BroadcastChannel, as two tabs
// of one origin would. (Web Locks are absent here, so the storage lease is
// what serialises their refreshes.) A test waits for the auth:* event that
// says the other tab has caught up, never polls.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  startBackend, installDom, removeDom, createSession, assertLogin, waitForEvent, within,
} from './helpers.mjs';

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
  server.clearFaults();
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

test('login and logout in one "tab" reach the other; only one tells the backend', async () => {
  assert.equal(typeof globalThis.BroadcastChannel, 'function');
  const one = await tab();
  const two = await tab();
  // Both fire auth:login on the shared window: one for each session.
  const logins = waitForEvent('auth:login', { count: 2 });
  await assertLogin(one, 'userA@test.com');
  await logins;
  assert.equal(two.isAuthenticated(), true);
  assert.equal(two.user.email, 'userA@test.com');

  // Held at the server, so it is still in flight when the other tab logs out.
  server.fault('GET /user/profile', { mode: 'hold', times: 1 });
  const arrived = server.waitForRequest((r) => r.path === '/user/profile');
  const pending = two.get('/user/profile');
  pending.catch(() => {}); // rejected when the other tab logs out; asserted below
  await within(arrived, "the second tab's profile request");
  const logoutsBefore = server.requests.filter((r) => r.path === '/auth/logout').length;
  const remote = waitForEvent('auth:logout', { where: (d) => d.reason === 'remote' });
  assert.equal((await one.logout()).backendNotified, true);
  await remote;
  assert.equal(two.isAuthenticated(), false);
  await assert.rejects(pending, (e) => e.code === 'session_changed');
  assert.equal(server.release('GET /user/profile'), 1);
  assert.equal(server.requests.filter((r) => r.path === '/auth/logout').length - logoutsBefore, 1);
});

test("storage: 'memory' sessions share a login through the channel, never through storage", async () => {
  const one = await tab({ storage: 'memory' });
  const two = await tab({ storage: 'memory' });
  const logins = waitForEvent('auth:login', { count: 2 });
  await assertLogin(one, 'userB@test.com');
  await logins;
  assert.equal(two.isAuthenticated(), true);
  assert.equal((await two.get('/user/profile')).data.email, 'userB@test.com');
  assert.equal(localStorage.length, 0);
  assert.equal(sessionStorage.length, 0);
  const remote = waitForEvent('auth:logout', { where: (d) => d.reason === 'remote' });
  assert.equal((await two.logout()).success, true);
  await remote;
  assert.equal(one.isAuthenticated(), false);
});

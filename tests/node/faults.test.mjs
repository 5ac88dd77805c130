// Faults an attacker or a broken network can cause, through the public API:
// requests that end early are really cancelled (the server sees the socket
// close), oversized answers are cut off while they arrive and never reach the
// wasm heap, and odd header input or output is handled like fetch() does.
// Runs in Node with jsdom globals against the reference backend.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { useBackend, SessionError } from './helpers.mjs';

const suite = useBackend({ loginRateLimit: { perAccount: 1000, perAddress: 1000, windowSec: 300 } });

// The entry does not expose its wasm memory: its instance is caught on the way
// out of WebAssembly.instantiate (before the first createSession of this file).
const ourExports = JSON.stringify(WebAssembly.Module.exports(
  new WebAssembly.Module(readFileSync(new URL('../../web/dist/cleanslate.wasm', import.meta.url)))));
let wasmMemory = null;
before(() => {
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (...args) {
    const out = await instantiate.apply(this, args);
    const instance = out instanceof WebAssembly.Instance ? out : out.instance;
    const mod = args[0] instanceof WebAssembly.Module ? args[0] : out.module;
    if (mod && JSON.stringify(WebAssembly.Module.exports(mod)) === ourExports) {
      wasmMemory = Object.values(instance.exports).find((v) => v instanceof WebAssembly.Memory);
    }
    return out;
  };
});

/** Resolves once the server has emitted `event` `count` times. */
function serverSaw(event, count) {
  let seen = 0;
  return new Promise((resolve) => {
    const on = () => {
      seen += 1;
      if (seen === count) {
        suite.server.events.off(event, on);
        resolve(seen);
      }
    };
    suite.server.events.on(event, on);
  });
}
const hungClosed = (count) => serverSaw('hang-closed', count);

async function loggedIn(options = {}) {
  const session = await suite.newSession(options);
  const login = await session.login('userA@test.com', 'password');
  assert.equal(login.success, true, 'login');
  return session;
}

test('timed-out requests are cancelled: the server sees every socket close, and the session goes on', { timeout: 60_000 }, async () => {
  // The bound must also fit the login, the profile and the logout of a busy
  // machine: hung requests only need *a* deadline, not a short one.
  const session = await loggedIn({ requestTimeoutMs: 2_000 });
  suite.server.fault('GET /user/items', { mode: 'hang', times: 8 });
  const closed = hungClosed(8);
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => session.get('/user/items')));
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof SessionError);
    assert.equal(r.reason.code, 'timeout');
  }
  assert.equal(await closed, 8);
  const profile = await session.get('/user/profile');
  assert.equal(profile.status, 200);
  assert.equal(profile.data.email, 'userA@test.com');
  const logout = await session.logout();
  assert.deepEqual(logout, { success: true, backendNotified: true });
});

test('resetApiState(), logout() and dispose() cancel what is in flight', { timeout: 60_000 }, async () => {
  for (const end of ['resetApiState', 'logout', 'dispose']) {
    const session = await loggedIn();
    suite.server.fault('GET /user/items', { mode: 'hang', times: 3 });
    const held = serverSaw('hang-open', 3);
    const closed = hungClosed(3);
    const pending = Array.from({ length: 3 }, () => session.get('/user/items').catch((e) => e));
    assert.equal(await held, 3, 'all three are on the wire');
    if (end === 'logout') await session.logout();
    else session[end]();
    assert.equal(await closed, 3, end);
    for (const error of await Promise.all(pending)) {
      assert.ok(error instanceof SessionError, end);
      assert.equal(error.code, end === 'dispose' ? 'disposed' : 'session_changed', end);
    }
  }
});

test('a 400 MiB login answer is cut off while it arrives and never grows the wasm heap', { timeout: 60_000 }, async () => {
  const session = await suite.newSession();
  assert.ok(wasmMemory, 'the module instance was seen');
  const before = wasmMemory.buffer.byteLength;
  for (const contentLength of [true, false]) {
    suite.server.fault('POST /auth/login', { mode: 'flood', bytes: 400 * 1024 * 1024, contentLength, times: 1 });
    const ended = once(suite.server.events, 'flood-end');
    const result = await session.login('userA@test.com', 'password');
    assert.equal(result.success, false);
    assert.equal(result.code, 'bad_response');
    const [{ sent, bytes }] = await ended;
    assert.ok(sent < bytes / 4, `the server stopped early (${sent} of ${bytes} bytes sent, Content-Length: ${contentLength})`);
    assert.equal(localStorage.length, 0);
  }
  console.log(`wasm memory around two 400 MiB login answers: ${before} -> ${wasmMemory.buffer.byteLength} bytes`);
  assert.ok(wasmMemory.buffer.byteLength <= before + 2 * 1024 * 1024,
    `wasm memory ${before} -> ${wasmMemory.buffer.byteLength} bytes`);
  assert.equal((await session.login('userA@test.com', 'password')).success, true, 'a normal login still works');
});

test('API answers over maxResponseBytes reject response_too_large; within it they arrive whole', { timeout: 60_000 }, async () => {
  const session = await loggedIn({ maxResponseBytes: 64 * 1024 });
  for (const contentLength of [true, false]) {
    suite.server.fault('GET /user/items', { mode: 'flood', bytes: 256 * 1024 * 1024, contentLength, times: 1 });
    const ended = once(suite.server.events, 'flood-end');
    await assert.rejects(session.get('/user/items'), (e) => e instanceof SessionError && e.code === 'response_too_large');
    const [{ sent, bytes }] = await ended;
    assert.ok(sent < bytes / 4, `stopped after ${sent} of ${bytes} bytes`);
  }
  suite.server.fault('GET /user/items', { mode: 'flood', bytes: 60 * 1024, times: 1 });
  const fits = await session.get('/user/items');
  assert.equal(fits.status, 200);
  assert.equal(fits.data.length, 60 * 1024);
  assert.equal(session.isAuthenticated(), true);

  const defaults = await loggedIn();
  suite.server.fault('GET /user/items', { mode: 'flood', bytes: 20 * 1024 * 1024, times: 1 });
  await assert.rejects(defaults.get('/user/items'), (e) => e.code === 'response_too_large');
});

test('maxResponseBytes out of range is invalid_config', { timeout: 60_000 }, async () => {
  for (const bad of [0, 1023, 2 ** 31, 'big']) {
    await assert.rejects(suite.newSession({ maxResponseBytes: bad }), (e) => e instanceof SessionError && e.code === 'invalid_config');
  }
});

test('response headers are plain data: a header named constructor is just a header', { timeout: 60_000 }, async () => {
  const session = await loggedIn();
  suite.server.fault('GET /user/items', {
    mode: 'status', status: 200, body: { ok: true }, headers: { constructor: 'c', 'x-Two': 'v' }, times: 1,
  });
  const res = await session.get('/user/items');
  assert.equal(res.headers.constructor, 'c');
  assert.equal(res.headers['x-two'], 'v');
  assert.equal(Object.getPrototypeOf(res.headers), null);
});

test('request headers: Headers, [name, value] pairs and plain objects are sent; anything else is invalid_argument', { timeout: 60_000 }, async () => {
  const session = await loggedIn();
  const sent = () => suite.server.requests.at(-1).headers;
  await session.get('/user/profile', { headers: new Headers({ 'X-One': '1' }) });
  assert.equal(sent()['x-one'], '1');
  await session.get('/user/profile', { headers: [['X-Two', '2'], ['X-Three', '3']] });
  assert.equal(sent()['x-two'], '2');
  assert.equal(sent()['x-three'], '3');
  assert.equal(sent()['0'], undefined);
  await session.get('/user/profile', { headers: { 'X-Four': '4' } });
  assert.equal(sent()['x-four'], '4');
  for (const bad of [42, 'X-A: 1', [['only-name']], [[1, 2, 3]], new Map([['X-Map', '1']]), () => {}]) {
    await assert.rejects(session.get('/user/profile', { headers: bad }),
      (e) => e instanceof SessionError && e.code === 'invalid_argument', String(bad));
  }
});

test('session.user is one object until the user changes', { timeout: 60_000 }, async () => {
  const session = await suite.newSession();
  assert.equal(session.user, null);
  assert.equal((await session.login('userA@test.com', 'password')).success, true);
  const a = session.user;
  assert.equal(a.email, 'userA@test.com');
  assert.equal(session.user, a);
  await session.get('/user/profile');
  assert.equal(session.user, a);
  await session.logout();
  assert.equal(session.user, null);
  assert.equal((await session.login('userB@test.com', 'password')).success, true);
  assert.notEqual(session.user, a);
  assert.equal(session.user.email, 'userB@test.com');
  assert.equal(session.user, session.user);
});

// A client clock 20 minutes ahead of the server's, or behind it: the
// proactive refresh is scheduled from the token's lifetime as received, so an
// idle page makes no refreshes, and a real 401 still refreshes once. The
// client's clock is injected (node:test mock timers drive Date, the timers and,
// below, performance.now); the backend runs in a process of its own, on the
// true clock, so the skew is only the client's. Requests go over node:http
// (bench/lib/node-xhr.mjs), whose own timing does not run on the mocked timers
// as jsdom's XMLHttpRequest (undici) does.
import { test, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from '../../bench/lib/backend.mjs';
import { NodeXMLHttpRequest } from '../../bench/lib/node-xhr.mjs';
import { installDom, removeDom, createSession } from './helpers.mjs';

const MINUTE = 60 * 1000;
let backend;

before(async () => {
  backend = await startBackend({ accessTtlSec: 900 });
});
after(async () => {
  await backend?.close();
});

/** Runs `body` with the client's clock off by `skewMs`; time moves only by mock.timers.tick(). */
async function withClientClock(skewMs, body) {
  const trueNow = Date.now();
  const monotonicBase = performance.now();
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: trueNow + skewMs });
  // The session's timers run on performance.now(): it moves with the mocked clock.
  performance.now = () => monotonicBase + (Date.now() - (trueNow + skewMs));
  try {
    await body();
  } finally {
    delete performance.now;
    mock.timers.reset();
  }
}

/**
 * Awaits `promise` while moving the mocked clock on in 10 ms steps, for work
 * that waits on a timer of its own (the cross-tab lease's retry, say), at most
 * 30 s of mocked time. Sessions here have a request timeout of an hour, so
 * the clock moving on while an answer is on its way times nothing out.
 */
async function settled(promise) {
  let done = false;
  promise.then(() => { done = true; }, () => { done = true; });
  for (let moved = 0; !done && moved < 30_000; moved += 10) {
    for (let turn = 0; turn < 20 && !done; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    if (!done) mock.timers.tick(10);
  }
  return promise;
}

for (const skewMs of [20 * MINUTE, -20 * MINUTE]) {
  const label = `${skewMs > 0 ? 'ahead' : 'behind'}`;
  test(`client clock 20 min ${label}: no refresh in 10 s idle, and a real 401 refreshes once`, { timeout: 60_000 }, async () => {
    installDom(`${backend.url}/`);
    globalThis.XMLHttpRequest = NodeXMLHttpRequest;
    try {
      await withClientClock(skewMs, async () => {
        const session = await createSession({
          apiBase: backend.apiBase, logLevel: 'silent', refreshLeewaySec: 30, requestTimeoutMs: 3_600_000,
        });
        const login = await settled(session.login('userA@test.com', 'password'));
        assert.equal(login.success, true, 'login');
        const before = (await backend.stats()).refresh;
        for (let second = 1; second <= 10; second += 1) {
          mock.timers.tick(1000);
          // A request after each second: anything the tick started is on the wire before its answer.
          assert.equal((await settled(session.get('/user/profile'))).status, 200);
        }
        const idle = (await backend.stats()).refresh - before;
        assert.equal(idle, 0, `refreshes in 10 s idle with the clock ${label}`);

        // The server's clock moves past the access token's expiry: a real 401.
        await backend.advanceClock(16 * MINUTE);
        const profile = await settled(session.get('/user/profile'));
        assert.equal(profile.status, 200);
        assert.equal(profile.data.email, 'userA@test.com');
        assert.equal((await backend.stats()).refresh - before, 1, 'one refresh for the 401');
        await backend.advanceClock(-16 * MINUTE);
        session.dispose();
      });
    } finally {
      removeDom();
    }
  });
}

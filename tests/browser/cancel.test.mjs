// Requests that end early are really cancelled in the browser: eight requests
// to an endpoint that never answers time out, the server sees each socket
// close, and the page can still reach the backend afterwards. A request that
// was only forgotten would keep its connection: six of them fill a browser's
// connections to the host, and the next login or logout notice never leaves.
import assert from 'node:assert/strict';
import { forEachBrowser, openPage, USER_A } from './helpers.mjs';

const HUNG = 8;

/**
 * Counts the requests the 'hang' fault holds and those the client then closes;
 * settled() resolves once every one held has been closed. (A browser sends at
 * most six at a time to one host: the rest wait in the browser, and a request
 * cancelled there never reaches the server.)
 */
function watchHung(server) {
  const counts = { opened: 0, closed: 0 };
  let wake = () => {};
  const onOpen = () => { counts.opened += 1; };
  const onClose = () => { counts.closed += 1; wake(); };
  server.events.on('hang-open', onOpen);
  server.events.on('hang-closed', onClose);
  return {
    counts,
    settled: () => new Promise((resolve) => {
      wake = () => {
        if (counts.closed < counts.opened) return;
        server.events.off('hang-open', onOpen);
        server.events.off('hang-closed', onClose);
        resolve(counts);
      };
      wake();
    }),
  };
}

forEachBrowser((env, it) => {
  it(`${HUNG} timed-out requests close their sockets; the next GET and the logout notice get through`, { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const { page } = await openPage(context, `${env.server.apiBase}/public/ping`);
    // The login, the GET after and the logout go through a session with the
    // default timeouts (a busy machine must not fail them); the hung requests
    // through a second one over the same storage, with a short request timeout.
    const login = await page.evaluate(async (email) => {
      const { createSession } = await import('/dist/cleanslate.mjs');
      const apiBase = location.origin + '/api/v1';
      window.session = await createSession({ apiBase, logLevel: 'silent' });
      const result = await window.session.login(email, 'password');
      window.short = await createSession({ apiBase, logLevel: 'silent', requestTimeoutMs: 500 });
      return { ...result, shortAuthenticated: window.short.isAuthenticated() };
    }, USER_A.email);
    assert.equal(login.success, true, `login: ${JSON.stringify(login)}`);
    assert.equal(login.shortAuthenticated, true, 'the short-timeout session holds the stored tokens');

    env.server.fault('GET /user/items', { mode: 'hang' });
    const hung = watchHung(env.server);
    const codes = await page.evaluate((n) => Promise.all(
      Array.from({ length: n }, () => window.short.get('/user/items').then(() => 'answered', (e) => e.code)),
    ), HUNG);
    assert.deepEqual(codes, Array(HUNG).fill('timeout'));
    const { opened, closed } = await hung.settled();
    assert.ok(opened >= 6, `${opened} of the ${HUNG} requests reached the server`);
    assert.equal(closed, opened, 'the server saw every request it held closed by the client');
    env.server.clearFaults();

    const profile = await page.evaluate(() => window.session.get('/user/profile').then((r) => ({ status: r.status, email: r.data.email })));
    assert.deepEqual(profile, { status: 200, email: USER_A.email });
    const logout = await page.evaluate(() => window.session.logout());
    assert.deepEqual(logout, { success: true, backendNotified: true });
  });
});

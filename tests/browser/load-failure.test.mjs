// A wasm that cannot be instantiated makes createSession() reject with
// SessionError('load_failed') in the page, never leaves it pending, and a
// later createSession() loads the real module. The page's fetch() hands the
// entry corrupt bytes for the .wasm until the test lets the real file through.
// Runs in every browser of helpers.mjs.
import assert from 'node:assert/strict';
import { forEachBrowser, openPage } from './helpers.mjs';

// Bounds the wait in the page: a load that never settles fails the test.
const SETTLE_MS = 10_000;

function corruptWasmFetch() {
  const realFetch = window.fetch.bind(window);
  window.corruptWasm = true;
  window.fetch = (input, init) => {
    if (window.corruptWasm && String(input instanceof Request ? input.url : input).endsWith('.wasm')) {
      // A valid header, then a section that runs past the end.
      const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0x01]);
      return Promise.resolve(new Response(bytes, { headers: { 'content-type': 'application/wasm' } }));
    }
    return realFetch(input, init);
  };
}

forEachBrowser((env, it) => {
  it('corrupt wasm bytes reject createSession() with load_failed; a later call loads the real module', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    // Any page of the server's origin: the demo (whose own load fails the same way).
    const { page } = await openPage(context, new URL('/', env.server.url).href, { init: corruptWasmFetch });
    const outcome = await page.evaluate(async (settleMs) => {
      const { createSession, SessionError } = await import('/dist/cleanslate.mjs');
      const bound = new Promise((resolve) => setTimeout(() => resolve({ pending: true }), settleMs));
      const attempt = (options) => createSession(options).then(
        (session) => ({ session }),
        (error) => ({ isSessionError: error instanceof SessionError, code: error.code, message: error.message }),
      );
      const failed = await Promise.race([attempt({ apiBase: '/api/v1' }), bound]);
      window.corruptWasm = false;
      const retried = await Promise.race([attempt({ apiBase: '/api/v1' }), bound]);
      const loaded = Boolean(retried.session);
      if (loaded) retried.session.dispose();
      return { failed, loaded };
    }, SETTLE_MS);
    assert.notEqual(outcome.failed.pending, true, 'createSession() settles');
    assert.equal(outcome.failed.isSessionError, true, JSON.stringify(outcome.failed));
    assert.equal(outcome.failed.code, 'load_failed');
    assert.match(outcome.failed.message, /^The cleanslate module could not be loaded: \S/);
    assert.equal(outcome.loaded, true, 'a later createSession() loads the real module');
  });
});

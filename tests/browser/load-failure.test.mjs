// Loading the wasm in the page. One that cannot be loaded (corrupt bytes, an
// HTTP error) makes createSession() reject with SessionError('load_failed'),
// never leaves it pending, and a later createSession() loads the real module.
// One served as application/wasm compiles as it downloads
// (WebAssembly.instantiateStreaming); one served as another type, which
// instantiateStreaming refuses, still loads from its bytes. The page's fetch()
// answers for the .wasm as the page URL's `wasm` parameter says
// (`corrupt`, `404`, `octet`; none: the real file) until the test sets
// window.wasmAnswer = null; the page also counts which WebAssembly call
// compiled the module. Runs in every browser of helpers.mjs.
import assert from 'node:assert/strict';
import { forEachBrowser, openPage } from './helpers.mjs';

// Bounds the wait in the page: a load that never settles fails the test.
const SETTLE_MS = 10_000;

function wasmAnswers() {
  const realFetch = window.fetch.bind(window);
  window.wasmAnswer = new URLSearchParams(location.search).get('wasm');
  window.fetch = async (input, init) => {
    const answer = window.wasmAnswer;
    if (!answer || !String(input instanceof Request ? input.url : input).endsWith('.wasm')) return realFetch(input, init);
    if (answer === 'corrupt') {
      // A valid header, then a section that runs past the end.
      const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0x01]);
      return new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
    }
    if (answer === '404') return new Response('Not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
    if (answer === 'octet') {
      const real = await realFetch(input, init);
      return new Response(await real.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
    }
    throw new Error(`unknown wasm answer ${answer}`);
  };
  window.wasmCompiles = { instantiate: 0, instantiateStreaming: 0 };
  for (const name of Object.keys(window.wasmCompiles)) {
    const real = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      window.wasmCompiles[name]++;
      return real.apply(this, args);
    };
  }
}

/** In the page: createSession() twice, the wasm answered as `wasm` says the first time, the real file the second. */
function failThenLoad(settleMs) {
  return (async () => {
    const { createSession, SessionError } = await import('/dist/cleanslate.mjs');
    const bound = new Promise((resolve) => setTimeout(() => resolve({ pending: true }), settleMs));
    const attempt = (options) => createSession(options).then(
      (session) => ({ session }),
      (error) => ({ isSessionError: error instanceof SessionError, code: error.code, message: error.message }),
    );
    const failed = await Promise.race([attempt({ apiBase: '/api/v1' }), bound]);
    window.wasmAnswer = null;
    const retried = await Promise.race([attempt({ apiBase: '/api/v1' }), bound]);
    const loaded = Boolean(retried.session);
    if (loaded) retried.session.dispose();
    return { failed, loaded };
  })();
}

/** In the page: createSession() once; which WebAssembly calls compiled the module. */
function loadOnce(settleMs) {
  return (async () => {
    const { createSession } = await import('/dist/cleanslate.mjs');
    const bound = new Promise((resolve) => setTimeout(() => resolve('pending'), settleMs));
    const outcome = await Promise.race([
      createSession({ apiBase: '/api/v1' }).then((session) => {
        session.dispose();
        return 'loaded';
      }, (error) => `${error.code}: ${error.message}`),
      bound,
    ]);
    return { outcome, compiles: window.wasmCompiles };
  })();
}

forEachBrowser((env, it) => {
  // Any page of the server's origin: the demo (whose own load goes the same way).
  const pageUrl = (wasm) => new URL(wasm ? `/?wasm=${wasm}` : '/', env.server.url).href;

  it('corrupt wasm bytes reject createSession() with load_failed; a later call loads the real module', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const { page } = await openPage(context, pageUrl('corrupt'), { init: wasmAnswers });
    const { failed, loaded } = await page.evaluate(failThenLoad, SETTLE_MS);
    assert.notEqual(failed.pending, true, 'createSession() settles');
    assert.equal(failed.isSessionError, true, JSON.stringify(failed));
    assert.equal(failed.code, 'load_failed');
    assert.match(failed.message, /^The cleanslate module could not be loaded: \S/);
    assert.equal(loaded, true, 'a later createSession() loads the real module');
  });

  it('an HTTP 404 for the wasm rejects createSession() with load_failed naming the status; a later call loads', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const { page } = await openPage(context, pageUrl('404'), { init: wasmAnswers });
    const { failed, loaded } = await page.evaluate(failThenLoad, SETTLE_MS);
    assert.notEqual(failed.pending, true, 'createSession() settles');
    assert.equal(failed.isSessionError, true, JSON.stringify(failed));
    assert.equal(failed.code, 'load_failed');
    assert.match(failed.message, /^The cleanslate module could not be loaded: HTTP 404 for \S+cleanslate\.wasm$/);
    assert.equal(loaded, true, 'a later createSession() loads the real module');
  });

  it('a wasm served as application/wasm compiles while it downloads (instantiateStreaming)', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const { page } = await openPage(context, pageUrl(null), { init: wasmAnswers });
    const { outcome, compiles } = await page.evaluate(loadOnce, SETTLE_MS);
    assert.equal(outcome, 'loaded');
    assert.deepEqual(compiles, { instantiate: 0, instantiateStreaming: 1 });
  });

  it('a wasm served as another type still loads, from its bytes', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const { page } = await openPage(context, pageUrl('octet'), { init: wasmAnswers });
    const { outcome, compiles } = await page.evaluate(loadOnce, SETTLE_MS);
    assert.equal(outcome, 'loaded');
    assert.deepEqual(compiles, { instantiate: 1, instantiateStreaming: 0 });
  });
});

// session.fetch in real browsers: bodies go out and come back byte for byte
// (hashes computed in the page with crypto.subtle against those the server
// computed of what arrived), an abort really closes the connection, a 401
// refreshes once and the replay carries the new token, and a fetch-based
// client (ofetch) runs on it unchanged. Requests are held through the
// server's hooks; nothing waits on a timer.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { forEachBrowser, openPage, USER_A } from './helpers.mjs';

const MIB = 1024 * 1024;

// ofetch as one classic script (global `ofetchLib`), for a page that has no bundler.
const ofetchScript = build({
  stdin: { contents: "export * from 'ofetch';", resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
  bundle: true,
  format: 'iife',
  globalName: 'ofetchLib',
  platform: 'browser',
  write: false,
  logLevel: 'warning',
}).then((result) => result.outputFiles[0].text);

/**
 * A page on the server's origin with a signed-in session as `window.session`,
 * `window.sha256(bytes)` (hex, by crypto.subtle) and `window.sent`: the
 * method, URL and headers of every XMLHttpRequest the page opens.
 */
async function signedInPage(env) {
  const context = await env.newContext();
  const opened = await openPage(context, `${env.server.apiBase}/public/ping`);
  const login = await opened.page.evaluate(async (email) => {
    window.sent = [];
    const { open, setRequestHeader } = XMLHttpRequest.prototype;
    XMLHttpRequest.prototype.open = function (method, url, ...rest) {
      this.recorded = { method, url: String(url), headers: {} };
      window.sent.push(this.recorded);
      return open.call(this, method, url, ...rest);
    };
    XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
      if (this.recorded) this.recorded.headers[name.toLowerCase()] = value;
      return setRequestHeader.call(this, name, value);
    };
    window.sha256 = async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    // Random bytes: every byte value, NULs, nothing that is UTF-8.
    window.randomBytes = (n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
      return bytes;
    };
    const { createSession } = await import('/dist/cleanslate.mjs');
    window.session = await createSession({ apiBase: `${location.origin}/api/v1`, logLevel: 'silent' });
    return window.session.login(email, 'password');
  }, USER_A.email);
  assert.equal(login.success, true, `login: ${JSON.stringify(login)}`);
  return opened;
}

function assertNoPageErrors({ pageErrors }) {
  assert.deepEqual(pageErrors, []);
}

forEachBrowser((env, it) => {
  it('a 5 MB Blob upload arrives byte for byte', { timeout: 120_000 }, async () => {
    const opened = await signedInPage(env);
    const result = await opened.page.evaluate(async (size) => {
      const bytes = window.randomBytes(size);
      const expected = await window.sha256(bytes);
      const response = await window.session.fetch('/files', { method: 'PUT', body: new Blob([bytes]) });
      return { status: response.status, answer: await response.json(), expected };
    }, 5 * MIB);
    assert.equal(result.status, 200, JSON.stringify(result.answer));
    assert.deepEqual(result.answer, { size: 5 * MIB, sha256: result.expected, contentType: null });
    const entry = env.server.requests.filter((r) => r.path === '/files').at(-1);
    assert.equal(entry.hasAuthorization, true);
    assert.equal(entry.hasCsrf, true);
    assertNoPageErrors(opened);
  });

  it('FormData with a binary file arrives byte for byte, as multipart with its boundary', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    const result = await opened.page.evaluate(async () => {
      const bytes = window.randomBytes(200_000);
      const form = new FormData();
      form.append('caption', 'h\u00e9llo \u2713');
      form.append('file', new File([bytes], 'photo.bin', { type: 'application/octet-stream' }));
      const response = await window.session.fetch('/files', { method: 'POST', body: form });
      return {
        status: response.status,
        answer: await response.json(),
        file: await window.sha256(bytes),
        caption: await window.sha256(new TextEncoder().encode('h\u00e9llo \u2713')),
      };
    });
    assert.equal(result.status, 200, JSON.stringify(result.answer));
    assert.match(result.answer.contentType, /^multipart\/form-data; ?boundary=/);
    assert.deepEqual(result.answer.parts, [
      { name: 'caption', filename: null, contentType: null, size: 10, sha256: result.caption },
      { name: 'file', filename: 'photo.bin', contentType: 'application/octet-stream', size: 200_000, sha256: result.file },
    ]);
    assertNoPageErrors(opened);
  });

  it('a 300 KB binary download comes back byte for byte in a Response', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    const result = await opened.page.evaluate(async () => {
      const response = await window.session.fetch('/files/sample?bytes=300000');
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        isResponse: response instanceof Response,
        status: response.status,
        type: response.headers.get('content-type'),
        length: bytes.length,
        distinct: new Set(bytes).size,
        sha256: await window.sha256(bytes),
        sent: response.headers.get('x-content-sha256'),
      };
    });
    assert.equal(result.isResponse, true);
    assert.equal(result.status, 200);
    assert.equal(result.type, 'application/octet-stream');
    assert.equal(result.length, 300_000);
    assert.equal(result.distinct, 256);
    assert.equal(result.sha256, result.sent);
    assertNoPageErrors(opened);
  });

  it('a Request is taken as it is: its URL (resolved by the page), method, headers and body', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    const result = await opened.page.evaluate(async () => {
      const bytes = window.randomBytes(10_000);
      const put = new Request('/api/v1/files', { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/x-test' } });
      const uploaded = await (await window.session.fetch(put)).json();
      const profile = await window.session.fetch(new Request('/api/v1/user/profile'));
      return { uploaded, expected: await window.sha256(bytes), profile: await profile.json() };
    });
    assert.deepEqual(result.uploaded, { size: 10_000, sha256: result.expected, contentType: 'application/x-test' });
    assert.equal(result.profile.email, USER_A.email);
    assertNoPageErrors(opened);
  });

  it('abort() in flight rejects AbortError and the server sees the connection closed', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    const isItems = (r) => r.path === '/user/items';
    env.server.fault('GET /user/items', { mode: 'hold', times: 1 });
    try {
      const arrived = env.server.waitForRequest(isItems);
      const closed = env.server.waitForResponse(isItems);
      await opened.page.evaluate(() => {
        window.controller = new AbortController();
        window.outcome = window.session.fetch('/user/items', { signal: window.controller.signal })
          .then((r) => ({ resolved: r.status }), (e) => ({ name: e.name, isDOMException: e instanceof DOMException }));
      });
      await arrived;
      const outcome = await opened.page.evaluate(() => {
        window.controller.abort();
        return window.outcome;
      });
      assert.deepEqual(outcome, { name: 'AbortError', isDOMException: true });
      const gone = await closed;
      assert.equal(gone.status, null, 'nothing was answered: the browser closed the connection');
    } finally {
      env.server.clearFaults();
    }
    const after = await opened.page.evaluate(() => window.session.fetch('/user/profile').then((r) => r.json()));
    assert.equal(after.email, USER_A.email);
    assertNoPageErrors(opened);
  });

  it('a 401 refreshes once and the replay carries the new token', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    const refreshes = env.server.stats.refresh;
    const profiles = env.server.requests.filter((r) => r.path === '/user/profile').length;
    const first = await opened.page.evaluate(() => localStorage.getItem('access_token'));
    env.server.advanceClock(901 * 1000); // past the server's 900 s access lifetime
    const result = await opened.page.evaluate(async () => {
      const start = window.sent.length;
      const response = await window.session.fetch('/user/profile');
      return {
        status: response.status,
        email: (await response.json()).email,
        tokens: window.sent.slice(start).filter((s) => s.url.endsWith('/user/profile')).map((s) => s.headers.authorization),
        stored: localStorage.getItem('access_token'),
      };
    });
    assert.equal(result.status, 200);
    assert.equal(result.email, USER_A.email);
    assert.equal(env.server.stats.refresh - refreshes, 1);
    assert.notEqual(result.stored, first);
    assert.deepEqual(result.tokens, [`Bearer ${first}`, `Bearer ${result.stored}`]);
    assert.deepEqual(env.server.requests.filter((r) => r.path === '/user/profile').slice(profiles).map((r) => r.status), [401, 200]);
    assertNoPageErrors(opened);
  });

  it('ofetch runs on session.fetch: JSON, CSRF, binary, errors and abort', { timeout: 60_000 }, async () => {
    const opened = await signedInPage(env);
    await opened.page.evaluate(await ofetchScript);
    const result = await opened.page.evaluate(async () => {
      const api = window.ofetchLib.ofetch.create({}, { fetch: window.session.fetch });
      const profile = await api('/user/profile');
      const note = await api('/user/notes', { method: 'POST', body: { text: 'via ofetch' } });
      const sample = await api.raw('/files/sample', { query: { bytes: 4096 }, responseType: 'arrayBuffer' });
      const bytes = new Uint8Array(sample._data);
      const missing = await api('/no/such/route').then(() => null, (e) => ({ status: e.status, detail: e.data?.detail }));
      const controller = new AbortController();
      const aborted = api('/user/items', { signal: controller.signal, retry: 0 }).then(() => null, (e) => e.cause?.name ?? e.name);
      controller.abort();
      return {
        profile, note, missing, aborted: await aborted,
        length: bytes.length, sha256: await window.sha256(bytes), sent: sample.headers.get('x-content-sha256'),
      };
    });
    assert.equal(result.profile.email, USER_A.email);
    assert.equal(result.note.text, 'via ofetch');
    assert.equal(result.length, 4096);
    assert.equal(result.sha256, result.sent);
    assert.deepEqual(result.missing, { status: 404, detail: 'Not found' });
    assert.equal(result.aborted, 'AbortError');
    const note = env.server.requests.filter((r) => r.path === '/user/notes').at(-1);
    assert.equal(note.hasCsrf, true);
    assert.equal(note.headers['content-type'], 'application/json');
    assertNoPageErrors(opened);
  });
});

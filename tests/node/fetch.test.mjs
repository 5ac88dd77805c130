// session.fetch (CONTRACT.md §5.3) and the `signal` option of request(),
// through the public API in Node with jsdom globals, against the real
// reference backend: bodies of every kind arrive byte for byte, answers come
// back as Responses with the bytes as sent, §3 applies (headers, CSRF, one
// refresh and a replay with the new token, the generation guard), and an
// abort really cancels: the server sees the connection close. Requests are
// held and released through the server's hooks; nothing here sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  useBackend, assertLogin, recordSentHeaders, waitForEvent, within, SessionError,
} from './helpers.mjs';

const ACCESS_TTL_SEC = 900;
const suite = useBackend({ accessTtlSec: ACCESS_TTL_SEC });

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
// Every byte value, NULs and sequences that are not UTF-8, in a shifting order.
const binary = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);

async function signedIn() {
  const session = await suite.newSession();
  await assertLogin(session);
  return session;
}

// What the server made of an upload to /files.
async function upload(session, init) {
  const response = await session.fetch('/files', { method: 'PUT', ...init });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function assertSessionError(promise, code) {
  const error = await rejection(promise);
  assert.ok(error instanceof SessionError, `a SessionError, got ${error}`);
  assert.equal(error.code, code, error.message);
}

function assertAbortError(error) {
  assert.equal(error.name, 'AbortError');
  assert.ok(error instanceof DOMException, `a DOMException, got ${error}`);
}

const entriesFor = (path) => suite.server.requests.filter((r) => r.path === path);

test('bodies of every kind arrive byte for byte, with the Content-Type a browser would send', async () => {
  const session = await signedIn();
  const text = 'caf\u00e9 \u0000 \u{1F600} \ud800 end'; // a NUL, an astral character, a lone surrogate
  const encoded = new TextEncoder().encode(text);
  assert.deepEqual(await upload(session, { body: text }), {
    size: encoded.length, sha256: sha256(encoded), contentType: 'text/plain;charset=UTF-8',
  });

  const params = new URLSearchParams({ q: 'a&b=c', emoji: '\u{1F600}' });
  assert.deepEqual(await upload(session, { body: params }), {
    size: params.toString().length, sha256: sha256(params.toString()),
    contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
  });

  const bytes = binary(70_000); // past the 64 KiB of the JSON routes
  assert.deepEqual(await upload(session, { body: bytes.buffer }), { size: 70_000, sha256: sha256(bytes), contentType: null });
  // A view sends its own bytes only, not the rest of its buffer.
  const view = new DataView(bytes.buffer, 1000, 5000);
  assert.deepEqual(await upload(session, { body: view }), {
    size: 5000, sha256: sha256(bytes.subarray(1000, 6000)), contentType: null,
  });
  assert.deepEqual(await upload(session, { body: new Blob([bytes], { type: 'image/x-test' }) }), {
    size: 70_000, sha256: sha256(bytes), contentType: 'image/x-test',
  });
  // The caller's Content-Type wins over the body's.
  const typed = await upload(session, { body: bytes, headers: { 'Content-Type': 'application/x-mine' } });
  assert.equal(typed.contentType, 'application/x-mine');

  const form = new FormData();
  form.append('title', 'h\u00e9llo');
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'data.bin');
  const multipart = await upload(session, { method: 'POST', body: form });
  assert.match(multipart.contentType, /^multipart\/form-data; ?boundary=/);
  assert.deepEqual(multipart.parts, [
    { name: 'title', filename: null, contentType: null, size: 6, sha256: sha256('h\u00e9llo') },
    { name: 'file', filename: 'data.bin', contentType: 'application/octet-stream', size: 70_000, sha256: sha256(bytes) },
  ]);

  // A JSON string body, as clients such as Apollo send one: every §3 header goes with it.
  const note = await session.fetch('/user/notes', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'from fetch' }),
  });
  assert.equal(note.status, 201);
  assert.equal((await note.json()).text, 'from fetch');
  const entry = entriesFor('/user/notes').at(-1);
  assert.equal(entry.hasAuthorization, true);
  assert.equal(entry.hasCsrf, true);
  assert.equal(entry.headers['content-type'], 'application/json');
  assert.equal(entry.headers['cache-control'], 'no-cache, no-store, must-revalidate');
  assert.equal(entry.headers.pragma, 'no-cache');
});

test('a URL, a Request (method, headers, body) and init over a Request', async () => {
  const session = await signedIn();
  const bytes = binary(3000);
  const request = new Request(`${suite.server.apiBase}/files`, {
    method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/x-from-request' },
  });
  const fromRequest = await session.fetch(request);
  assert.deepEqual(await fromRequest.json(), { size: 3000, sha256: sha256(bytes), contentType: 'application/x-from-request' });

  const overridden = await session.fetch(new Request(`${suite.server.apiBase}/user/profile`), { method: 'HEAD' });
  assert.equal(overridden.status, 200);
  assert.equal(overridden.body, null, 'a HEAD answer has no body');
  assert.equal(entriesFor('/user/profile').at(-1).method, 'HEAD');

  const byUrl = await session.fetch(new URL(`${suite.server.apiBase}/user/profile`));
  assert.equal((await byUrl.json()).email, 'userA@test.com');
});

test('answers are Responses with the bytes as sent; request() reads the same bytes as text', async () => {
  const session = await signedIn();
  const response = await session.fetch('/files/sample?bytes=300000');
  assert.ok(response instanceof Response);
  assert.equal(response.status, 200);
  assert.equal(response.ok, true);
  assert.equal(response.statusText, 'OK');
  assert.equal(response.headers.get('content-type'), 'application/octet-stream');
  assert.equal(response.url, '', 'a constructed Response has no url');
  const received = new Uint8Array(await response.arrayBuffer());
  assert.equal(received.length, 300_000);
  assert.equal(sha256(received), response.headers.get('x-content-sha256'));
  assert.equal(new Set(received).size, 256);

  // request() decodes the bytes as UTF-8, past the first NUL (the sample starts with one).
  const viaRequest = await session.get('/files/sample?bytes=1000');
  const sample = new Uint8Array(await (await session.fetch('/files/sample?bytes=1000')).arrayBuffer());
  assert.equal(viaRequest.data, new TextDecoder().decode(sample));

  // Any status resolves; a 204 has a null body.
  const anonymous = await suite.newSession({ storage: 'memory' });
  const unauthorized = await anonymous.fetch('/user/profile');
  assert.equal(unauthorized.status, 401);
  assert.equal((await unauthorized.json()).code, 'not_authenticated');
  suite.server.fault('GET /user/items', { mode: 'status', status: 204, body: '', times: 1 });
  const empty = await session.fetch('/user/items');
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);

  // Bound: a client may call it as a plain function.
  const { fetch: detached } = session;
  assert.equal((await detached('/public/ping')).status, 200);
});

test('a 401 refreshes once and the replay carries the new token and the same bytes', async () => {
  const session = await signedIn();
  const firstAccess = localStorage.getItem('access_token');
  suite.server.advanceClock((ACCESS_TTL_SEC + 1) * 1000); // the server no longer takes it
  const sent = recordSentHeaders();
  const refreshes = suite.server.stats.refresh;
  const bytes = binary(100_000);
  try {
    const answer = await upload(session, { body: new Blob([bytes]) });
    assert.deepEqual(answer, { size: 100_000, sha256: sha256(bytes), contentType: null });
  } finally {
    sent.restore();
  }
  assert.equal(suite.server.stats.refresh - refreshes, 1);
  const puts = entriesFor('/files').slice(-2);
  assert.deepEqual(puts.map((r) => r.status), [401, 200]);
  const uploads = sent.sent.filter((r) => r.url.endsWith('/files'));
  assert.equal(uploads.length, 2);
  const newAccess = localStorage.getItem('access_token');
  assert.notEqual(newAccess, firstAccess);
  assert.equal(uploads[0].headers.authorization, `Bearer ${firstAccess}`);
  assert.equal(uploads[1].headers.authorization, `Bearer ${newAccess}`);
});

test('logout while a fetch is in flight: it rejects session_changed', async () => {
  const session = await signedIn();
  suite.server.fault('GET /user/items', { mode: 'hold', times: 1 });
  const arrived = suite.server.waitForRequest((r) => r.path === '/user/items');
  const outcome = assertSessionError(session.fetch('/user/items'), 'session_changed');
  await within(arrived, 'the held request');
  await session.logout();
  await outcome;
});

test('an already-aborted signal rejects at once and sends nothing; its reason is the rejection', async () => {
  const session = await signedIn();
  const sent = recordSentHeaders();
  try {
    const controller = new AbortController();
    controller.abort();
    assertAbortError(await rejection(session.fetch('/user/items', { signal: controller.signal })));
    assertAbortError(await rejection(session.request('GET', '/user/items', { signal: controller.signal })));
    assertAbortError(await rejection(session.fetch('/files', { method: 'PUT', body: new Blob(['x']), signal: controller.signal })));
    const own = new Error('mine');
    const withReason = new AbortController();
    withReason.abort(own);
    assert.equal(await rejection(session.fetch('/user/items', { signal: withReason.signal })), own);
    // A request started afterwards goes out; none of the aborted ones went before it.
    assert.equal((await session.fetch('/public/ping')).status, 200);
  } finally {
    sent.restore();
  }
  assert.deepEqual(sent.sent.map((r) => new URL(r.url).pathname), ['/api/v1/public/ping']);
});

for (const [name, start] of [
  ['fetch', (session, signal) => session.fetch('/user/items', { signal })],
  ['request', (session, signal) => session.request('GET', '/user/items', { signal })],
]) {
  test(`abort in flight (${name}): AbortError at once, and the server sees the connection closed`, async () => {
    const session = await signedIn();
    suite.server.fault('GET /user/items', { mode: 'hold', times: 1 });
    const isItems = (r) => r.path === '/user/items';
    const arrived = suite.server.waitForRequest(isItems);
    const closed = suite.server.waitForResponse(isItems);
    const controller = new AbortController();
    const pending = start(session, controller.signal);
    await within(arrived, 'the held request');
    controller.abort();
    assertAbortError(await rejection(pending));
    const gone = await within(closed, 'the connection to close');
    assert.equal(gone.status, null, 'nothing was answered: the client closed the connection');
    controller.abort(); // a second abort changes nothing
    assert.equal((await session.fetch('/user/profile')).status, 200);
  });
}

test('abort while waiting for a refresh: the refresh completes, the aborted request is never replayed', async () => {
  const session = await signedIn();
  suite.server.advanceClock((ACCESS_TTL_SEC + 1) * 1000);
  suite.server.fault('POST /auth/refresh', { mode: 'hold', times: 1 });
  const refreshArrived = suite.server.waitForRequest((r) => r.path === '/auth/refresh');
  const controller = new AbortController();
  const before = entriesFor('/user/items').length;
  const pending = session.fetch('/user/items', { signal: controller.signal });
  await within(refreshArrived, 'the refresh');
  controller.abort();
  assertAbortError(await rejection(pending));
  const refreshed = waitForEvent('auth:refresh');
  suite.server.release('POST /auth/refresh');
  await refreshed;
  assert.equal((await session.fetch('/user/profile')).status, 200); // after any replay would have gone
  assert.deepEqual(entriesFor('/user/items').slice(before).map((r) => r.status), [401]);
});

test('abort while waiting for the CSRF token: the token arrives, the request is never sent', async () => {
  const session = await signedIn();
  session.resetCsrfToken();
  suite.server.fault('GET /auth/csrf', { mode: 'hold', times: 1 });
  const csrfArrived = suite.server.waitForRequest((r) => r.path === '/auth/csrf');
  const csrfAnswered = suite.server.waitForResponse((r) => r.path === '/auth/csrf');
  const controller = new AbortController();
  const before = entriesFor('/files').length;
  const pending = session.fetch('/files', { method: 'POST', body: 'x', signal: controller.signal });
  await within(csrfArrived, 'the CSRF fetch');
  controller.abort();
  assertAbortError(await rejection(pending));
  suite.server.release('GET /auth/csrf');
  await within(csrfAnswered, 'the CSRF answer');
  const later = await upload(session, { body: 'after' }); // uses the token fetched meanwhile
  assert.equal(later.size, 5);
  assert.equal(entriesFor('/files').length - before, 1, 'only the later upload arrived');
});

test('bad input rejects invalid_argument; failures other than abort are SessionErrors', async () => {
  const session = await signedIn();
  const bad = [
    session.fetch(42),
    session.fetch({ url: '/user/profile' }),
    session.fetch('/user/profile', 'GET'),
    session.fetch('/user/profile', { method: 5 }),
    session.fetch('/user/profile', { method: 'BREW' }),
    session.fetch('/files', { method: 'POST', body: { not: 'a body type' } }),
    session.fetch('/files', { method: 'POST', body: new ReadableStream() }),
    session.fetch('/user/profile', { body: 'a GET has no body' }),
    session.fetch('/user/profile', { headers: 'X-A: 1' }),
    session.fetch('/user/profile', { headers: { 'Bad Name': 'x' } }),
    session.fetch('/user/profile', { signal: {} }),
    session.request('GET', '/user/profile', { signal: 'abort' }),
  ];
  for (const [i, promise] of bad.entries()) {
    const error = await rejection(promise);
    assert.ok(error instanceof SessionError, `case ${i}: ${error}`);
    assert.equal(error.code, 'invalid_argument', `case ${i}: ${error.message}`);
  }
  suite.server.fault('GET /user/items', { mode: 'drop', times: 1 });
  await assertSessionError(session.fetch('/user/items'), 'network');
  session.dispose();
  await assertSessionError(session.fetch('/user/profile'), 'disposed');
});

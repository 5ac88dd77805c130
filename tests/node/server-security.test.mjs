// Security properties of the reference backend (web/server), over real HTTP on
// 127.0.0.1: the request log is opt-in and keeps no credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { startServer } from '../../web/server/app.mjs';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-security-test-'));
process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));

let dbCounter = 0;
const freshDbPath = () => path.join(tmpDir, `db-${++dbCounter}`, 'test.sqlite');
// Cheap password hashes: these tests are about tokens and files, not scrypt.
const start = (options) => startServer({ scryptN: 16, ...options });
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

// One request through node:http, which sends exactly the headers given
// (Origin and Sec-Fetch-Site included). `body` is sent as JSON unless `raw`.
function call(srv, method, p, { body, raw, csrf, token, headers = {} } = {}) {
  const h = { ...headers };
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  if (payload !== undefined) h['Content-Length'] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.apiBase}${p}`, { method, headers: h, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let data = null;
        try {
          data = JSON.parse(text);
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode, data, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function csrfOf(srv) {
  const r = await call(srv, 'GET', '/auth/csrf');
  assert.equal(r.status, 200);
  return r.data.csrf_token;
}

async function loginAs(srv, email = 'userA@test.com', password = 'password', csrf) {
  const r = await call(srv, 'POST', '/auth/login', { body: { email, password }, csrf: csrf ?? await csrfOf(srv) });
  assert.equal(r.status, 200, r.text);
  return r.data;
}

async function refresh(srv, refreshToken, csrf) {
  return call(srv, 'POST', '/auth/refresh', { body: { refresh_token: refreshToken }, csrf: csrf ?? await csrfOf(srv) });
}

async function logout(srv, refreshToken) {
  const r = await call(srv, 'POST', '/auth/logout', { body: { refresh_token: refreshToken }, csrf: await csrfOf(srv) });
  assert.equal(r.status, 200);
}

const postNote = (srv, token, csrf, text = 'note') => call(srv, 'POST', '/user/notes', { body: { text }, token, csrf });

// ---- item: the request log --------------------------------------------------

test('without recordRequests there is no request log, and the wait hooks still work', async () => {
  const srv = await start({ dbPath: freshDbPath() });
  try {
    const arrived = srv.waitForRequest((r) => r.path === '/auth/login');
    const answered = srv.waitForResponse((r) => r.path === '/auth/login');
    const s = await loginAs(srv);
    await logout(srv, s.refresh_token);
    assert.equal(srv.requests, null, 'no log is kept');
    const entry = await arrived;
    assert.equal(entry.method, 'POST');
    assert.equal(entry.body, undefined);
    assert.equal((await answered).status, 200);
  } finally {
    await srv.close();
  }
});

test('the request log keeps no password, token, cookie or Authorization value', async () => {
  const srv = await start({ dbPath: freshDbPath(), recordRequests: true });
  try {
    const csrf = await csrfOf(srv);
    const wrong = 'wrong-password-7f3a';
    assert.equal((await call(srv, 'POST', '/auth/login', { body: { email: 'userA@test.com', password: wrong }, csrf })).status, 401);
    const s = await loginAs(srv, 'userA@test.com', 'password', csrf);
    const cookie = 'sid=cookie-value-91c2';
    assert.equal((await call(srv, 'GET', '/user/profile', { token: s.access_token, headers: { Cookie: cookie } })).status, 200);
    assert.equal((await postNote(srv, s.access_token, csrf)).status, 201);
    const refreshCsrf = await csrfOf(srv);
    const rotated = await refresh(srv, s.refresh_token, refreshCsrf);
    assert.equal(rotated.status, 200);
    await logout(srv, rotated.data.refresh_token);

    const log = JSON.stringify(srv.requests);
    const secrets = {
      password: 'password', wrong, access: s.access_token, refresh: s.refresh_token, csrf, refreshCsrf,
      rotatedAccess: rotated.data.access_token, rotatedRefresh: rotated.data.refresh_token, cookie, bearer: 'Bearer ',
    };
    for (const [name, secret] of Object.entries(secrets)) assert.ok(!log.includes(secret), `${name} in the request log`);

    const [profileEntry] = srv.requests.filter((r) => r.path === '/user/profile');
    assert.deepEqual(
      { hasAuthorization: profileEntry.hasAuthorization, hasCsrf: profileEntry.hasCsrf, status: profileEntry.status, cookie: profileEntry.headers.cookie },
      { hasAuthorization: true, hasCsrf: false, status: 200, cookie: undefined },
    );
    const logoutEntry = srv.requests.filter((r) => r.path === '/auth/logout').at(-1);
    assert.equal(logoutEntry.refreshTokenHash, sha256(rotated.data.refresh_token));
    assert.equal(srv.requests.find((r) => r.path === '/auth/refresh').refreshTokenHash, sha256(s.refresh_token));
    assert.ok(srv.requests.every((r) => !('body' in r)));
  } finally {
    await srv.close();
  }
});

// Security properties of the reference backend (web/server), over real HTTP on
// 127.0.0.1 and, for main.mjs, as a child process: the request log is opt-in
// and keeps no credentials, and the demo controls are off unless asked for and
// then take same-origin JSON with CSRF only. Nothing here sleeps: waits are on
// events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/server/app.mjs';
import { within } from './helpers.mjs';

const MAIN = fileURLToPath(new URL('../../web/server/main.mjs', import.meta.url));
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

// ---- item: demo controls ----------------------------------------------------

test('demo controls refuse cross-origin, non-JSON and CSRF-less requests; take same-origin JSON with CSRF', async () => {
  const srv = await start({ dbPath: freshDbPath(), controls: true, corsOrigins: ['http://allowed.example'] });
  const state = async () => (await call(srv, 'GET', '/__demo/state')).data.logoutFault.mode;
  try {
    const arm = (options) => call(srv, 'POST', '/__demo/logout-fault', options);
    const csrf = await csrfOf(srv);
    // What a hostile page can send without a preflight: text/plain, no CSRF header.
    const hostile = await arm({ raw: JSON.stringify({ mode: 'hang' }), headers: { Origin: 'http://evil.example', 'Content-Type': 'text/plain' } });
    assert.equal(hostile.status, 403, 'a cross-origin text/plain POST');
    assert.equal(await state(), 'none', 'the logout fault was not armed');

    for (const headers of [
      { Origin: 'http://evil.example' },
      { Origin: 'http://allowed.example' }, // CORS-allowed for the API, not for the controls
      { Origin: 'null' },
      { 'Sec-Fetch-Site': 'cross-site' }, // a browser request that carries no Origin
      { 'Sec-Fetch-Site': 'same-site' },
    ]) {
      const r = await arm({ body: { mode: 'hang' }, csrf, headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.data.code, 'forbidden_origin');
      assert.equal((await call(srv, 'GET', '/__demo/state', { headers })).status, 403, `GET ${JSON.stringify(headers)}`);
    }
    const textPlain = await arm({ raw: '{"mode":"hang"}', csrf, headers: { Origin: srv.url, 'Content-Type': 'text/plain' } });
    assert.equal(textPlain.status, 415);
    assert.equal(textPlain.data.code, 'unsupported_media_type');
    const noCsrf = await arm({ body: { mode: 'hang' }, headers: { Origin: srv.url } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.data.code, 'csrf_invalid');
    assert.equal(await state(), 'none');

    const port = new URL(srv.url).port;
    for (const headers of [{ Origin: srv.url, 'Sec-Fetch-Site': 'same-origin' }, { Origin: `http://localhost:${port}` }, {}]) {
      assert.equal((await arm({ body: { mode: 'drop' }, csrf, headers })).status, 200, JSON.stringify(headers));
      assert.equal(await state(), 'drop');
      assert.equal((await arm({ body: { mode: 'none' }, csrf, headers })).status, 200);
    }
    assert.equal((await call(srv, 'GET', '/__demo/state', { headers: { 'Sec-Fetch-Site': 'same-origin' } })).status, 200);
  } finally {
    await srv.close();
  }
});

// ---- main.mjs as a process ---------------------------------------------------

/** Runs web/server/main.mjs; resolves { url, stop } once it listens, or rejects with its stderr if it exits. */
async function runMain(args, env = {}) {
  const dbPath = freshDbPath();
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH, PORT: '0', CLEANSLATE_DB: dbPath, CLEANSLATE_DEMO_CONTROLS: '', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => { err += c; });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal, out, err }));
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      const m = /^cleanslate demo: (http:\/\/[^/\s]+)\//m.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then(({ code }) => reject(Object.assign(new Error(`main.mjs exited ${code}: ${err}`), { code, stderr: err })));
  });
  let url;
  try {
    url = await within(listening, 'main.mjs to listen');
  } catch (error) {
    child.kill('SIGKILL'); // a no-op when it has exited
    throw error;
  }
  return {
    url, dbPath, apiBase: `${url}/api/v1`,
    async stop() {
      child.kill('SIGTERM');
      return within(exited, 'main.mjs to stop');
    },
  };
}

test('main.mjs: demo controls only with --demo-controls or CLEANSLATE_DEMO_CONTROLS=1', async () => {
  const cases = [
    [[], {}, 404],
    [['--demo-controls'], {}, 200],
    [[], { CLEANSLATE_DEMO_CONTROLS: '1' }, 200],
  ];
  for (const [args, env, expected] of cases) {
    const main = await runMain(args, env);
    try {
      const state = await call(main, 'GET', '/__demo/state');
      assert.equal(state.status, expected, `${JSON.stringify(args)} ${JSON.stringify(env)}`);
    } finally {
      const { code } = await main.stop();
      assert.equal(code, 0);
    }
  }
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.match(pkg.scripts.start, /node web\/server\/main\.mjs --demo-controls$/, 'npm start turns them on');
});

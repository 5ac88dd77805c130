// Tests of the reference backend (web/server): the /api/v1 contract over real
// HTTP on 127.0.0.1, persistence across restarts, rate limiting, injected
// faults, the test hooks, demo controls and static file serving. Every test
// of the contract runs against both storages (storages.mjs): the SQLite file
// and PostgreSQL. Expiry is
// reached by moving the server's clock and "not delayed" is shown by the
// order of answers, so nothing here sleeps or bounds a fast path by time.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { startServer } from '../../web/server/app.mjs';
import { STORAGES } from './storages.mjs';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-server-test-'));
after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

let dbCounter = 0;
const freshDbPath = () => path.join(tmpDir, `db-${++dbCounter}`, 'test.sqlite');
const JWT_SECRET = 'server-test-jwt-secret';
const ALLOWED_ORIGIN = 'http://allowed.example';

// ---- helpers ---------------------------------------------------------------

async function call(srv, method, p, { body, rawBody, headers = {}, csrf, token, signal } = {}) {
  const h = { ...headers };
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = rawBody;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  const res = await fetch(srv.apiBase + p, { method, headers: h, body: payload, signal });
  const text = await res.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, data, text };
}

async function csrfOf(srv) {
  const r = await call(srv, 'GET', '/auth/csrf');
  assert.equal(r.status, 200);
  assert.equal(typeof r.data.csrf_token, 'string');
  return r.data.csrf_token;
}

async function loginAs(srv, email = 'userA@test.com', password = 'password') {
  const r = await call(srv, 'POST', '/auth/login', { body: { email, password }, csrf: await csrfOf(srv) });
  assert.equal(r.status, 200, r.text);
  return r.data;
}

async function refresh(srv, refreshToken) {
  return call(srv, 'POST', '/auth/refresh', { body: { refresh_token: refreshToken }, csrf: await csrfOf(srv) });
}

async function logout(srv, refreshToken) {
  const body = refreshToken === undefined ? {} : { refresh_token: refreshToken };
  return call(srv, 'POST', '/auth/logout', { body, csrf: await csrfOf(srv) });
}

// A request whose target is sent byte for byte (fetch would normalise "..").
function rawRequest(port, method, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function forgeJwt(payload, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  const sig = crypto.createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

function decodeJwt(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

// Whether a request is answered without waiting: `first` is true when its
// answer came back before that of a marker request sent only once it had
// reached the server; a delayed answer comes after. No clock is read. The
// marker is a 404 unless `marker` names another request: one that takes the
// same path through the storage as the probe, so that a probe waiting for the
// database (PostgreSQL answers asynchronously) is not taken for a delayed one.
async function answeredAtOnce(srv, method, p, options = {}, marker = ['GET', '/no/such/route']) {
  const order = [];
  const arrived = srv.waitForRequest((r) => r.method === method && r.path === p);
  const probe = call(srv, method, p, options).then((r) => {
    order.push('probe');
    return r;
  });
  await arrived;
  const [markerMethod, markerPath, markerOptions = {}, markerStatus = 404] = marker;
  assert.equal((await call(srv, markerMethod, markerPath, markerOptions)).status, markerStatus);
  order.push('marker');
  return { response: await probe, first: order[0] === 'probe' };
}

// ---- the shared server -----------------------------------------------------

for (const storage of STORAGES) describe(`reference server on ${storage.name}`, { skip: storage.skip }, () => {
  before(() => storage.setup());
  after(() => storage.teardown());

  describe('one shared server', () => {
    let srv;
    let db;

    before(async () => {
      db = await storage.fresh();
      srv = await startServer({
        ...db.options, jwtSecret: JWT_SECRET, controls: true, recordRequests: true, corsOrigins: [ALLOWED_ORIGIN],
      });
    });
    after(async () => {
      await srv.close();
    });

    test('binds 127.0.0.1 and reports its URLs', () => {
      assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(srv.apiBase, `${srv.url}/api/v1`);
      assert.equal(srv.url, `http://127.0.0.1:${srv.port}`);
    });

    test('API answers are JSON and never cached; unknown routes are 404 JSON', async () => {
      for (const [p, status] of [['/public/ping', 200], ['/user/profile', 401], ['/no/such/route', 404], ['', 404]]) {
        const r = await call(srv, 'GET', p);
        assert.equal(r.status, status, p);
        assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', p);
        assert.equal(r.headers.get('cache-control'), 'no-store', p);
        assert.ok(r.data && typeof r.data === 'object', p);
      }
      const missing = await call(srv, 'GET', '/no/such/route');
      assert.equal(typeof missing.data.detail, 'string');
      const ping = await call(srv, 'GET', '/public/ping');
      assert.equal(ping.data.ok, true);
      assert.equal(typeof ping.data.time, 'number');
    });

    test('every unsafe endpoint requires a valid CSRF token', async () => {
      const { refresh_token: rt, access_token: at } = await loginAs(srv);
      const endpoints = [
        ['POST', '/auth/login', { email: 'userA@test.com', password: 'password' }],
        ['POST', '/auth/refresh', { refresh_token: rt }],
        ['POST', '/auth/logout', { refresh_token: rt }],
        ['POST', '/user/notes', { text: 'hi' }],
        ['PUT', '/user/notes', { text: 'hi' }],
        ['PATCH', '/user/profile', { name: 'x' }],
        ['DELETE', '/user/notes', undefined],
      ];
      const good = await csrfOf(srv);
      const [nonce, exp, sig] = good.split('.');
      const tampered = `${nonce}.${Number(exp) + 1000}.${sig}`;
      const foreignSig = `${nonce}.${exp}.${crypto.createHmac('sha256', 'other').update(`${nonce}.${exp}`).digest('base64url')}`;
      for (const [method, p, body] of endpoints) {
        for (const csrf of [undefined, 'garbage', tampered, foreignSig, `${good}x`]) {
          const r = await call(srv, method, p, { body, csrf, token: at });
          assert.equal(r.status, 403, `${method} ${p} with ${csrf}`);
          assert.deepEqual(r.data, { detail: 'CSRF token missing or invalid', code: 'csrf_invalid' });
        }
      }
      // The refresh token was never consumed by the refused requests.
      const ok = await refresh(srv, rt);
      assert.equal(ok.status, 200);
    });

    test('an expired CSRF token is refused and rotateCsrfSecret invalidates issued ones', async () => {
      const secret = JSON.parse(fs.readFileSync(db.keyFile, 'utf8')).csrf_secret;
      const mint = (expSec) => {
        const nonce = crypto.randomBytes(12).toString('base64url');
        const sig = crypto.createHmac('sha256', secret).update(`${nonce}.${expSec}`).digest('base64url');
        return `${nonce}.${expSec}.${sig}`;
      };
      const body = { text: 'csrf probe' };
      const { access_token: at } = await loginAs(srv);
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await call(srv, 'POST', '/user/notes', { body, token: at, csrf: mint(now + 60) })).status, 201);
      const expired = await call(srv, 'POST', '/user/notes', { body, token: at, csrf: mint(now - 1) });
      assert.equal(expired.status, 403);
      assert.equal(expired.data.code, 'csrf_invalid');

      const old = await csrfOf(srv);
      assert.equal((await call(srv, 'POST', '/user/notes', { body, token: at, csrf: old })).status, 201);
      srv.rotateCsrfSecret();
      const refused = await call(srv, 'POST', '/user/notes', { body, token: at, csrf: old });
      assert.equal(refused.status, 403);
      assert.equal(refused.data.code, 'csrf_invalid');
      assert.equal((await call(srv, 'POST', '/user/notes', { body, token: at, csrf: await csrfOf(srv) })).status, 201);
    });

    test('login: success and failure shapes', async () => {
      const ok = await loginAs(srv, 'userB@test.com');
      assert.deepEqual(Object.keys(ok).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'user']);
      assert.equal(ok.token_type, 'bearer');
      assert.equal(ok.expires_in, 900);
      assert.deepEqual(Object.keys(ok.user).sort(), ['email', 'id', 'name']);
      assert.equal(ok.user.email, 'userB@test.com');
      assert.equal(ok.user.name, 'User B');
      assert.match(ok.refresh_token, /^[A-Za-z0-9_-]{43}$/);
      const claims = decodeJwt(ok.access_token);
      assert.equal(claims.sub, String(ok.user.id));
      assert.equal(claims.email, 'userB@test.com');
      assert.equal(claims.exp - claims.iat, 900);
      assert.equal(typeof claims.jti, 'string');
      assert.deepEqual(JSON.parse(Buffer.from(ok.access_token.split('.')[0], 'base64url')), { alg: 'HS256', typ: 'JWT' });

      const csrf = await csrfOf(srv);
      for (const body of [
        { email: 'userA@test.com', password: 'wrong' },
        { email: 'nobody@test.com', password: 'password' },
      ]) {
        const r = await call(srv, 'POST', '/auth/login', { body, csrf });
        assert.equal(r.status, 401);
        assert.deepEqual(r.data, { detail: 'Invalid credentials' });
      }
      for (const body of [{}, { email: 'userA@test.com' }, { email: 'userA@test.com', password: 123 }, { email: ['x'], password: 'password' }]) {
        const r = await call(srv, 'POST', '/auth/login', { body, csrf });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(typeof r.data.detail, 'string');
      }
      const empty = await call(srv, 'POST', '/auth/login', { csrf });
      assert.equal(empty.status, 400);
    });

    test('profile: with, without, invalid and expired tokens', async () => {
      const a = await loginAs(srv, 'userA@test.com');
      const b = await loginAs(srv, 'userB@test.com');
      const pa = await call(srv, 'GET', '/user/profile', { token: a.access_token });
      assert.equal(pa.status, 200);
      assert.deepEqual(pa.data, a.user);
      const pb = await call(srv, 'GET', '/user/profile', { token: b.access_token });
      assert.equal(pb.status, 200);
      assert.deepEqual(pb.data, b.user);

      const missing = await call(srv, 'GET', '/user/profile');
      assert.equal(missing.status, 401);
      assert.equal(typeof missing.data.detail, 'string');
      assert.match(missing.headers.get('www-authenticate'), /^Bearer/);

      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: String(a.user.id), email: a.user.email, fid: decodeJwt(a.access_token).fid, iat: now - 100, jti: 'x' };
      const validForged = forgeJwt({ ...claims, exp: now + 60 }, JWT_SECRET);
      assert.equal((await call(srv, 'GET', '/user/profile', { token: validForged })).status, 200);
      const bad = [
        forgeJwt({ ...claims, exp: now - 1 }, JWT_SECRET), // expired
        forgeJwt({ ...claims, exp: now + 60 }, 'wrong-secret'),
        forgeJwt({ ...claims, exp: now + 60 }, JWT_SECRET, { alg: 'none', typ: 'JWT' }),
        `${validForged.split('.').slice(0, 2).join('.')}.`,
        forgeJwt({ ...claims, sub: '999999', exp: now + 60 }, JWT_SECRET), // no such user
        'not-a-jwt',
        a.access_token.slice(0, -2),
      ];
      for (const token of bad) {
        const r = await call(srv, 'GET', '/user/profile', { token });
        assert.equal(r.status, 401, token);
        assert.match(r.headers.get('www-authenticate'), /^Bearer/);
      }
      const expired = await call(srv, 'GET', '/user/profile', { token: bad[0] });
      assert.equal(expired.data.code, 'token_expired');
    });

    test('refresh rotates: new tokens work, the old refresh token is refused', async () => {
      const s = await loginAs(srv);
      const r1 = await refresh(srv, s.refresh_token);
      assert.equal(r1.status, 200);
      assert.equal(r1.data.token_type, 'bearer');
      assert.equal(r1.data.expires_in, 900);
      assert.notEqual(r1.data.refresh_token, s.refresh_token);
      assert.equal((await call(srv, 'GET', '/user/profile', { token: r1.data.access_token })).status, 200);

      const r2 = await refresh(srv, r1.data.refresh_token);
      assert.equal(r2.status, 200);
      assert.equal((await refresh(srv, r1.data.refresh_token)).status, 401);

      for (const token of ['unknown-token', '']) {
        const r = await refresh(srv, token);
        assert.equal(r.status, 401);
        assert.equal(typeof r.data.detail, 'string');
      }
      const missing = await call(srv, 'POST', '/auth/refresh', { body: {}, csrf: await csrfOf(srv) });
      assert.equal(missing.status, 401);
    });

    test('reuse of a rotated refresh token revokes the whole family', async () => {
      const s = await loginAs(srv);
      const r1 = await refresh(srv, s.refresh_token);
      assert.equal(r1.status, 200);
      const r2 = await refresh(srv, r1.data.refresh_token);
      assert.equal(r2.status, 200);
      const newest = r2.data.refresh_token;

      const replay = await refresh(srv, s.refresh_token);
      assert.equal(replay.status, 401);
      assert.equal(replay.data.code, 'token_reused');
      const afterReplay = await refresh(srv, newest);
      assert.equal(afterReplay.status, 401);

      const hash = crypto.createHash('sha256').update(newest).digest('hex');
      const [row] = await db.query('SELECT family_id FROM refresh_tokens WHERE token_hash = ?', [hash]);
      const family = await db.query('SELECT revoked_at FROM refresh_tokens WHERE family_id = ?', [row.family_id]);
      assert.equal(family.length, 3);
      assert.ok(family.every((t) => t.revoked_at !== null));

      // Another session of the same user is untouched.
      const other = await loginAs(srv);
      assert.equal((await refresh(srv, other.refresh_token)).status, 200);
    });

    test('logout revokes the token family and is idempotent', async () => {
      const s = await loginAs(srv);
      const rotated = await refresh(srv, s.refresh_token);
      assert.equal(rotated.status, 200);
      const out = await logout(srv, rotated.data.refresh_token);
      assert.equal(out.status, 200);
      assert.deepEqual(out.data, { message: 'Logout successful' });
      assert.equal((await refresh(srv, rotated.data.refresh_token)).status, 401);

      for (const token of [rotated.data.refresh_token, 'never-issued', undefined]) {
        const again = await logout(srv, token);
        assert.equal(again.status, 200);
        assert.deepEqual(again.data, { message: 'Logout successful' });
      }
    });

    test('notes and items need auth; notes need CSRF and are stored', async () => {
      const a = await loginAs(srv, 'userA@test.com');
      const csrf = await csrfOf(srv);
      const items = await call(srv, 'GET', '/user/items', { token: a.access_token });
      assert.equal(items.status, 200);
      assert.equal(items.data.user_id, a.user.id);
      assert.ok(Array.isArray(items.data.items) && items.data.items.length > 0);
      assert.equal((await call(srv, 'GET', '/user/items')).status, 401);

      const note = await call(srv, 'POST', '/user/notes', { body: { text: 'remember me' }, csrf, token: a.access_token });
      assert.equal(note.status, 201);
      assert.equal(note.data.text, 'remember me');
      assert.equal(note.data.user_id, a.user.id);
      assert.equal(typeof note.data.id, 'number');
      assert.equal((await call(srv, 'POST', '/user/notes', { body: { text: 'x' }, csrf })).status, 401);
      assert.equal((await call(srv, 'POST', '/user/notes', { body: { text: 5 }, csrf, token: a.access_token })).status, 400);

      const [stored] = await db.query('SELECT text, user_id FROM notes WHERE id = ?', [note.data.id]);
      assert.deepEqual(stored, { text: 'remember me', user_id: a.user.id });
    });

    test('file routes: raw and multipart bodies of any type are measured as they arrived; the sample is binary', async () => {
      const a = await loginAs(srv);
      const csrf = await csrfOf(srv);
      const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
      const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff)); // NULs, 0xff, no UTF-8

      const put = await call(srv, 'PUT', '/files', { rawBody: bytes, csrf, token: a.access_token, headers: { 'Content-Type': 'image/x-test' } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.data, { size: 3000, sha256: sha(bytes), contentType: 'image/x-test' });

      const form = new FormData();
      form.append('note', 'h\u00e9llo');
      form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'data.bin');
      const multipart = await call(srv, 'POST', '/files', { rawBody: form, csrf, token: a.access_token });
      assert.equal(multipart.status, 200, multipart.text);
      assert.match(multipart.data.contentType, /^multipart\/form-data; boundary=/);
      assert.deepEqual(multipart.data.parts, [
        { name: 'note', filename: null, contentType: null, size: 6, sha256: sha(Buffer.from('h\u00e9llo')) },
        { name: 'file', filename: 'data.bin', contentType: 'application/octet-stream', size: 3000, sha256: sha(bytes) },
      ]);
      const broken = await call(srv, 'POST', '/files', {
        rawBody: 'no parts here', csrf, token: a.access_token, headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
      });
      assert.equal(broken.status, 400);
      assert.equal(broken.data.code, 'bad_request');

      // Past the JSON routes' 64 KiB and up to 8 MiB; beyond, 413. Auth and CSRF as everywhere.
      const large = Buffer.alloc(5 * 1024 * 1024, 7);
      const big = await call(srv, 'PUT', '/files', { rawBody: large, csrf, token: a.access_token });
      assert.deepEqual(big.data, { size: large.length, sha256: sha(large), contentType: null });
      const over = await call(srv, 'PUT', '/files', { rawBody: Buffer.alloc(8 * 1024 * 1024 + 1), csrf, token: a.access_token });
      assert.equal(over.status, 413);
      assert.equal((await call(srv, 'PUT', '/files', { rawBody: bytes, csrf })).status, 401);
      assert.equal((await call(srv, 'PUT', '/files', { rawBody: bytes, token: a.access_token })).status, 403);

      const sample = await fetch(`${srv.apiBase}/files/sample?bytes=1000`, { headers: { Authorization: `Bearer ${a.access_token}` } });
      assert.equal(sample.status, 200);
      assert.equal(sample.headers.get('content-type'), 'application/octet-stream');
      const got = Buffer.from(await sample.arrayBuffer());
      assert.equal(got.length, 1000);
      assert.equal(sample.headers.get('x-content-sha256'), sha(got));
      assert.equal(new Set(got).size, 256, 'every byte value');
      assert.equal(got[0], 0);
      assert.equal(got[256], 1, 'the order shifts from one run of 256 to the next');
      for (const bad of ['-1', '1.5', 'x', String(8 * 1024 * 1024 + 1)]) {
        assert.equal((await call(srv, 'GET', `/files/sample?bytes=${bad}`, { token: a.access_token })).status, 400, bad);
      }
      assert.equal((await call(srv, 'GET', '/files/sample?bytes=10')).status, 401);
    });

    test('malformed, oversized and garbage input gets 4xx, never a crash', async () => {
      const csrf = await csrfOf(srv);
      for (const rawBody of ['{', '{"email":', 'null', '[1,2]', '"text"', '42', Buffer.from([0xff, 0xfe, 0x00])]) {
        const r = await call(srv, 'POST', '/auth/login', { rawBody, csrf, headers: { 'Content-Type': 'application/json' } });
        assert.equal(r.status, 400, String(rawBody));
        assert.equal(r.data.code, 'bad_request');
        assert.equal(typeof r.data.detail, 'string');
      }
      const big = await call(srv, 'POST', '/user/notes', { body: { text: 'x'.repeat(70 * 1024) }, csrf });
      assert.equal(big.status, 413);

      // A request line that is not HTTP at all.
      const reply = await new Promise((resolve, reject) => {
        const sock = net.connect(srv.port, '127.0.0.1', () => sock.write('GARBAGE \u0000\u0001 nonsense\r\n\r\n'));
        let data = '';
        sock.on('data', (c) => { data += c; });
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400/);

      const weird = await rawRequest(srv.port, 'GET', '/api/v1/%zz/..%00?x=%');
      assert.equal(weird.status, 404);
      assert.equal((await call(srv, 'GET', '/public/ping')).status, 200);
    });

    test('request log and counters', async () => {
      const before = { ...srv.stats };
      const csrf = await csrfOf(srv);
      const refused = await call(srv, 'POST', '/auth/login', { body: { email: 'userA@test.com', password: 'nope' }, csrf });
      assert.equal(refused.status, 401);
      await loginAs(srv);
      assert.equal(srv.stats.login, before.login + 2);
      assert.equal(srv.stats.loginFailed, before.loginFailed + 1);
      assert.ok(srv.stats.csrf >= before.csrf + 2);

      const entry = srv.requests.filter((r) => r.path === '/auth/login' && r.method === 'POST').at(-2);
      assert.equal(entry.hasCsrf, true);
      assert.equal(entry.hasAuthorization, false);
      assert.equal(entry.headers['x-csrf-token'], undefined, 'the CSRF token itself is not kept');
      assert.equal(entry.headers['content-type'], 'application/json');
      assert.equal(entry.body, undefined, 'no body is kept');
      assert.equal(entry.status, 401);
      assert.equal(entry.url, '/api/v1/auth/login');
      assert.equal(typeof entry.at, 'number');
      assert.equal(srv.requests.at(-1).path, '/auth/login');
      assert.ok(srv.requests.length <= 5000);
    });

    test('faults: status, delay, drop and hang, counted down by times', async () => {
      try {
        srv.fault('GET /public/ping', { mode: 'status', status: 503, body: { detail: 'down' }, times: 2 });
        for (let i = 0; i < 2; i++) {
          const r = await call(srv, 'GET', '/public/ping');
          assert.equal(r.status, 503);
          assert.deepEqual(r.data, { detail: 'down' });
        }
        assert.equal((await call(srv, 'GET', '/public/ping')).status, 200);

        srv.fault('GET /public/ping', { mode: 'status', status: 502, body: 'bad gateway' });
        const text = await call(srv, 'GET', '/public/ping');
        assert.equal(text.status, 502);
        assert.equal(text.text, 'bad gateway');
        srv.clearFaults();
        assert.equal((await call(srv, 'GET', '/public/ping')).status, 200);

        srv.fault('GET /public/ping', { mode: 'delay', delayMs: 300, times: 1 });
        let t0 = Date.now();
        assert.equal((await call(srv, 'GET', '/public/ping')).status, 200);
        // A lower bound only: a timer never fires early, however busy the machine.
        assert.ok(Date.now() - t0 >= 280, `delay was ${Date.now() - t0} ms`);
        const next = await answeredAtOnce(srv, 'GET', '/public/ping');
        assert.equal(next.response.status, 200);
        assert.ok(next.first, 'the delay was used up: the next request is answered at once');

        const logoutsBefore = srv.stats.logout;
        srv.fault('POST /auth/logout', { mode: 'drop', times: 1 });
        const csrf = await csrfOf(srv);
        await assert.rejects(
          call(srv, 'POST', '/auth/logout', { body: { refresh_token: 'x' }, csrf }),
          (err) => err instanceof TypeError,
        );
        assert.equal(srv.stats.logout, logoutsBefore);
        assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf })).status, 200);

        srv.fault('GET /public/ping', { mode: 'hang', times: 1 });
        t0 = Date.now();
        await assert.rejects(
          call(srv, 'GET', '/public/ping', { signal: AbortSignal.timeout(300) }),
          (err) => err.name === 'TimeoutError',
        );
        assert.ok(Date.now() - t0 >= 280);
        assert.equal((await call(srv, 'GET', '/public/ping')).status, 200);

        assert.throws(() => srv.fault('GET /public/ping', { mode: 'explode' }), TypeError);
      } finally {
        srv.clearFaults();
      }
    });

    test('demo controls arm a one-shot logout fault', async () => {
      const csrf = await csrfOf(srv);
      const arm = await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'slow', delayMs: 300 }, csrf });
      assert.equal(arm.status, 200);
      const state = await call(srv, 'GET', '/__demo/state');
      assert.equal(state.data.logoutFault.mode, 'slow');
      assert.equal(state.data.logoutFault.delayMs, 300);
      assert.equal(typeof state.data.stats.login, 'number');

      const t0 = Date.now();
      assert.equal((await call(srv, 'POST', '/auth/logout', { body: { refresh_token: 'x' }, csrf })).status, 200);
      assert.ok(Date.now() - t0 >= 280);
      const logoutX = { body: { refresh_token: 'x' }, csrf };
      const next = await answeredAtOnce(srv, 'POST', '/auth/logout', logoutX, ['POST', '/auth/logout', logoutX, 200]);
      assert.equal(next.response.status, 200);
      assert.ok(next.first, 'the fault is one-shot');
      assert.equal((await call(srv, 'GET', '/__demo/state')).data.logoutFault.mode, 'none');

      assert.equal((await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'hang' }, csrf })).status, 200);
      await assert.rejects(
        call(srv, 'POST', '/auth/logout', { body: {}, csrf, signal: AbortSignal.timeout(200) }),
        (err) => err.name === 'TimeoutError',
      );
      assert.equal((await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'drop' }, csrf })).status, 200);
      assert.equal((await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'none' }, csrf })).status, 200);
      assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf })).status, 200);
      assert.equal((await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'bogus' }, csrf })).status, 400);
    });

    test('CORS: allowed origins are reflected and preflight answers 204', async () => {
      const pre = await rawRequest(srv.port, 'OPTIONS', '/api/v1/auth/login', {
        Origin: ALLOWED_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, x-csrf-token',
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
      const allowed = pre.headers['access-control-allow-headers'].toLowerCase();
      for (const h of ['authorization', 'content-type', 'x-csrf-token', 'cache-control', 'pragma', 'expires']) {
        assert.ok(allowed.includes(h), h);
      }
      assert.match(pre.headers['access-control-allow-methods'], /POST/);

      const get = await rawRequest(srv.port, 'GET', '/api/v1/public/ping', { Origin: ALLOWED_ORIGIN });
      assert.equal(get.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
      const foreign = await rawRequest(srv.port, 'OPTIONS', '/api/v1/auth/login', { Origin: 'http://evil.example' });
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
      const foreignGet = await rawRequest(srv.port, 'GET', '/api/v1/public/ping', { Origin: 'http://evil.example' });
      assert.equal(foreignGet.headers['access-control-allow-origin'], undefined);
    });

    test('passwords and refresh tokens are not stored in plain text', async () => {
      const s = await loginAs(srv, 'userB@test.com');
      const users = await db.query('SELECT email, password_hash FROM users ORDER BY id');
      const hashes = (await db.query('SELECT token_hash FROM refresh_tokens')).map((r) => r.token_hash);
      assert.deepEqual(users.map((u) => u.email), ['userA@test.com', 'userB@test.com']);
      for (const u of users) {
        assert.notEqual(u.password_hash, 'password');
        assert.ok(!u.password_hash.includes('password'));
        assert.match(u.password_hash, /^scrypt\$/);
      }
      assert.notEqual(users[0].password_hash, users[1].password_hash, 'salted');
      assert.ok(!hashes.includes(s.refresh_token));
      assert.ok(hashes.includes(crypto.createHash('sha256').update(s.refresh_token).digest('hex')));
      // Nor anywhere in the database files (main file and write-ahead log).
      const dbPath = db.options.dbPath;
      for (const file of dbPath ? [dbPath, `${dbPath}-wal`] : []) {
        if (fs.existsSync(file)) assert.ok(!fs.readFileSync(file).includes(s.refresh_token), file);
      }
    });
  });

  // ---- servers of their own on the same storage -----------------------------

  test('revocation, rotation and secrets survive close() and a restart on the same database', async () => {
    const { options } = await storage.fresh();
    const s1 = await startServer(options);
    const loggedOut = await loginAs(s1);
    const kept = await loginAs(s1, 'userB@test.com');
    const rotatedFrom = await loginAs(s1);
    const rotated = await refresh(s1, rotatedFrom.refresh_token);
    assert.equal(rotated.status, 200);
    assert.equal((await logout(s1, loggedOut.refresh_token)).status, 200);
    const csrf = await csrfOf(s1);
    await s1.close();
    await s1.close(); // idempotent
    await assert.rejects(fetch(`${s1.apiBase}/public/ping`));

    const s2 = await startServer(options);
    try {
      assert.notEqual(s2.port, 0);
      const refused = await call(s2, 'POST', '/auth/refresh', { body: { refresh_token: loggedOut.refresh_token }, csrf });
      assert.equal(refused.status, 401, 'a logged-out token stays revoked (and the CSRF secret persisted)');
      assert.equal((await refresh(s2, kept.refresh_token)).status, 200);
      assert.equal((await call(s2, 'GET', '/user/profile', { token: kept.access_token })).status, 200,
        'the JWT secret is persisted');
      const reuse = await refresh(s2, rotatedFrom.refresh_token);
      assert.equal(reuse.status, 401);
      assert.equal(reuse.data.code, 'token_reused');
      assert.equal((await refresh(s2, rotated.data.refresh_token)).status, 401);
    } finally {
      await s2.close();
    }
  });

  test('an access token expires after accessTtlSec', async () => {
    const srv = await startServer({ ...(await storage.fresh()).options, accessTtlSec: 60 });
    try {
      const s = await loginAs(srv);
      assert.equal(s.expires_in, 60);
      assert.equal((await call(srv, 'GET', '/user/profile', { token: s.access_token })).status, 200);
      srv.advanceClock(61_000);
      const r = await call(srv, 'GET', '/user/profile', { token: s.access_token });
      assert.equal(r.status, 401);
      assert.equal(r.data.code, 'token_expired');
      const renewed = await refresh(srv, s.refresh_token);
      assert.equal(renewed.status, 200);
      assert.equal((await call(srv, 'GET', '/user/profile', { token: renewed.data.access_token })).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('test hooks: waits on requests, held requests, a clock tests move', async () => {
    const srv = await startServer({ ...(await storage.fresh()).options, refreshTtlSec: 60 });
    try {
      const isPing = (r) => r.path === '/public/ping';
      srv.fault('GET /public/ping', { mode: 'hold', times: 1 });
      const arrived = srv.waitForRequest(isPing);
      const answered = srv.waitForResponse(isPing);
      const pending = call(srv, 'GET', '/public/ping');
      const entry = await arrived;
      assert.equal(entry.method, 'GET');
      assert.equal(entry.url, '/api/v1/public/ping');
      assert.equal(srv.release('GET /user/profile'), 0, 'only the route named is released');
      assert.equal(srv.release('GET /public/ping'), 1);
      const answer = await answered;
      assert.equal(answer.status, 200);
      assert.equal(answer.path, '/public/ping');
      assert.equal((await pending).status, 200);
      assert.equal(srv.release(), 0);
      assert.throws(() => srv.waitForRequest('not a function'), TypeError);

      // The clock moves token, refresh and CSRF expiry alike.
      const csrf = await csrfOf(srv);
      const s = await loginAs(srv);
      srv.advanceClock(61_000);
      const late = await refresh(srv, s.refresh_token);
      assert.equal(late.status, 401);
      assert.equal(late.data.code, 'token_expired');
      srv.advanceClock(2 * 60 * 60 * 1000);
      const stale = await call(srv, 'POST', '/auth/logout', { body: {}, csrf });
      assert.equal(stale.status, 403);
      assert.equal(stale.data.code, 'csrf_invalid');
      assert.throws(() => srv.advanceClock(-1), TypeError);

      // close() ends what still waits: held requests and pending waits.
      srv.fault('GET /public/ping', { mode: 'hold' });
      const heldArrived = srv.waitForRequest(isPing);
      const held = fetch(`${srv.apiBase}/public/ping`).then(() => 'answered', (err) => err);
      await heldArrived;
      const never = srv.waitForRequest(() => false);
      await srv.close();
      await assert.rejects(never, /server closed/);
      assert.ok((await held) instanceof TypeError);
    } finally {
      await srv.close();
    }
  });

  test('advanceClock() moves the token clock: access, refresh and CSRF tokens expire without waiting', async () => {
    const srv = await startServer({ ...(await storage.fresh()).options, accessTtlSec: 60, refreshTtlSec: 3600 });
    try {
      const s = await loginAs(srv);
      srv.advanceClock(61_000);
      const r = await call(srv, 'GET', '/user/profile', { token: s.access_token });
      assert.equal(r.status, 401);
      assert.equal(r.data.code, 'token_expired');
      const renewed = await refresh(srv, s.refresh_token);
      assert.equal(renewed.status, 200, 'the refresh token is still inside its lifetime');
      assert.equal((await call(srv, 'GET', '/user/profile', { token: renewed.data.access_token })).status, 200);
      srv.advanceClock(3600_000);
      assert.equal((await refresh(srv, renewed.data.refresh_token)).data.code, 'token_expired');
      // CSRF tokens live two hours: the one issued before is now refused.
      const csrf = await csrfOf(srv);
      srv.advanceClock(2 * 3600_000 + 1000);
      const login = await call(srv, 'POST', '/auth/login', { body: { email: 'userA@test.com', password: 'password' }, csrf });
      assert.equal(login.status, 403);
    } finally {
      await srv.close();
    }
  });

  test('failed logins are rate limited per account and per address', async () => {
    const srv = await startServer({
      ...(await storage.fresh()).options, loginRateLimit: { perAccount: 3, perAddress: 8, windowSec: 60 },
    });
    try {
      const csrf = await csrfOf(srv);
      const attempt = (email, password) => call(srv, 'POST', '/auth/login', { body: { email, password }, csrf });

      // A success resets the account's count.
      assert.equal((await attempt('userB@test.com', 'bad')).status, 401);
      assert.equal((await attempt('userB@test.com', 'bad')).status, 401);
      assert.equal((await attempt('userB@test.com', 'password')).status, 200);

      for (let i = 0; i < 3; i++) assert.equal((await attempt('userA@test.com', 'bad')).status, 401);
      const limited = await attempt('USERA@test.com', 'password');
      assert.equal(limited.status, 429, 'even the right password is refused while limited');
      assert.equal(limited.data.code, 'rate_limited');
      assert.equal(typeof limited.data.detail, 'string');
      const retry = Number(limited.headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);

      // Per address: 5 failures so far, three more on other accounts reach 8.
      assert.equal((await attempt('userB@test.com', 'password')).status, 200);
      assert.equal((await attempt('x1@test.com', 'bad')).status, 401);
      assert.equal((await attempt('x2@test.com', 'bad')).status, 401);
      assert.equal((await attempt('x3@test.com', 'bad')).status, 401);
      const byAddress = await attempt('userB@test.com', 'password');
      assert.equal(byAddress.status, 429);
      assert.ok(Number(byAddress.headers.get('retry-after')) >= 1);
    } finally {
      await srv.close();
    }
  });

  test('close() releases hung requests and refuses new connections', async () => {
    const srv = await startServer((await storage.fresh()).options);
    srv.fault('GET /public/ping', { mode: 'hang' });
    const arrived = srv.waitForRequest((r) => r.path === '/public/ping');
    const pending = fetch(`${srv.apiBase}/public/ping`).then(() => 'answered', (err) => err);
    await arrived;
    const t0 = Date.now();
    await srv.close();
    // Left alone, the hung request would keep close() waiting for ever; the
    // bound is that of a busy machine.
    assert.ok(Date.now() - t0 < 5000, 'close() does not wait for the hung request');
    const outcome = await pending;
    assert.ok(outcome instanceof TypeError, `hung fetch ended with ${outcome}`);
    await assert.rejects(fetch(`${srv.apiBase}/public/ping`));
  });

});

// ---- storage-independent configuration --------------------------------------

test('scryptN sets the cost of new password hashes; hashes of either cost keep verifying', async () => {
  const storedHashes = (dbPath) => {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT password_hash FROM users ORDER BY id').all().map((r) => r.password_hash);
    } finally {
      db.close();
    }
  };
  const wrongPassword = async (srv) => (await call(srv, 'POST', '/auth/login', {
    body: { email: 'userA@test.com', password: 'not-the-password' }, csrf: await csrfOf(srv),
  })).status;

  // A database seeded at a low cost: its users log in, there and under a default server.
  const lowDb = freshDbPath();
  const low = await startServer({ dbPath: lowDb, scryptN: 1024 });
  try {
    for (const h of storedHashes(lowDb)) assert.match(h, /^scrypt\$1024\$8\$1\$/);
    assert.equal((await loginAs(low)).user.email, 'userA@test.com');
    assert.equal(await wrongPassword(low), 401);
  } finally {
    await low.close();
  }
  const lowUnderDefault = await startServer({ dbPath: lowDb });
  try {
    await loginAs(lowUnderDefault, 'userB@test.com');
  } finally {
    await lowUnderDefault.close();
  }

  // A database seeded at the default cost (2^14) still verifies under a low-cost server.
  const defaultDb = freshDbPath();
  await (await startServer({ dbPath: defaultDb })).close();
  for (const h of storedHashes(defaultDb)) assert.match(h, /^scrypt\$16384\$8\$1\$/);
  const defaultUnderLow = await startServer({ dbPath: defaultDb, scryptN: 16 });
  try {
    assert.equal((await loginAs(defaultUnderLow)).user.email, 'userA@test.com');
    assert.equal(await wrongPassword(defaultUnderLow), 401);
  } finally {
    await defaultUnderLow.close();
  }
  for (const h of storedHashes(defaultDb)) assert.match(h, /^scrypt\$16384\$/, 'existing hashes are not rewritten');

  // Only powers of two that node's scrypt accepts within its default maxmem.
  for (const scryptN of [0, 1, 1000, 65536, '1024', 2.5]) {
    await assert.rejects(startServer({ dbPath: freshDbPath(), scryptN }), TypeError, String(scryptN));
  }
});

test('controls off: the __demo routes are 404', async () => {
  const srv = await startServer({ dbPath: freshDbPath() });
  try {
    assert.equal((await call(srv, 'GET', '/__demo/state')).status, 404);
    const arm = await call(srv, 'POST', '/__demo/logout-fault', { body: { mode: 'hang' } });
    assert.equal(arm.status, 404);
    assert.equal((await logout(srv, 'x')).status, 200);
  } finally {
    await srv.close();
  }
});

test('static files: MIME types, cache headers, no path traversal', async () => {
  const root = fs.mkdtempSync(path.join(tmpDir, 'static-'));
  const demo = path.join(root, 'web', 'demo');
  const dist = path.join(root, 'web', 'dist');
  fs.mkdirSync(demo, { recursive: true });
  fs.mkdirSync(dist, { recursive: true });
  const wasm = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  fs.writeFileSync(path.join(demo, 'index.html'), '<!doctype html><title>demo</title>');
  fs.writeFileSync(path.join(demo, 'style.css'), 'body{}');
  fs.writeFileSync(path.join(dist, 'cleanslate.wasm'), wasm);
  fs.writeFileSync(path.join(dist, 'cleanslate.mjs'), 'export {};');
  fs.writeFileSync(path.join(dist, 'cleanslate.d.ts'), 'export {};');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'TOP-SECRET');
  fs.writeFileSync(path.join(root, 'web', 'secret.txt'), 'TOP-SECRET');

  const srv = await startServer({ dbPath: freshDbPath(), staticRoot: root });
  try {
    const expectations = [
      ['/', 'text/html', 'no-store'],
      ['/index.html', 'text/html', 'no-store'],
      ['/style.css', 'text/css', 'no-cache'],
      ['/dist/cleanslate.wasm', 'application/wasm', 'no-cache'],
      ['/dist/cleanslate.mjs', 'text/javascript', 'no-cache'],
      ['/dist/cleanslate.d.ts', 'text/plain', 'no-cache'],
    ];
    for (const [p, type, cache] of expectations) {
      const r = await fetch(srv.url + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type').split(';')[0], type, p);
      assert.equal(r.headers.get('cache-control'), cache, p);
    }
    const bytes = Buffer.from(await (await fetch(`${srv.url}/dist/cleanslate.wasm`)).arrayBuffer());
    assert.deepEqual(bytes, wasm);
    await WebAssembly.compileStreaming(fetch(`${srv.url}/dist/cleanslate.wasm`));

    assert.equal((await fetch(`${srv.url}/missing.html`)).status, 404);
    assert.equal((await fetch(`${srv.url}/dist/`)).status, 404);

    for (const target of [
      '/../secret.txt', '/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e/%2e%2e/secret.txt',
      '/..%2f..%2fsecret.txt', '/dist/../../secret.txt', '/dist/..%2f..%2fsecret.txt',
      '/dist/%2e%2e/%2e%2e/%2e%2e/secret.txt', '/dist/..%5c..%5csecret.txt', '/%00/../secret.txt',
      '/dist/../demo/index.html', '/%E0%A4%A',
    ]) {
      const r = await rawRequest(srv.port, 'GET', target);
      assert.notEqual(r.status, 200, target);
      assert.ok(!r.body.toString().includes('TOP-SECRET'), target);
    }
  } finally {
    await srv.close();
  }
});

test('staticDirs: extra directories on the API origin, longest prefix first, no path traversal', async () => {
  const root = fs.mkdtempSync(path.join(tmpDir, 'static-dirs-'));
  const app = path.join(root, 'app');
  const nested = path.join(root, 'nested');
  fs.mkdirSync(path.join(app, 'assets'), { recursive: true });
  fs.mkdirSync(nested);
  fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(app, 'assets', 'x.wasm'), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  fs.writeFileSync(path.join(nested, 'n.txt'), 'nested');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'TOP-SECRET');

  await assert.rejects(startServer({ dbPath: freshDbPath(), staticDirs: { app } }), TypeError);
  await assert.rejects(startServer({ dbPath: freshDbPath(), staticDirs: { '/app': 42 } }), TypeError);
  const srv = await startServer({ dbPath: freshDbPath(), staticDirs: { '/': app, '/deep/er/': nested } });
  try {
    for (const [p, status, type] of [
      ['/', 200, 'text/html'], ['/index.html', 200, 'text/html'], ['/assets/x.wasm', 200, 'application/wasm'],
      ['/deep/er/n.txt', 200, 'text/plain'], ['/deep/n.txt', 404], ['/dist/cleanslate.mjs', 404],
    ]) {
      const r = await fetch(srv.url + p);
      assert.equal(r.status, status, p);
      if (type) assert.equal(r.headers.get('content-type').split(';')[0], type, p);
    }
    assert.equal((await call(srv, 'GET', '/auth/csrf')).status, 200, 'the API is not shadowed by a / mount');
    for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/deep/er/../../../secret.txt', '/deep/er/..%2f..%2fsecret.txt']) {
      const r = await rawRequest(srv.port, 'GET', target);
      assert.notEqual(r.status, 200, target);
      assert.ok(!r.body.toString().includes('TOP-SECRET'), target);
    }
  } finally {
    await srv.close();
  }
});

test('a port already in use makes startServer reject', async () => {
  const srv = await startServer({ dbPath: freshDbPath() });
  try {
    await assert.rejects(startServer({ dbPath: freshDbPath(), port: srv.port }), { code: 'EADDRINUSE' });
  } finally {
    await srv.close();
  }
  await assert.rejects(startServer({}), TypeError);
});

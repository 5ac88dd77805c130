// Security properties of the reference backend (web/server), over real HTTP on
// 127.0.0.1 and, for main.mjs, as a child process: the request log is opt-in
// and keeps no credentials, the demo controls are off unless asked for and
// then take same-origin JSON with CSRF only, signing keys live in an
// owner-only key file, not in the (owner-only) database, access tokens die
// with their refresh-token family, and CSRF tokens are bound to the family
// they are first used with. Nothing here sleeps: waits are on events.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startServer } from '../../web/server/app.mjs';
import { STORAGES } from './storages.mjs';
import { useBackend, assertLogin, recordEvents, SessionError, within } from './helpers.mjs';

const MAIN = fileURLToPath(new URL('../../web/server/main.mjs', import.meta.url));
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-security-test-'));
process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));

let dbCounter = 0;
const freshDbPath = () => path.join(tmpDir, `db-${++dbCounter}`, 'test.sqlite');
// Cheap password hashes: these tests are about tokens and files, not scrypt.
const start = (options) => startServer({ scryptN: 16, ...options });
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const modeOf = (file) => fs.statSync(file).mode & 0o777;
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

function forgeJwt(payload, secret) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

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

const profile = (srv, token) => call(srv, 'GET', '/user/profile', { token });
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
      PATH: process.env.PATH, PORT: '0', CLEANSLATE_DB: dbPath, CLEANSLATE_DEMO_CONTROLS: '', CLEANSLATE_KEY_FILE: '', ...env,
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
    assert.equal(modeOf(`${main.dbPath}.keys`), 0o600);
  }
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.match(pkg.scripts.start, /node web\/server\/main\.mjs --demo-controls$/, 'npm start turns them on');
});

/** The error of a main.mjs run that must not start; one that starts is stopped and fails the test. */
async function mainRefusal(env) {
  let main;
  try {
    main = await runMain([], env);
  } catch (err) {
    return err;
  }
  await main.stop();
  return assert.fail(`main.mjs started with ${JSON.stringify(env)}`);
}

test('main.mjs refuses a group-readable or malformed key file with a message and exit status 1', async () => {
  const dir = path.dirname(freshDbPath());
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'shared.keys');
  const key = () => crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(keyFile, JSON.stringify({ jwt_secret: key(), csrf_secret: key() }), { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
  const readable = await mainRefusal({ CLEANSLATE_KEY_FILE: keyFile });
  assert.equal(readable.code, 1);
  assert.match(readable.stderr, /^cleanslate: could not start: key file .*shared\.keys is accessible to group or others \(mode 644\)/);
  fs.chmodSync(keyFile, 0o600);
  fs.writeFileSync(keyFile, '{"jwt_secret": 1}');
  const malformed = await mainRefusal({ CLEANSLATE_KEY_FILE: keyFile });
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /malformed/);
});

// ---- item: keys in an owner-only key file, an owner-only database -----------

test('the database, its -wal and -shm and the key file are 0600; the database holds no signing key', async () => {
  const dbPath = freshDbPath();
  const umask = process.umask(0o022); // the usual umask, under which files come out 0644
  let srv;
  try {
    srv = await start({ dbPath });
  } finally {
    process.umask(umask);
  }
  try {
    await loginAs(srv); // a write, so the WAL holds something
    const keyFile = `${dbPath}.keys`;
    const modes = Object.fromEntries([dbPath, `${dbPath}-wal`, `${dbPath}-shm`, keyFile]
      .map((f) => [path.basename(f), fs.existsSync(f) ? modeOf(f).toString(8) : 'missing']));
    assert.deepEqual(modes, {
      'test.sqlite': '600', 'test.sqlite-wal': '600', 'test.sqlite-shm': '600', 'test.sqlite.keys': '600',
    });
    const keys = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
    for (const name of ['jwt_secret', 'csrf_secret']) assert.match(keys[name], /^[A-Za-z0-9_-]{43}$/, name);

    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const meta = db.prepare('SELECT key FROM meta').pluck().all();
    db.close();
    assert.deepEqual(meta, [], 'no key rows in the database');
    for (const file of [dbPath, `${dbPath}-wal`]) {
      const bytes = fs.readFileSync(file);
      for (const name of ['jwt_secret', 'csrf_secret']) assert.ok(!bytes.includes(keys[name]), `${name} in ${file}`);
    }

    // rotateCsrfSecret() rewrites the key file, still 0600, the JWT key unchanged.
    const before = await csrfOf(srv);
    srv.rotateCsrfSecret();
    const rotated = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
    assert.notEqual(rotated.csrf_secret, keys.csrf_secret);
    assert.equal(rotated.jwt_secret, keys.jwt_secret);
    assert.equal(modeOf(keyFile), 0o600);
    assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf: before })).status, 403);
    assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf: await csrfOf(srv) })).status, 200);
  } finally {
    await srv.close();
  }
  // Narrowed on open too, when an older server left them readable.
  fs.chmodSync(dbPath, 0o644);
  await (await start({ dbPath })).close();
  assert.equal(modeOf(dbPath), 0o600);
});

test('a key file readable by group or others, or malformed, is refused; keyFile sets its path', async () => {
  const dir = path.dirname(freshDbPath());
  fs.mkdirSync(dir, { recursive: true });
  const dbPath = path.join(dir, 'test.sqlite');
  const keyFile = path.join(dir, 'elsewhere', 'server.keys');

  const srv = await start({ dbPath, keyFile });
  await srv.close();
  assert.equal(modeOf(keyFile), 0o600, 'created owner-only');
  assert.equal(fs.existsSync(`${dbPath}.keys`), false, 'nothing at the default path');
  const good = fs.readFileSync(keyFile, 'utf8');

  for (const mode of [0o640, 0o604, 0o660]) {
    fs.chmodSync(keyFile, mode);
    await assert.rejects(start({ dbPath, keyFile }), (err) => err.code === 'CLEANSLATE_KEY_FILE' &&
      /accessible to group or others/.test(err.message) && err.message.includes(keyFile), mode.toString(8));
  }
  fs.chmodSync(keyFile, 0o600);
  for (const text of ['not json', '{}', JSON.stringify({ jwt_secret: 'short', csrf_secret: 'short' }), '[]']) {
    fs.writeFileSync(keyFile, text);
    await assert.rejects(start({ dbPath, keyFile }), (err) => err.code === 'CLEANSLATE_KEY_FILE', text);
  }
  fs.writeFileSync(keyFile, good);
  await (await start({ dbPath, keyFile })).close();
});

test('keys an older server kept in the database move to the key file and leave the database', async () => {
  const dbPath = freshDbPath();
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const old = { jwt_secret: crypto.randomBytes(32).toString('base64url'), csrf_secret: crypto.randomBytes(32).toString('base64url') };
  const legacy = new Database(dbPath);
  legacy.pragma('journal_mode = WAL');
  legacy.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const insert = legacy.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  for (const [key, value] of Object.entries(old)) insert.run(key, value);
  legacy.close();
  assert.ok(fs.readFileSync(dbPath).includes(old.jwt_secret), 'the old layout has the key in the file');

  const srv = await start({ dbPath });
  try {
    const keys = JSON.parse(fs.readFileSync(`${dbPath}.keys`, 'utf8'));
    assert.equal(keys.jwt_secret, old.jwt_secret);
    assert.equal(keys.csrf_secret, old.csrf_secret);
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    assert.deepEqual(db.prepare('SELECT key FROM meta').pluck().all(), []);
    db.close();
    for (const file of [dbPath, `${dbPath}-wal`]) {
      if (!fs.existsSync(file)) continue;
      const bytes = fs.readFileSync(file);
      assert.ok(!bytes.includes(old.jwt_secret) && !bytes.includes(old.csrf_secret), `old key bytes left in ${file}`);
    }
    // Tokens keep being signed with the same keys: sessions survive the move.
    const s = await loginAs(srv);
    const [h, p, sig] = s.access_token.split('.');
    assert.equal(crypto.createHmac('sha256', old.jwt_secret).update(`${h}.${p}`).digest('base64url'), sig);
    const nonce = 'n';
    const exp = Math.floor(Date.now() / 1000) + 60;
    const minted = `${nonce}.${exp}.${crypto.createHmac('sha256', old.csrf_secret).update(`${nonce}.${exp}`).digest('base64url')}`;
    assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf: minted })).status, 200);
  } finally {
    await srv.close();
  }
});

// Run against both storages (storages.mjs): the SQLite file and PostgreSQL.
for (const storage of STORAGES) describe(`revocation and CSRF binding on ${storage.name}`, { skip: storage.skip }, () => {
  before(() => storage.setup());
  after(() => storage.teardown());

  // ---- item: access tokens die with their family ------------------------------

  test('an access token is refused once its family is revoked (logout, reuse detection), also after a restart', async () => {
    const { options } = await storage.fresh();
    let srv = await start(options);
    let kept;
    let loggedOut;
    try {
      loggedOut = await loginAs(srv);
      const fid = claimsOf(loggedOut.access_token).fid;
      assert.equal(typeof fid, 'string', 'the access token names its family (fid)');
      assert.equal((await profile(srv, loggedOut.access_token)).status, 200);
      assert.equal((await postNote(srv, loggedOut.access_token, await csrfOf(srv))).status, 201);

      await logout(srv, loggedOut.refresh_token);
      const afterLogout = await profile(srv, loggedOut.access_token);
      assert.equal(afterLogout.status, 401, 'profile with the access token of a logged-out session');
      assert.deepEqual(afterLogout.data, { detail: 'Token revoked', code: 'token_revoked' });
      const note = await postNote(srv, loggedOut.access_token, await csrfOf(srv));
      assert.equal(note.status, 401, 'note with the access token of a logged-out session');
      assert.equal(note.data.code, 'token_revoked');

      // Reuse detection revokes the family: every access token of it stops working.
      const stolen = await loginAs(srv);
      const rotated = await refresh(srv, stolen.refresh_token);
      assert.equal(rotated.status, 200);
      assert.equal(claimsOf(rotated.data.access_token).fid, claimsOf(stolen.access_token).fid, 'rotation keeps the family');
      assert.equal((await profile(srv, rotated.data.access_token)).status, 200);
      const replay = await refresh(srv, stolen.refresh_token);
      assert.equal(replay.data.code, 'token_reused');
      for (const token of [stolen.access_token, rotated.data.access_token]) {
        const r = await profile(srv, token);
        assert.equal(r.status, 401);
        assert.equal(r.data.code, 'token_revoked');
      }

      // Another session of the same user is untouched.
      kept = await loginAs(srv);
      assert.equal((await profile(srv, kept.access_token)).status, 200);
    } finally {
      await srv.close();
    }
    srv = await start(options);
    try {
      assert.equal((await profile(srv, loggedOut.access_token)).data?.code, 'token_revoked', 'revocation is loaded at start');
      assert.equal((await profile(srv, kept.access_token)).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('an access token without a family (as older servers issued) is refused', async () => {
    const srv = await start({ ...(await storage.fresh()).options, jwtSecret: 'security-test-jwt-key' });
    try {
      const s = await loginAs(srv);
      const { fid, ...claims } = claimsOf(s.access_token);
      assert.equal(typeof fid, 'string');
      assert.equal((await profile(srv, forgeJwt({ ...claims, fid }, 'security-test-jwt-key'))).status, 200);
      const old = await profile(srv, forgeJwt(claims, 'security-test-jwt-key'));
      assert.equal(old.status, 401);
      assert.equal(old.data.code, 'token_invalid');
    } finally {
      await srv.close();
    }
  });

  // ---- item: CSRF tokens bound to a token family ------------------------------

  test('a CSRF token is bound to the family it is first used with; another family, or a revoked one, gets csrf_invalid', async () => {
    const db = await storage.fresh();
    const srv = await start(db.options);
    try {
      const csrf = await csrfOf(srv);
      const a = await loginAs(srv, 'userA@test.com', 'password', csrf); // anonymous use: not bound
      const b = await loginAs(srv, 'userB@test.com', 'password', csrf);
      assert.equal((await postNote(srv, a.access_token, csrf)).status, 201, 'first use with a bearer binds it to A');

      const asB = await postNote(srv, b.access_token, csrf);
      assert.equal(asB.status, 403, "A's CSRF token with B's access token");
      assert.deepEqual(asB.data, { detail: 'CSRF token missing or invalid', code: 'csrf_invalid' });
      assert.equal((await postNote(srv, a.access_token, csrf)).status, 201);

      const [row] = await db.query('SELECT family_id, expires_at FROM csrf_bindings WHERE token_hash = ?', [sha256(csrf)]);
      assert.deepEqual(row, { family_id: claimsOf(a.access_token).fid, expires_at: Number(csrf.split('.')[1]) * 1000 });

      // Within the family it goes on working: a refresh (no bearer) and the rotated access token.
      const rotated = await refresh(srv, a.refresh_token, csrf);
      assert.equal(rotated.status, 200);
      assert.equal((await postNote(srv, rotated.data.access_token, csrf)).status, 201);

      // After logout it is dead, with or without a bearer token.
      await logout(srv, rotated.data.refresh_token);
      for (const token of [undefined, b.access_token]) {
        const r = await call(srv, 'POST', '/auth/login', { body: { email: 'userB@test.com', password: 'password' }, csrf, token });
        assert.equal(r.status, 403, `after logout, bearer ${token ? 'B' : 'none'}`);
        assert.equal(r.data.code, 'csrf_invalid');
      }

      // Reuse detection kills the tokens bound to the family too.
      const c = await loginAs(srv);
      const boundToC = await csrfOf(srv);
      assert.equal((await postNote(srv, c.access_token, boundToC)).status, 201);
      assert.equal((await refresh(srv, c.refresh_token)).status, 200);
      assert.equal((await refresh(srv, c.refresh_token)).data.code, 'token_reused');
      assert.equal((await call(srv, 'POST', '/auth/logout', { body: {}, csrf: boundToC })).status, 403);

      // Unbound tokens still serve requests without a bearer token.
      const anonymous = await csrfOf(srv);
      const d = await loginAs(srv, 'userB@test.com', 'password', anonymous);
      assert.equal((await call(srv, 'POST', '/auth/logout', { body: { refresh_token: d.refresh_token }, csrf: anonymous })).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('bindings of expired CSRF tokens are purged by the sweep', async () => {
    const db = await storage.fresh();
    // A one-second rate-limit window makes the sweep run every second.
    const srv = await start({ ...db.options, loginRateLimit: { windowSec: 1 } });
    const bindings = async () => Number((await db.query('SELECT COUNT(*) AS n FROM csrf_bindings'))[0].n);
    try {
      const s = await loginAs(srv);
      assert.equal((await postNote(srv, s.access_token, await csrfOf(srv))).status, 201);
      assert.equal(await bindings(), 1);
      srv.advanceClock(2 * 3600_000 + 1000); // past the CSRF token's two hours
      const purged = new Promise((resolve) => {
        srv.events.on('sweep', function onSweep({ csrfBindingsPurged }) {
          if (csrfBindingsPurged === 0) return;
          srv.events.off('sweep', onSweep);
          resolve(csrfBindingsPurged);
        });
      });
      assert.equal(await within(purged, 'a sweep that purges the binding'), 1);
      assert.equal(await bindings(), 0);
    } finally {
      await srv.close();
    }
  });
});

// ---- the unchanged client against these rules --------------------------------

describe('the client against bound CSRF tokens and revocable access tokens', () => {
  const suite = useBackend({}, { logLevel: 'silent' });

  test('users take turns on one session: each gets a CSRF token of its own', async () => {
    const session = await suite.newSession();
    for (const email of ['userA@test.com', 'userB@test.com', 'userA@test.com']) {
      await assertLogin(session, email);
      const note = await session.post('/user/notes', { text: `by ${email}` });
      assert.equal(note.status, 201, email);
      assert.equal(note.data.user_id, session.user.id);
      assert.equal((await session.logout()).backendNotified, true);
    }
  });

  test('a session whose family was revoked behind its back ends as expired at its next request', async () => {
    const session = await suite.newSession();
    await assertLogin(session);
    assert.equal((await session.post('/user/notes', { text: 'binds the CSRF token' })).status, 201);
    const csrf = await (await fetch(`${suite.server.apiBase}/auth/csrf`)).json();
    const revoked = await fetch(`${suite.server.apiBase}/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.csrf_token },
      body: JSON.stringify({ refresh_token: localStorage.getItem('refresh_token') }),
    });
    assert.equal(revoked.status, 200);
    const events = recordEvents();
    await assert.rejects(session.post('/user/notes', { text: 'after revocation' }),
      (e) => e instanceof SessionError && e.code === 'session_expired');
    assert.deepEqual(events.filter((e) => e.type === 'auth:logout').map((e) => e.detail.reason), ['expired']);
    assert.equal(session.isAuthenticated(), false);
  });
});

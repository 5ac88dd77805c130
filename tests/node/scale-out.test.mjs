// The reference backend scaled out: three instances of web/server/main.mjs
// (child processes) on one throwaway PostgreSQL 15 cluster (pg-cluster.mjs),
// with calls spread over them. They share refresh-token families and their
// revocation, access-token revocation, CSRF bindings, login rate limits and
// the signing keys (one CLEANSLATE_KEY_FILE); rotation is decided by the
// database; an instance killed with SIGKILL loses no acknowledged logout; a
// PostgreSQL restart keeps every acknowledged revocation and the instances
// reconnect by themselves. Waits are on readiness lines, process exits and
// answers, each bounded; nothing sleeps. Skipped, with the reason printed,
// only where PostgreSQL is not installed (scripts/bootstrap.sh test installs it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPgCluster, pgUnavailableReason, freePort } from './pg-cluster.mjs';

const MAIN = fileURLToPath(new URL('../../web/server/main.mjs', import.meta.url));
// Bounds for a busy two-core machine: generous, never open-ended.
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const skipReason = pgUnavailableReason();
if (skipReason) process.stdout.write(`# scale-out tests skipped: ${skipReason}\n`);

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// Resolves when fn() is truthy for a line of the stream; rejects after ms.
function waitForLine(instance, pattern, ms) {
  const found = instance.lines.find((l) => pattern.test(l));
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      instance.watchers.delete(watcher);
      reject(new Error(`no line matching ${pattern} within ${ms} ms; output:\n${instance.lines.join('\n')}`));
    }, ms);
    const watcher = (line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      instance.watchers.delete(watcher);
      resolve(line);
    };
    instance.watchers.add(watcher);
  });
}

function exitOf(instance, ms = EXIT_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not exit within ${ms} ms`)), ms);
    instance.exited.then((result) => {
      clearTimeout(timer);
      resolve(result);
    });
  });
}

/** Spawns main.mjs with env; resolves once it prints its URL. */
async function startInstance(env, cwd) {
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH, PORT: '0', CLEANSLATE_DEMO_CONTROLS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const instance = { child, lines: [], stderr: '', watchers: new Set() };
  instance.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      if (instance.lines.length < 200) instance.lines.push(line);
      for (const w of [...instance.watchers]) w(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { instance.stderr += chunk; });
  const ready = await Promise.race([
    waitForLine(instance, /^cleanslate demo: http:\/\/127\.0\.0\.1:\d+\//, START_TIMEOUT_MS),
    instance.exited.then(({ code, signal }) => {
      throw new Error(`instance exited (${code ?? signal}) before it was ready: ${instance.stderr}`);
    }),
  ]);
  instance.url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(ready)[1];
  instance.apiBase = `${instance.url}/api/v1`;
  return instance;
}

async function stopInstance(instance) {
  if (instance.child.exitCode !== null || instance.child.signalCode !== null) return;
  instance.child.kill('SIGTERM');
  try {
    await exitOf(instance);
  } catch {
    instance.child.kill('SIGKILL');
    await exitOf(instance);
  }
}

async function call(instance, method, p, { body, csrf, token } = {}) {
  const headers = {};
  if (csrf) headers['X-CSRF-Token'] = csrf;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(instance.apiBase + p, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, data, text };
}

async function csrfOf(instance) {
  const r = await call(instance, 'GET', '/auth/csrf');
  assert.equal(r.status, 200, r.text);
  return r.data.csrf_token;
}

async function login(instance, email = 'userA@test.com', password = 'password') {
  const r = await call(instance, 'POST', '/auth/login', { body: { email, password }, csrf: await csrfOf(instance) });
  assert.equal(r.status, 200, r.text);
  return r.data;
}

const refresh = async (instance, rt, csrf) =>
  call(instance, 'POST', '/auth/refresh', { body: { refresh_token: rt }, csrf: csrf ?? await csrfOf(instance) });
const logout = async (instance, rt, csrf) =>
  call(instance, 'POST', '/auth/logout', { body: { refresh_token: rt }, csrf: csrf ?? await csrfOf(instance) });
const profile = (instance, token) => call(instance, 'GET', '/user/profile', { token });
const familyOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).fid;
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

test('an unreachable DATABASE_URL ends the instance within 10 s with one line naming the database, no fallback', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-unreachable-'));
  try {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { PATH: process.env.PATH, PORT: '0', DATABASE_URL: `postgres://app:s3cret-pw@127.0.0.1:${port}/appdb` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const started = Date.now();
    const { code } = await exitOf({
      exited: new Promise((resolve) => child.once('exit', (c, signal) => {
        children.delete(child);
        resolve({ code: c, signal });
      })),
    }, 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(code, 1);
    assert.equal(stdout, '', 'never started serving (no fallback to SQLite)');
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], new RegExp(`^cleanslate: .*postgres://app@127\\.0\\.0\\.1:${port}/appdb`));
    assert.ok(!stderr.includes('s3cret-pw'), 'no password in the message');
    assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
    assert.deepEqual(fs.readdirSync(cwd), [], 'no SQLite file, no key file');
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

describe('three instances on one PostgreSQL database', { skip: skipReason ?? false }, () => {
  let cluster;
  let work;
  let env;
  let database;
  const instances = [];
  const db = (sql, params) => cluster.query(database, sql, params);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-scale-out-'));
    cluster = await startPgCluster();
    const url = await cluster.createDatabase('scale_out');
    database = new URL(url).pathname.slice(1);
    env = { DATABASE_URL: url, CLEANSLATE_KEY_FILE: path.join(work, 'shared.keys') };
    // Started at once: schema creation and the key file must survive the race.
    instances.push(...await Promise.all([1, 2, 3].map(() => startInstance(env, work))));
    assert.equal(new Set(instances.map((i) => i.url)).size, 3);
  });

  after(async () => {
    try {
      await Promise.all(instances.map((i) => stopInstance(i)));
    } finally {
      try {
        if (cluster) await cluster.stop();
      } finally {
        if (work) fs.rmSync(work, { recursive: true, force: true });
      }
    }
  });

  test('one key file, one set of keys: tokens and CSRF tokens of one instance work on the others', async () => {
    const keys = JSON.parse(fs.readFileSync(env.CLEANSLATE_KEY_FILE, 'utf8'));
    assert.match(keys.jwt_secret, /^[A-Za-z0-9_-]{43,}$/);
    assert.equal(fs.statSync(env.CLEANSLATE_KEY_FILE).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(work).sort(), ['shared.keys'], 'no SQLite file beside the instances');
    const [i1, i2, i3] = instances;
    const s = await login(i1);
    assert.equal((await profile(i2, s.access_token)).status, 200);
    assert.equal((await profile(i3, s.access_token)).status, 200);
    const csrfFrom1 = await csrfOf(i1);
    const rotated = await refresh(i3, s.refresh_token, csrfFrom1);
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal((await profile(i1, rotated.data.access_token)).status, 200);
  });

  test('a CSRF token bound to a family on one instance is refused for another family on the others', async () => {
    const [i1, i2, i3] = instances;
    const a = await login(i1, 'userA@test.com');
    const b = await login(i2, 'userB@test.com');
    const csrf = await csrfOf(i3);
    const note = { body: { text: 'bound' }, csrf };
    assert.equal((await call(i1, 'POST', '/user/notes', { ...note, token: a.access_token })).status, 201);
    const [row] = await db('SELECT family_id FROM csrf_bindings WHERE token_hash = ?', [sha256(csrf)]);
    assert.equal(row.family_id, familyOf(a.access_token));
    for (const other of [i2, i3]) {
      const refused = await call(other, 'POST', '/user/notes', { ...note, token: b.access_token });
      assert.equal(refused.status, 403);
      assert.equal(refused.data.code, 'csrf_invalid');
      assert.equal((await call(other, 'POST', '/user/notes', { ...note, token: a.access_token })).status, 201);
    }
  });

  test('login rate limits are counted across instances', async () => {
    const csrf = await csrfOf(instances[0]);
    const attempt = (i) => call(instances[i % 3], 'POST', '/auth/login', {
      body: { email: 'nobody-limited@test.com', password: 'wrong' }, csrf,
    });
    // The default limit is 10 failures per account in 300 s, spread here over three instances.
    for (let i = 0; i < 10; i++) assert.equal((await attempt(i)).status, 401, `attempt ${i + 1}`);
    for (let i = 0; i < 3; i++) {
      const limited = await attempt(i);
      assert.equal(limited.status, 429, `instance ${i + 1}`);
      assert.equal(limited.data.code, 'rate_limited');
    }
  });

  test('logout through instance 1: within 1 s instance 2 refuses the refresh token and instance 3 the access token', async () => {
    const [i1, i2, i3] = instances;
    const s = await login(i1);
    // Instance 3 has just seen the family live (its cache holds that answer).
    assert.equal((await profile(i3, s.access_token)).status, 200);
    const csrf2 = await csrfOf(i2);
    const out = await logout(i1, s.refresh_token);
    assert.equal(out.status, 200);
    const acknowledged = Date.now();
    const refused = await refresh(i2, s.refresh_token, csrf2);
    assert.equal(refused.status, 401);
    assert.equal(refused.data.code, 'token_revoked');
    // Asked back to back until refused: the revocation cache bound (250 ms)
    // is the only delay allowed, far inside the 1 s the contract gives.
    let last;
    do {
      last = await profile(i3, s.access_token);
    } while (last.status === 200 && Date.now() - acknowledged < 1000);
    assert.equal(last.status, 401, 'instance 3 still accepted the access token 1 s after the logout');
    assert.equal(last.data.code, 'token_revoked');
    assert.equal((await profile(i2, s.access_token)).status, 401);
  });

  test('50 concurrent refreshes of one token over three instances: exactly one succeeds, the rest are reuse', async () => {
    const s = await login(instances[0]);
    const csrfs = await Promise.all(instances.map((i) => csrfOf(i)));
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => refresh(instances[n % 3], s.refresh_token, csrfs[n % 3])));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    const rest = results.filter((r) => r.status !== 200);
    assert.ok(rest.every((r) => r.status === 401 && r.data.code === 'token_reused'),
      rest.map((r) => `${r.status} ${r.data?.code}`).join(', '));
    // The reuse rule revoked the family, the winner's new tokens included.
    const winner = ok[0].data;
    for (const i of instances) {
      assert.equal((await refresh(i, winner.refresh_token)).status, 401);
      const p = await profile(i, winner.access_token);
      assert.equal(p.status, 401);
      assert.equal(p.data.code, 'token_revoked');
    }
    const family = familyOf(s.access_token);
    const rows = await db('SELECT id, revoked_at, replaced_by FROM refresh_tokens WHERE family_id = ? ORDER BY id', [family]);
    assert.equal(rows.length, 2, 'one rotation, one new token');
    assert.equal(rows[0].replaced_by, rows[1].id);
    assert.ok(rows.every((r) => r.revoked_at !== null));
    assert.equal((await db('SELECT count(*)::int AS n FROM revoked_families WHERE family_id = ?', [family]))[0].n, 1);
  });

  test('kill -9 of one instance during load loses no acknowledged logout; the others keep serving', async () => {
    const victim = await startInstance(env, work);
    instances.push(victim); // stopped with the others if anything below fails
    const [i1, i2] = instances;
    const targets = [i1, i2, victim];
    const acknowledged = [];
    let victimLogouts = 0;
    let killed = false;
    let cycles = 0;
    const killedAt = { cycles: null };
    const vu = async (n) => {
      // Each virtual user: login → profile → logout, instances taken in turn;
      // stops 10 cycles after the kill. Failures after the kill are expected
      // on the victim only.
      for (let k = 0; killedAt.cycles === null || cycles < killedAt.cycles + 10; k++) {
        if (k > 200) throw new Error('load did not reach the kill');
        const at = (o) => targets[(n + k + o) % 3];
        try {
          const s = await login(at(0));
          await profile(at(1), s.access_token);
          const target = at(2);
          const out = await logout(target, s.refresh_token);
          if (out.status === 200) {
            acknowledged.push({ ...s, via: target === victim ? 'victim' : 'survivor' });
            if (target === victim && ++victimLogouts === 5 && !killed) {
              killed = true;
              victim.child.kill('SIGKILL');
              killedAt.cycles = cycles;
            }
          }
        } catch (err) {
          if (!killed) throw err;
        }
        cycles++;
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(vu));
    const { signal } = await exitOf(victim);
    assert.equal(signal, 'SIGKILL');
    assert.ok(acknowledged.filter((a) => a.via === 'victim').length >= 5);
    // Every acknowledged logout, the victim's included, holds on the survivors.
    const csrfs = await Promise.all([i1, i2].map((i) => csrfOf(i)));
    for (const [n, s] of acknowledged.entries()) {
      const r = await refresh([i1, i2][n % 2], s.refresh_token, csrfs[n % 2]);
      assert.equal(r.status, 401, `acknowledged logout ${n} (${s.via})`);
      assert.equal((await profile([i2, i1][n % 2], s.access_token)).status, 401);
    }
    // The survivors keep serving.
    for (const i of [i1, i2, instances[2]]) {
      const s = await login(i);
      assert.equal((await profile(i, s.access_token)).status, 200);
      assert.equal(i.child.exitCode, null);
    }
  });

  test('a PostgreSQL restart: acknowledged revocations stay, requests in the outage get 503 fast, instances reconnect', async () => {
    const [i1, i2, i3] = instances;
    const sessions = [];
    for (let n = 0; n < 6; n++) sessions.push(await login(instances[n % 3]));
    // Three logouts acknowledged before the restart; every instance has idle
    // pooled connections that the restart will break.
    for (let n = 0; n < 3; n++) assert.equal((await logout(instances[n], sessions[n].refresh_token)).status, 200);
    for (const i of [i1, i2, i3]) assert.equal((await profile(i, sessions[5].access_token)).status, 200);
    const csrfs = await Promise.all([i1, i2, i3].map((i) => csrfOf(i)));
    const pids = [i1, i2, i3].map((i) => i.child.pid);

    await cluster.stopServer('fast');
    try {
      for (const [n, i] of [i1, i2, i3].entries()) {
        const t0 = Date.now();
        const during = await Promise.all([
          profile(i, sessions[3].access_token),
          call(i, 'POST', '/auth/login', { body: { email: 'userA@test.com', password: 'password' }, csrf: csrfs[n] }),
          refresh(i, sessions[4].refresh_token, csrfs[n]),
          logout(i, sessions[4].refresh_token, csrfs[n]),
        ]);
        const took = Date.now() - t0;
        for (const r of during) {
          assert.equal(r.status, 503, r.text);
          assert.equal(r.data.code, 'unavailable');
        }
        // Bounded by the pool's connect timeout (3 s); a refused connection fails at once.
        assert.ok(took < 10_000, `answers in the outage took ${took} ms`);
        assert.equal(i.child.exitCode, null, 'the lost connections did not end the process');
      }
    } finally {
      await cluster.startServer();
    }

    for (const [n, i] of [i1, i2, i3].entries()) {
      assert.equal(i.child.pid, pids[n]);
      assert.equal(i.child.exitCode, null);
      assert.equal((await profile(i, sessions[5].access_token)).status, 200, 'reconnected without a restart');
      for (let k = 0; k < 3; k++) {
        const r = await refresh(i, sessions[k].refresh_token, csrfs[n]);
        assert.equal(r.status, 401, `logout ${k} acknowledged before the restart, on instance ${n + 1}`);
        const p = await profile(i, sessions[k].access_token);
        assert.equal(p.status, 401);
        assert.equal(p.data.code, 'token_revoked');
      }
    }
    // The logout refused with 503 was not acknowledged and did not happen: that session still refreshes.
    const kept = await refresh(i2, sessions[4].refresh_token, csrfs[1]);
    assert.equal(kept.status, 200, kept.text);
    assert.ok(/connection lost|unavailable/.test(i1.stderr + i2.stderr + i3.stderr), 'the outage was logged');
  });
});

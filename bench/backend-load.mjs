// `npm run bench:backend`: the reference backend under load, one SQLite
// instance against three PostgreSQL instances (a throwaway cluster, fsync on)
// with the calls spread over them. Virtual users repeat login → 5 profile
// reads → refresh → 2 profile reads → logout; every 10th cycle sends its
// refresh twice at once to two instances instead (one must win, the other
// meets the reuse rule and the family ends). Prints throughput, p50/p99
// latency and errors per configuration, then audits each database: every
// family logged out (or ended by reuse) is revoked with no live token left,
// and no family ever had two live tokens (each family's tokens form one
// chain of rotations). Exits 1 when the audit fails. Not part of `npm test`.
//
// Flags: --vus N (default 16), --seconds S per configuration (default 15).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { queryOnce } from '../web/server/pg-store.mjs';
import { startPgCluster, pgUnavailableReason } from '../tests/node/pg-cluster.mjs';

const INSTANCE = fileURLToPath(new URL('./backend-instance.mjs', import.meta.url));
const REQUEST_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 60_000;
const RACE_EVERY = 10;

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const VUS = flag('vus', 16);
const SECONDS = flag('seconds', 15);

function startInstance(env) {
  const child = spawn(process.execPath, [INSTANCE], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance not ready within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited (${code}): ${stderr}`));
    });
    child.stdout.once('data', (line) => {
      clearTimeout(timer);
      const { url } = JSON.parse(String(line));
      resolve({
        apiBase: `${url}/api/v1`,
        async stop() {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const familyOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).fid;

// Runs the virtual users against `instances` for SECONDS; returns the figures.
async function load(instances) {
  const latencies = [];
  const ended = new Set(); // families logged out or ended by the reuse rule
  let errors = 0;
  let races = 0;
  let racesDecidedOnce = 0;
  let cycles = 0;
  let rr = 0;
  const next = () => instances[rr++ % instances.length];
  async function call(method, p, { body, csrf, token, to = next() } = {}) {
    const headers = {};
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body) headers['Content-Type'] = 'application/json';
    const t0 = performance.now();
    try {
      const res = await fetch(to.apiBase + p, {
        method, headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const data = await res.json().catch(() => null);
      latencies.push(performance.now() - t0);
      return { status: res.status, data };
    } catch {
      latencies.push(performance.now() - t0);
      return { status: 0, data: null };
    }
  }
  const expect200 = (r) => {
    if (r.status !== 200) errors++;
    return r.status === 200;
  };

  const deadline = Date.now() + SECONDS * 1000;
  async function vu(n) {
    const email = n % 2 ? 'userA@test.com' : 'userB@test.com';
    while (Date.now() < deadline) {
      const cycle = ++cycles;
      const c = await call('GET', '/auth/csrf');
      if (!expect200(c)) continue;
      const csrf = c.data.csrf_token;
      const login = await call('POST', '/auth/login', { body: { email, password: 'password' }, csrf });
      if (!expect200(login)) continue;
      let { access_token: access, refresh_token: refresh } = login.data;
      for (let i = 0; i < 5; i++) expect200(await call('GET', '/user/profile', { token: access }));
      if (cycle % RACE_EVERY === 0) {
        races++;
        const pair = await Promise.all([0, 1].map(() => call('POST', '/auth/refresh', { body: { refresh_token: refresh }, csrf })));
        const won = pair.filter((r) => r.status === 200).length;
        const reused = pair.filter((r) => r.status === 401 && r.data?.code === 'token_reused').length;
        if (won === 1 && reused === 1) racesDecidedOnce++;
        else errors++;
        ended.add(familyOf(access));
        continue;
      }
      const rotated = await call('POST', '/auth/refresh', { body: { refresh_token: refresh }, csrf });
      if (!expect200(rotated)) continue;
      ({ access_token: access, refresh_token: refresh } = rotated.data);
      for (let i = 0; i < 2; i++) expect200(await call('GET', '/user/profile', { token: access }));
      const out = await call('POST', '/auth/logout', { body: { refresh_token: refresh }, csrf });
      if (expect200(out)) ended.add(familyOf(access));
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: VUS }, (_, n) => vu(n)));
  const elapsedSec = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / elapsedSec,
    cycles,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    races,
    racesDecidedOnce,
    ended,
  };
}

// The audit, on rows read from the database by `query(sql)`.
async function audit(query, ended) {
  const revoked = new Set((await query('SELECT family_id FROM revoked_families')).map((r) => r.family_id));
  const live = new Set((await query('SELECT DISTINCT family_id FROM refresh_tokens WHERE revoked_at IS NULL')).map((r) => r.family_id));
  const notRevoked = [...ended].filter((f) => !revoked.has(f) || live.has(f)).length;
  const chains = await query(`SELECT family_id, COUNT(*) AS tokens, COUNT(replaced_by) AS rotations,
                                     COUNT(DISTINCT replaced_by) AS successors,
                                     SUM(CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END) AS live
                              FROM refresh_tokens GROUP BY family_id`);
  const forked = chains.filter((c) => Number(c.tokens) - Number(c.rotations) !== 1
    || Number(c.rotations) !== Number(c.successors) || Number(c.live) > 1).length;
  return { ended: ended.size, notRevoked, families: chains.length, forked };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-bench-backend-'));
  const rows = [];
  const stops = [];
  let cluster = null;
  let failed = false;
  try {
    // 1 SQLite instance.
    const dbPath = path.join(work, 'bench.sqlite');
    const sqlite = await startInstance({ BENCH_DB_PATH: dbPath, BENCH_KEY_FILE: path.join(work, 'sqlite.keys') });
    stops.push(sqlite.stop);
    process.stderr.write(`bench:backend: SQLite, 1 instance, ${VUS} virtual users, ${SECONDS} s\n`);
    const s = await load([sqlite]);
    await sqlite.stop();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    rows.push({ name: 'SQLite, 1 instance', ...s, audit: await audit(async (sql) => db.prepare(sql).all(), s.ended) });
    db.close();

    // 3 PostgreSQL instances.
    const reason = pgUnavailableReason();
    if (reason) {
      process.stderr.write(`bench:backend: PostgreSQL skipped: ${reason}\n`);
    } else {
      cluster = await startPgCluster({ fsync: true });
      const url = await cluster.createDatabase('bench');
      const keyFile = path.join(work, 'pg.keys');
      const instances = await Promise.all([1, 2, 3].map(() => startInstance({ BENCH_DATABASE_URL: url, BENCH_KEY_FILE: keyFile })));
      stops.push(...instances.map((i) => i.stop));
      process.stderr.write(`bench:backend: PostgreSQL, 3 instances, ${VUS} virtual users, ${SECONDS} s\n`);
      const p = await load(instances);
      await Promise.all(instances.map((i) => i.stop()));
      rows.push({ name: 'PostgreSQL, 3 instances', ...p, audit: await audit((sql) => queryOnce(url, sql), p.ended) });
    }
  } finally {
    await Promise.all(stops.map((stop) => stop().catch(() => {})));
    if (cluster) await cluster.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const header = ['configuration', 'VUs', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'refresh races (one winner)',
    'families ended', 'not revoked', 'forked families'];
  const lines = rows.map((r) => [r.name, VUS, r.requests, fmt(r.rps, 0), fmt(r.p50), fmt(r.p99), r.errors,
    `${r.racesDecidedOnce}/${r.races}`, r.audit.ended, r.audit.notRevoked, r.audit.forked]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const row = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  for (const r of rows) {
    const ok = r.audit.notRevoked === 0 && r.audit.forked === 0 && r.racesDecidedOnce === r.races;
    if (!ok) failed = true;
    console.log(`audit ${r.name}: ${r.audit.ended} families ended, ${r.audit.notRevoked} not revoked; ` +
      `${r.audit.families} families, ${r.audit.forked} with two live tokens or a forked chain — ${ok ? 'ok' : 'FAILED'}`);
  }
  if (failed) process.exitCode = 1;
}

await main();

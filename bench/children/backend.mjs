// The reference backend in a process of its own, driven over IPC by
// lib/backend.mjs, so its CPU time and heap never mix with the client being
// measured. Besides start/stats/fault/close it can move its clock forward:
// the backend then sees every access token issued so far as expired while the
// client's own clock (and its proactive-refresh timer) is untouched.
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The backend checks every login with scrypt (~50 ms of CPU), which would make
// the login → request → logout cycles measure the backend's password hashing,
// not the client. Results are memoised per (password, salt, length, options):
// answers are byte-for-byte the same, only repeated logins get cheap. Installed
// before the backend's modules load, since they bind crypto.scrypt at import.
const scrypt = crypto.scrypt;
const derived = new Map();
crypto.scrypt = function memoisedScrypt(password, salt, keylen, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const key = JSON.stringify([Buffer.from(password).toString('base64'), Buffer.from(salt).toString('base64'), keylen, options]);
  const hit = derived.get(key);
  if (hit) {
    process.nextTick(callback, null, Buffer.from(hit));
    return;
  }
  scrypt.call(crypto, password, salt, keylen, options, (err, out) => {
    if (!err) derived.set(key, Buffer.from(out));
    callback(err, out);
  });
};
const { startServer } = await import('../../web/server/app.mjs');

const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

let server = null;
let dir = null;

const commands = {
  async start(options = {}) {
    dir = mkdtempSync(join(tmpdir(), 'cleanslate-bench-'));
    server = await startServer({ port: 0, dbPath: join(dir, 'bench.sqlite'), ...options });
    return { url: server.url, apiBase: server.apiBase };
  },
  stats: () => ({ ...server.stats }),
  fault: ({ route, spec }) => { server.fault(route, spec); },
  clearFaults: () => { server.clearFaults(); },
  advanceClock: (ms) => { clockOffsetMs += ms; return clockOffsetMs; },
  async close() {
    if (server) await server.close();
    server = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  },
};

process.on('message', async ({ id, cmd, arg }) => {
  try {
    const value = await commands[cmd](arg);
    process.send({ id, ok: true, value });
  } catch (error) {
    process.send({ id, ok: false, error: String(error && error.stack ? error.stack : error) });
  }
});

// The parent went away: close the database and leave.
process.on('disconnect', async () => {
  try {
    await commands.close();
  } finally {
    process.exit(0);
  }
});

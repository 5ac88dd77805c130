// The reference backend in a process of its own, driven over IPC by
// lib/backend.mjs, so its CPU time and heap never mix with the client being
// measured. Besides start/stats/fault/close it can move its clock forward:
// the backend then sees every access token issued so far as expired while the
// client's own clock (and its proactive-refresh timer) is untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../web/server/app.mjs';

// Password hashing is kept cheap by the scryptN option that lib/backend.mjs
// passes to startServer (the server's own option), not by patching crypto.

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

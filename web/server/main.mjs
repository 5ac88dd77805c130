// Command-line entry of the reference backend (`npm start`): reads the
// environment and flags, starts the server with access logging on (the demo
// controls only when asked), and shuts down cleanly (database closed) on
// SIGINT/SIGTERM. It never keeps a request log (recordRequests is for tests).
//
// Environment: PORT (default 8080), CLEANSLATE_DB (default ./data/cleanslate.sqlite,
// relative to the working directory), CLEANSLATE_KEY_FILE (the signing keys,
// default <CLEANSLATE_DB>.keys; created 0600 when missing, refused when group- or
// world-accessible), ACCESS_TTL_SEC, REFRESH_TTL_SEC, CORS_ORIGINS (comma-separated
// list of allowed origins), CLEANSLATE_DEMO_CONTROLS=1 (same as --demo-controls).
//
// DATABASE_URL=postgres://user@host:port/db puts the data in PostgreSQL
// instead of the SQLite file, so several instances can serve one database;
// they must share CLEANSLATE_KEY_FILE (default ./data/cleanslate.keys then).
// REVOCATION_CACHE_MS (default 250) bounds how long an instance reuses a
// "not revoked" answer for an access token's family. An unreachable database
// ends the process with status 1 and one line naming it (never its password)
// within a few seconds; there is no fallback to SQLite.
//
// Flags: --demo-controls mounts the demo page's fault controls (/api/v1/__demo/);
// `npm start` passes it. Without it the server has none.
import path from 'node:path';
import { startServer } from './app.mjs';

function fail(message) {
  process.stderr.write(`cleanslate: ${message}\n`);
  process.exit(1);
}

function intFromEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

const FLAGS = new Set(['--demo-controls']);
for (const arg of process.argv.slice(2)) if (!FLAGS.has(arg)) fail(`unknown argument "${arg}" (known: ${[...FLAGS].join(', ')})`);
const demoEnv = process.env.CLEANSLATE_DEMO_CONTROLS ?? '';
if (!['', '0', '1'].includes(demoEnv)) fail(`CLEANSLATE_DEMO_CONTROLS must be 0 or 1, got "${demoEnv}"`);

const port = intFromEnv('PORT', 8080, 0);
if (port > 65535) fail(`PORT must be at most 65535, got ${port}`);
const databaseUrl = process.env.DATABASE_URL || undefined;
if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  fail('DATABASE_URL must be a postgres:// or postgresql:// URL');
}
const defaultKeyFile = databaseUrl !== undefined ? path.join('data', 'cleanslate.keys') : undefined;
const keyFileEnv = process.env.CLEANSLATE_KEY_FILE || defaultKeyFile;
const options = {
  port,
  databaseUrl,
  revocationCacheMs: intFromEnv('REVOCATION_CACHE_MS', 250, 0),
  dbPath: path.resolve(process.cwd(), process.env.CLEANSLATE_DB || path.join('data', 'cleanslate.sqlite')),
  keyFile: keyFileEnv ? path.resolve(process.cwd(), keyFileEnv) : undefined,
  accessTtlSec: intFromEnv('ACCESS_TTL_SEC', 900, 1),
  refreshTtlSec: intFromEnv('REFRESH_TTL_SEC', 604800, 1),
  corsOrigins: (process.env.CORS_ORIGINS || '').split(',').map((s) => s.trim()).filter(Boolean),
  controls: process.argv.includes('--demo-controls') || demoEnv === '1',
  log: true,
};

let server;
try {
  server = await startServer(options);
} catch (err) {
  if (err && err.code === 'EADDRINUSE') fail(`port ${port} is already in use (set PORT to use another one)`);
  if (err && err.code === 'storage_unavailable') fail(err.message);
  if (err && err.code === 'EACCES') fail(`no permission to listen on port ${port} (set PORT to use another one)`);
  fail(`could not start: ${err && err.message ? err.message : err}`);
}

process.stdout.write(`cleanslate demo: ${server.url}/${options.controls ? ' (demo controls on)' : ''}\n`);

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
    process.stdout.write(`cleanslate: stopped (${signal})\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`cleanslate: error while stopping: ${err && err.message ? err.message : err}\n`);
    process.exit(1);
  }
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

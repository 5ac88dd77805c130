// Command-line entry of the reference backend (`npm start`): reads the
// environment, starts the server with the demo controls and request logging on,
// and shuts down cleanly (database closed) on SIGINT/SIGTERM.
//
// Environment: PORT (default 8080), CLEANSLATE_DB (default ./data/cleanslate.sqlite,
// relative to the working directory), ACCESS_TTL_SEC, REFRESH_TTL_SEC,
// CORS_ORIGINS (comma-separated list of allowed origins).
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

const port = intFromEnv('PORT', 8080, 0);
if (port > 65535) fail(`PORT must be at most 65535, got ${port}`);
const options = {
  port,
  dbPath: path.resolve(process.cwd(), process.env.CLEANSLATE_DB || path.join('data', 'cleanslate.sqlite')),
  accessTtlSec: intFromEnv('ACCESS_TTL_SEC', 900, 1),
  refreshTtlSec: intFromEnv('REFRESH_TTL_SEC', 604800, 1),
  corsOrigins: (process.env.CORS_ORIGINS || '').split(',').map((s) => s.trim()).filter(Boolean),
  controls: true,
  log: true,
};

let server;
try {
  server = await startServer(options);
} catch (err) {
  if (err && err.code === 'EADDRINUSE') fail(`port ${port} is already in use (set PORT to use another one)`);
  if (err && err.code === 'EACCES') fail(`no permission to listen on port ${port} (set PORT to use another one)`);
  fail(`could not start: ${err && err.message ? err.message : err}`);
}

process.stdout.write(`cleanslate demo: ${server.url}/\n`);

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

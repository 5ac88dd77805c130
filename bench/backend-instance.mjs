// One reference-backend instance for bench/backend-load.mjs, in a process of
// its own: the SQLite file (BENCH_DB_PATH) or PostgreSQL (BENCH_DATABASE_URL),
// the signing keys in BENCH_KEY_FILE. It is main.mjs but for the password
// hash cost: startServer's scryptN=16 keeps the thousands of logins the bench
// makes near free, so they measure the storage, not scrypt. Prints one JSON
// line {"url"} once it listens; SIGTERM closes it.
import { startServer } from '../web/server/app.mjs';

const server = await startServer({
  port: 0,
  dbPath: process.env.BENCH_DB_PATH || undefined,
  databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
  keyFile: process.env.BENCH_KEY_FILE,
  scryptN: 16,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});

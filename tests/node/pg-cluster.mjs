// A throwaway PostgreSQL cluster for tests and the backend benchmark: initdb
// in a temp dir, its own free port on 127.0.0.1, its unix socket inside the
// temp dir, run as the unprivileged `postgres` user (runuser) when started as
// root, since PostgreSQL refuses to run as root. stop() removes everything;
// a process exit that skipped it still stops the server (synchronously).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { queryOnce } from '../../web/server/pg-store.mjs';

const PG_ROOT = '/usr/lib/postgresql';
// Every pg_ctl/initdb call is bounded; the machine is shared and busy.
const TOOL_TIMEOUT_MS = 120_000;

/** The bin directory of the newest PostgreSQL with initdb, or null. */
export function findPgBin() {
  let versions = [];
  try {
    versions = fs.readdirSync(PG_ROOT).filter((v) => fs.existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(PG_ROOT, versions[0], 'bin') : null;
}

/** Why no cluster can be made here (printed as the skip reason), or null. */
export function pgUnavailableReason() {
  if (!findPgBin()) return `no PostgreSQL binaries (${PG_ROOT}/*/bin/initdb); scripts/bootstrap.sh test installs them`;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no `postgres` user to run PostgreSQL as';
    }
  }
  return null;
}

/** A loopback port that was free a moment ago (nothing listens on it now). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster. fsync: false (the default) for tests, where only clean
 * shutdowns and restarts happen; the benchmark keeps fsync on. Resolves to
 * { port, url(database), createDatabase(), query(), stopServer(), startServer(), stop() }.
 */
export async function startPgCluster({ fsync = false } = {}) {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, uid, gid);
  }
  fs.chmodSync(dir, 0o700);
  const command = (tool, args) => (asRoot
    ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]]
    : [path.join(bin, tool), args]);
  const run = (tool, args) => new Promise((resolve, reject) => {
    const [file, argv] = command(tool, args);
    execFile(file, argv, { timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${tool} ${args[0] ?? ''} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });

  let port;
  let running = false;
  const stopSync = () => {
    if (running) {
      const [file, argv] = command('pg_ctl', ['-D', data, 'stop', '-m', 'immediate', '-w', '-t', '30']);
      spawnSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
      running = false;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);

  const startServer = async () => {
    const opts = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", `-c fsync=${fsync ? 'on' : 'off'}`,
      '-c max_connections=200', '-c shared_buffers=32MB'].join(' ');
    await run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', opts, 'start']);
    running = true;
  };
  const stopServer = async (mode = 'fast') => {
    await run('pg_ctl', ['-D', data, 'stop', '-m', mode, '-w', '-t', '60']);
    running = false;
  };

  try {
    await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    port = await freePort();
    await startServer();
  } catch (err) {
    stopSync();
    process.off('exit', stopSync);
    throw err;
  }

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    port,
    dir,
    url,
    serverLog: () => fs.readFileSync(path.join(dir, 'server.log'), 'utf8'),
    /** A new empty database; resolves to its URL. */
    async createDatabase(prefix = 'db') {
      const name = `${prefix}_${process.pid}_${++databases}`;
      await queryOnce(url(), `CREATE DATABASE ${name}`);
      return url(name);
    },
    query: (database, sql, params) => queryOnce(url(database), sql, params),
    stopServer,
    startServer,
    async stop() {
      process.off('exit', stopSync);
      try {
        if (running) await stopServer('fast');
      } finally {
        stopSync();
      }
    },
  };
}

// The storages the server tests run against: the embedded SQLite file (the
// default) and PostgreSQL on a throwaway cluster (pg-cluster.mjs), skipped
// with a printed reason only where PostgreSQL is not installed. Each gives
// fresh(): the startServer options of a new, empty database, the key file the
// server will use, and query(sql, params) to read that database (`?`
// placeholders, the same SQL for both).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startPgCluster, pgUnavailableReason } from './pg-cluster.mjs';

function sqliteStorage() {
  let dir = null;
  let count = 0;
  return {
    name: 'sqlite',
    skip: false,
    async setup() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-storage-'));
    },
    async teardown() {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
    async fresh() {
      const dbPath = path.join(dir, `db-${++count}`, 'test.sqlite');
      return {
        options: { dbPath },
        keyFile: `${dbPath}.keys`,
        async query(sql, params = []) {
          const db = new Database(dbPath, { readonly: true, fileMustExist: true });
          try {
            return db.prepare(sql).all(...params);
          } finally {
            db.close();
          }
        },
      };
    },
  };
}

function postgresStorage() {
  const reason = pgUnavailableReason();
  if (reason) process.stdout.write(`# postgres storage skipped: ${reason}\n`);
  let cluster = null;
  let keyDir = null;
  let count = 0;
  return {
    name: 'postgres',
    skip: reason ?? false,
    async setup() {
      keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanslate-storage-keys-'));
      cluster = await startPgCluster();
    },
    async teardown() {
      try {
        if (cluster) await cluster.stop();
      } finally {
        if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
      }
    },
    get cluster() {
      return cluster;
    },
    async fresh() {
      const databaseUrl = await cluster.createDatabase('server_test');
      const keyFile = path.join(keyDir, `keys-${++count}`);
      const database = new URL(databaseUrl).pathname.slice(1);
      return {
        options: { databaseUrl, keyFile },
        keyFile,
        query: (sql, params = []) => cluster.query(database, sql, params),
      };
    },
  };
}

/** Both storages, SQLite first. */
export const STORAGES = [sqliteStorage(), postgresStorage()];

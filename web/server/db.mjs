// SQLite storage of the reference backend: schema, seed users, persisted
// secrets and every query the routes need. better-sqlite3 is synchronous, so
// once a write method returns, the change is committed (synchronous=FULL).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { DEFAULT_SCRYPT_N, hashPassword } from './tokens.mjs';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  TEXT NOT NULL UNIQUE,
  family_id   TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  replaced_by INTEGER REFERENCES refresh_tokens(id)
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family_id);
CREATE TABLE IF NOT EXISTS notes (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  text       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_user ON notes(user_id);
`;

export const SEED_USERS = [
  { email: 'userA@test.com', name: 'User A', password: 'password' },
  { email: 'userB@test.com', name: 'User B', password: 'password' },
];

// Opens (creating if needed) the database and returns the query facade.
// Timestamps are milliseconds since the epoch. Seed users missing from the
// database are created with password hashes of cost scryptN (tokens.mjs).
export async function openStore(dbPath, { scryptN = DEFAULT_SCRYPT_N } = {}) {
  if (dbPath !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
  const db = new Database(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const store = createStore(db);
    for (const u of SEED_USERS) {
      if (!store.findUserByEmail(u.email)) {
        store.insertUser(u.email, u.name, await hashPassword(u.password, { N: scryptN }));
      }
    }
    return store;
  } catch (err) {
    db.close();
    throw err;
  }
}

function createStore(db) {
  const q = {
    metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
    metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    metaInsert: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
    userByEmail: db.prepare('SELECT id, email, name, password_hash FROM users WHERE email = ?'),
    userById: db.prepare('SELECT id, email, name FROM users WHERE id = ?'),
    userInsert: db.prepare('INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)'),
    tokenByHash: db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
    tokenInsert: db.prepare(`INSERT INTO refresh_tokens (user_id, token_hash, family_id, created_at, expires_at)
                             VALUES (?, ?, ?, ?, ?)`),
    tokenReplace: db.prepare('UPDATE refresh_tokens SET revoked_at = ?, replaced_by = ? WHERE id = ?'),
    familyRevoke: db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL'),
    noteInsert: db.prepare('INSERT INTO notes (user_id, text, created_at) VALUES (?, ?, ?)'),
    notesByUser: db.prepare('SELECT id, text, user_id, created_at FROM notes WHERE user_id = ? ORDER BY id'),
  };

  // Look-up, checks and rotation run in one transaction, so two refreshes of
  // the same token can never both succeed and a detected reuse is committed.
  const consume = db.transaction((oldHash, newHash, now, expiresAt) => {
    const row = q.tokenByHash.get(oldHash);
    if (!row) return { outcome: 'unknown' };
    if (row.replaced_by !== null) {
      q.familyRevoke.run(now, row.family_id);
      return { outcome: 'reused' };
    }
    if (row.revoked_at !== null) return { outcome: 'revoked' };
    if (row.expires_at <= now) return { outcome: 'expired' };
    const user = q.userById.get(row.user_id);
    if (!user) return { outcome: 'unknown' };
    const { lastInsertRowid } = q.tokenInsert.run(row.user_id, newHash, row.family_id, now, expiresAt);
    q.tokenReplace.run(now, lastInsertRowid, row.id);
    return { outcome: 'rotated', user };
  });

  return {
    // A secret kept across restarts; created on first use.
    secret(key) {
      q.metaInsert.run(key, crypto.randomBytes(32).toString('base64url'));
      return q.metaGet.get(key).value;
    },
    replaceSecret(key) {
      const value = crypto.randomBytes(32).toString('base64url');
      q.metaSet.run(key, value);
      return value;
    },
    findUserByEmail: (email) => q.userByEmail.get(email),
    findUserById: (id) => q.userById.get(id),
    insertUser: (email, name, passwordHash) => q.userInsert.run(email, name, passwordHash, Date.now()),

    insertRefreshToken(userId, tokenHash, familyId, expiresAt) {
      q.tokenInsert.run(userId, tokenHash, familyId, Date.now(), expiresAt);
    },
    // Revokes every token of the family the given token belongs to; false if unknown.
    revokeFamilyOf(tokenHash) {
      const row = q.tokenByHash.get(tokenHash);
      if (!row) return false;
      q.familyRevoke.run(Date.now(), row.family_id);
      return true;
    },
    // Returns { outcome: 'rotated', user } or { outcome: 'unknown'|'reused'|'revoked'|'expired' }.
    // On 'rotated' the old token is revoked with replaced_by pointing at the new one;
    // on 'reused' the whole family has been revoked.
    // `now` is the server's token clock (it may run ahead of Date.now() in tests).
    consumeRefreshToken: (oldHash, newHash, expiresAt, now = Date.now()) => consume(oldHash, newHash, now, expiresAt),

    insertNote(userId, text) {
      return Number(q.noteInsert.run(userId, text, Date.now()).lastInsertRowid);
    },
    listNotes: (userId) => q.notesByUser.all(userId),

    close() {
      if (db.open) db.close();
    },
    get open() {
      return db.open;
    },
  };
}

// SQLite storage of the reference backend (the default; one server process
// per file): schema, seed users, every query the routes need, the revoked
// token families (also held in memory, for the check on every authenticated
// request), the CSRF token bindings and, in memory, the login rate limits.
// better-sqlite3 is synchronous, so a write is committed (synchronous=FULL)
// when its method's promise resolves; the methods return promises only to
// share one interface with the PostgreSQL store (pg-store.mjs). The database file and its -wal and -shm files are
// owner-only (0600). Signing keys are not kept here (keys.mjs); those an older
// server stored in `meta` are handed over once and deleted.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_SCRYPT_N, hashPassword } from './tokens.mjs';
import { memoryLoginLimiter } from './login-limiter.mjs';

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
-- Families revoked by logout or reuse detection: their access tokens are refused.
CREATE TABLE IF NOT EXISTS revoked_families (
  family_id  TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL
);
-- A CSRF token (by its SHA-256 hash) bound to the token family it was first
-- used with; kept until the CSRF token itself expires.
CREATE TABLE IF NOT EXISTS csrf_bindings (
  token_hash TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS csrf_bindings_expiry ON csrf_bindings(expires_at);
-- Families whose every token was revoked before revoked_families existed.
INSERT OR IGNORE INTO revoked_families (family_id, revoked_at)
  SELECT family_id, MAX(revoked_at) FROM refresh_tokens GROUP BY family_id HAVING COUNT(revoked_at) = COUNT(*);
`;

// The `meta` rows where servers before the key file kept their signing keys.
const LEGACY_SECRET_KEYS = ['jwt_secret', 'csrf_secret'];

export const SEED_USERS = [
  { email: 'userA@test.com', name: 'User A', password: 'password' },
  { email: 'userB@test.com', name: 'User B', password: 'password' },
];

// Opens (creating if needed) the database and returns the query facade.
// Timestamps are milliseconds since the epoch. Seed users missing from the
// database are created with password hashes of cost scryptN (tokens.mjs).
export async function openSqliteStore(dbPath, { scryptN = DEFAULT_SCRYPT_N } = {}) {
  if (dbPath !== ':memory:') ownerOnlyFiles(path.resolve(dbPath));
  const db = new Database(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const store = createStore(db);
    for (const u of SEED_USERS) {
      if (!(await store.findUserByEmail(u.email))) {
        await store.insertUser(u.email, u.name, await hashPassword(u.password, { N: scryptN }));
      }
    }
    return store;
  } catch (err) {
    db.close();
    throw err;
  }
}

// Creates the database file 0600 before SQLite opens it, because SQLite gives
// the -wal and -shm files it creates the mode of the database file; files an
// older server left group- or world-readable are narrowed to their owner.
function ownerOnlyFiles(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  if (process.platform === 'win32') return;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let mode;
    try {
      mode = fs.statSync(f).mode & 0o777;
    } catch {
      continue; // not there (yet)
    }
    if (mode & 0o077) fs.chmodSync(f, mode & 0o700);
  }
}

function createStore(db) {
  const q = {
    metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
    metaDelete: db.prepare('DELETE FROM meta WHERE key = ?'),
    userByEmail: db.prepare('SELECT id, email, name, password_hash FROM users WHERE email = ?'),
    userById: db.prepare('SELECT id, email, name FROM users WHERE id = ?'),
    userInsert: db.prepare('INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)'),
    tokenByHash: db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
    tokenInsert: db.prepare(`INSERT INTO refresh_tokens (user_id, token_hash, family_id, created_at, expires_at)
                             VALUES (?, ?, ?, ?, ?)`),
    tokenReplace: db.prepare('UPDATE refresh_tokens SET revoked_at = ?, replaced_by = ? WHERE id = ?'),
    familyRevoke: db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL'),
    familyMarkRevoked: db.prepare('INSERT OR IGNORE INTO revoked_families (family_id, revoked_at) VALUES (?, ?)'),
    revokedFamilies: db.prepare('SELECT family_id FROM revoked_families').pluck(),
    csrfBindingOf: db.prepare('SELECT family_id FROM csrf_bindings WHERE token_hash = ?').pluck(),
    csrfBind: db.prepare('INSERT OR IGNORE INTO csrf_bindings (token_hash, family_id, expires_at) VALUES (?, ?, ?)'),
    csrfPurge: db.prepare('DELETE FROM csrf_bindings WHERE expires_at <= ?'),
    noteInsert: db.prepare('INSERT INTO notes (user_id, text, created_at) VALUES (?, ?, ?)'),
    notesByUser: db.prepare('SELECT id, text, user_id, created_at FROM notes WHERE user_id = ? ORDER BY id'),
  };

  // Every access token checks its family against this set, so it lives in
  // memory; it is loaded at start and updated only after a revocation commits.
  const revokedFamilies = new Set(q.revokedFamilies.all());

  const revokeFamily = (familyId, now) => {
    q.familyRevoke.run(now, familyId);
    q.familyMarkRevoked.run(familyId, now);
  };

  // Look-up, checks and rotation run in one transaction, so two refreshes of
  // the same token can never both succeed and a detected reuse is committed.
  const consume = db.transaction((oldHash, newHash, now, expiresAt) => {
    const row = q.tokenByHash.get(oldHash);
    if (!row) return { outcome: 'unknown' };
    if (row.replaced_by !== null) {
      revokeFamily(row.family_id, now);
      return { outcome: 'reused', familyId: row.family_id };
    }
    if (row.revoked_at !== null) return { outcome: 'revoked' };
    if (row.expires_at <= now) return { outcome: 'expired' };
    const user = q.userById.get(row.user_id);
    if (!user) return { outcome: 'unknown' };
    const { lastInsertRowid } = q.tokenInsert.run(row.user_id, newHash, row.family_id, now, expiresAt);
    q.tokenReplace.run(now, lastInsertRowid, row.id);
    return { outcome: 'rotated', user, familyId: row.family_id };
  });

  const revokeFamilyOfToken = db.transaction((tokenHash, now) => {
    const row = q.tokenByHash.get(tokenHash);
    if (!row) return null;
    revokeFamily(row.family_id, now);
    return row.family_id;
  });

  return {
    kind: 'sqlite',
    // Where the data is, for messages.
    description: db.name,
    // The signing keys an older server kept in the database ({ jwt_secret,
    // csrf_secret }, either may be missing), or null when there are none.
    async legacySecrets() {
      const found = LEGACY_SECRET_KEYS.map((key) => [key, q.metaGet.get(key)?.value]).filter(([, v]) => v);
      return found.length ? Object.fromEntries(found) : null;
    },
    // Deletes them once they are in the key file. secure_delete zeroes the
    // freed bytes and the checkpoint empties the WAL, so no copy is left in
    // either file.
    async deleteLegacySecrets() {
      if (!LEGACY_SECRET_KEYS.some((key) => q.metaGet.get(key))) return;
      db.pragma('secure_delete = ON');
      try {
        db.transaction(() => LEGACY_SECRET_KEYS.forEach((key) => q.metaDelete.run(key)))();
      } finally {
        db.pragma('secure_delete = OFF');
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    findUserByEmail: async (email) => q.userByEmail.get(email),
    findUserById: async (id) => q.userById.get(id),
    async insertUser(email, name, passwordHash) {
      q.userInsert.run(email, name, passwordHash, Date.now());
    },

    async insertRefreshToken(userId, tokenHash, familyId, expiresAt) {
      q.tokenInsert.run(userId, tokenHash, familyId, Date.now(), expiresAt);
    },
    // Revokes every token of the family the given token belongs to; false if unknown.
    async revokeFamilyOf(tokenHash) {
      const familyId = revokeFamilyOfToken(tokenHash, Date.now());
      if (familyId === null) return false;
      revokedFamilies.add(familyId);
      return true;
    },
    // Returns { outcome: 'rotated', user, familyId } or { outcome: 'unknown'|'reused'|'revoked'|'expired' }.
    // On 'rotated' the old token is revoked with replaced_by pointing at the new one;
    // on 'reused' the whole family has been revoked. `now` is the server's
    // clock, which tests may have moved forward. The transaction is
    // synchronous, so two refreshes of one token can never interleave.
    async consumeRefreshToken(oldHash, newHash, expiresAt, now = Date.now()) {
      const result = consume(oldHash, newHash, now, expiresAt);
      if (result.outcome === 'reused') revokedFamilies.add(result.familyId);
      return result;
    },
    // Whether a family is revoked. This process is the only writer of the
    // file, so the in-memory set is always current.
    isFamilyRevoked: async (familyId) => revokedFamilies.has(familyId),

    // The family a CSRF token (by hash) is bound to, or undefined.
    csrfBindingOf: async (tokenHash) => q.csrfBindingOf.get(tokenHash),
    // Binds it unless already bound; returns the family it is bound to now.
    async bindCsrfToken(tokenHash, familyId, expiresAt) {
      q.csrfBind.run(tokenHash, familyId, expiresAt);
      return q.csrfBindingOf.get(tokenHash);
    },
    // Deletes the bindings of CSRF tokens expired at `now`; returns how many.
    purgeCsrfBindings: async (now) => q.csrfPurge.run(now).changes,

    // Login rate limits (login-limiter.mjs), in this process's memory.
    loginLimiter: (limits) => memoryLoginLimiter(limits),

    async insertNote(userId, text) {
      return Number(q.noteInsert.run(userId, text, Date.now()).lastInsertRowid);
    },
    listNotes: async (userId) => q.notesByUser.all(userId),

    async close() {
      if (db.open) db.close();
    },
    get open() {
      return db.open;
    },
  };
}

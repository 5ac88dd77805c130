// PostgreSQL storage of the reference backend (DATABASE_URL=postgres://…),
// the same interface as the SQLite store (db.mjs) for any number of server
// instances on one database: users, refresh-token families and their
// revocation, revoked families, CSRF token bindings and login rate limits all
// live in the database, so every instance decides from the same rows.
//
// Rotation and revocation of a family are serialised by a transaction-scoped
// advisory lock on the family plus a row lock (SELECT … FOR UPDATE) on the
// presented token: of concurrent refreshes of one token on any instances the
// first to commit rotates it and every later one finds `replaced_by` set and
// applies the reuse rule. Every write is committed before its promise
// resolves; transactions that rotate or revoke also insist on
// synchronous_commit=on, whatever the server's default, so an acknowledged
// logout survives a crash of the database.
//
// "Is this family revoked?" is asked on every authenticated request. A family
// once seen revoked stays revoked (kept in memory); a "not revoked" answer is
// reused for at most revocationCacheMs (default 250 ms), which bounds how long
// an instance may accept an access token of a family revoked through another
// instance. Revocations made through this instance apply to it at once.
//
// Losing the database never crashes the process: the pool's idle-client
// errors are caught, connecting is bounded (connectionTimeoutMs) and so is
// every query (queryTimeoutMs); a failure of the connection becomes a
// StorageUnavailableError (the server answers 503) and the next request
// connects afresh, so instances recover without a restart.
import crypto from 'node:crypto';
import pg from 'pg';
import { DEFAULT_SCRYPT_N, hashPassword } from './tokens.mjs';
import { retryAfterSec } from './login-limiter.mjs';
import { SEED_USERS } from './db.mjs';

export const DEFAULT_REVOCATION_CACHE_MS = 250;
const CONNECT_TIMEOUT_MS = 3000;
const QUERY_TIMEOUT_MS = 5000;
// Bounds on the in-memory revocation answers (oldest dropped first).
const REVOKED_CACHE_MAX = 100_000;
const LIVE_CACHE_MAX = 100_000;
// The advisory lock that serialises schema creation by instances starting at once.
const SCHEMA_LOCK = 0x636c6e73; // "clns"

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id            SERIAL PRIMARY KEY,
  email         TEXT NOT NULL,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email));
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id          BIGSERIAL PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  TEXT NOT NULL UNIQUE,
  family_id   TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  revoked_at  BIGINT,
  replaced_by BIGINT REFERENCES refresh_tokens(id)
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
CREATE TABLE IF NOT EXISTS notes (
  id         SERIAL PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  text       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_user ON notes (user_id);
CREATE TABLE IF NOT EXISTS revoked_families (
  family_id  TEXT PRIMARY KEY,
  revoked_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS csrf_bindings (
  token_hash TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS csrf_bindings_expiry ON csrf_bindings (expires_at);
-- Login attempts inside the rate-limit window, per account and per address.
CREATE TABLE IF NOT EXISTS login_attempts (
  id   BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  key  TEXT NOT NULL,
  at   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_key ON login_attempts (kind, key, at);
`;

/** The database could not be reached (or went away): the server answers 503. */
export class StorageUnavailableError extends Error {
  constructor(message, cause) {
    super(message, cause ? { cause } : undefined);
    this.name = 'StorageUnavailableError';
    this.code = 'storage_unavailable';
  }
}

/**
 * The database a URL names, for messages: scheme, user, host, port and
 * database, never the password or the query.
 */
export function describeDatabaseUrl(databaseUrl) {
  let url;
  try {
    url = new URL(databaseUrl);
  } catch {
    return 'DATABASE_URL (not a valid URL)';
  }
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

// BIGINT columns hold millisecond timestamps and ids, all well inside 2^53.
const types = {
  getTypeParser(oid, format) {
    return oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format);
  },
};

// Errors that mean "the database is not there right now" rather than a bug.
function isConnectionError(err) {
  if (!err) return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ENOENT (socket), ETIMEDOUT…
  if (/^(08|53|57|58)/.test(code) || code === '40P01' || code === '40001') return true;
  return code === '' && /Connection terminated|timeout|connection error|not queryable|Client was closed/i.test(String(err.message));
}

// A signed 64-bit advisory-lock key for a text key.
function lockKey(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest().readBigInt64BE(0).toString();
}

function capSet(set, max, value) {
  set.add(value);
  if (set.size > max) set.delete(set.values().next().value);
}

/**
 * Connects to databaseUrl (bounded by connectTimeoutMs), creates the schema
 * and the seed users when missing, and returns the store. Rejects with a
 * StorageUnavailableError whose one-line message names the database (without
 * its password) when it cannot be reached.
 */
export async function openPgStore(databaseUrl, {
  scryptN = DEFAULT_SCRYPT_N,
  revocationCacheMs = DEFAULT_REVOCATION_CACHE_MS,
  connectTimeoutMs = CONNECT_TIMEOUT_MS,
  queryTimeoutMs = QUERY_TIMEOUT_MS,
  poolSize = 10,
  onPoolError = () => {},
} = {}) {
  const where = describeDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    idleTimeoutMillis: 10_000,
    types,
  });
  // An idle client whose connection dies (a database restart) emits 'error'
  // on the pool; unhandled, that would end the process. The pool has already
  // dropped the client, so the next request connects afresh.
  pool.on('error', (err) => onPoolError(err));
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      try {
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      }
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    const reason = String(err && err.message ? err.message : err).split('\n')[0];
    throw new StorageUnavailableError(`cannot use PostgreSQL database ${where}: ${reason}`, err);
  }
  const store = createPgStore(pool, where, { revocationCacheMs });
  try {
    for (const u of SEED_USERS) {
      if (!(await store.findUserByEmail(u.email))) {
        await store.insertUser(u.email, u.name, await hashPassword(u.password, { N: scryptN }));
      }
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function createPgStore(pool, where, { revocationCacheMs }) {
  let open = true;
  const revoked = new Set(); // families seen revoked: that never changes
  const live = new Map(); // family -> when it was last seen not revoked

  const unavailable = (err) => (isConnectionError(err)
    ? new StorageUnavailableError(`PostgreSQL database ${where} unavailable: ${String(err.message).split('\n')[0]}`, err)
    : err);

  async function query(text, params) {
    try {
      return await pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  // Runs fn(client) inside BEGIN … COMMIT on one pooled client; rolls back on
  // error. A client whose connection failed is destroyed, not reused.
  // durable: the COMMIT waits for the WAL flush even where the server's
  // synchronous_commit is off (sent with BEGIN: no extra round trip).
  async function transaction(fn, { durable = false } = {}) {
    let client;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    let broken = null;
    try {
      await client.query(durable ? 'BEGIN; SET LOCAL synchronous_commit = on' : 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = err;
      await client.query('ROLLBACK').catch(() => {});
      throw unavailable(err);
    } finally {
      client.release(broken && isConnectionError(broken) ? broken : undefined);
    }
  }

  const lockFamily = (client, familyId) => client.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`family:${familyId}`)]);

  async function revokeFamilyIn(client, familyId, now) {
    await client.query('UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL', [now, familyId]);
    await client.query('INSERT INTO revoked_families (family_id, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [familyId, now]);
  }

  function markRevoked(familyId) {
    live.delete(familyId);
    capSet(revoked, REVOKED_CACHE_MAX, familyId);
  }

  const familyOf = async (client, tokenHash) =>
    (await client.query('SELECT family_id FROM refresh_tokens WHERE token_hash = $1', [tokenHash])).rows[0]?.family_id;

  return {
    kind: 'postgres',
    description: where,
    // Signing keys never lived in a PostgreSQL database.
    async legacySecrets() {
      return null;
    },
    async deleteLegacySecrets() {},

    findUserByEmail: async (email) =>
      (await query('SELECT id, email, name, password_hash FROM users WHERE lower(email) = lower($1)', [email])).rows[0],
    findUserById: async (id) => (await query('SELECT id, email, name FROM users WHERE id = $1', [id])).rows[0],
    async insertUser(email, name, passwordHash) {
      await query(`INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT ((lower(email))) DO NOTHING`, [email, name, passwordHash, Date.now()]);
    },

    async insertRefreshToken(userId, tokenHash, familyId, expiresAt) {
      await query(`INSERT INTO refresh_tokens (user_id, token_hash, family_id, created_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5)`, [userId, tokenHash, familyId, Date.now(), expiresAt]);
    },

    async revokeFamilyOf(tokenHash) {
      const familyId = await transaction(async (client) => {
        const family = await familyOf(client, tokenHash);
        if (family === undefined) return null;
        await lockFamily(client, family);
        await revokeFamilyIn(client, family, Date.now());
        return family;
      }, { durable: true });
      if (familyId === null) return false;
      markRevoked(familyId);
      return true;
    },

    async consumeRefreshToken(oldHash, newHash, expiresAt, now = Date.now()) {
      const result = await transaction(async (client) => {
        const family = await familyOf(client, oldHash);
        if (family === undefined) return { outcome: 'unknown' };
        // Every change to a family holds its lock, so a logout that commits
        // while this runs cannot miss the token this refresh inserts.
        await lockFamily(client, family);
        const row = (await client.query(
          'SELECT id, user_id, family_id, expires_at, revoked_at, replaced_by FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
          [oldHash])).rows[0];
        if (row.replaced_by !== null) {
          await revokeFamilyIn(client, row.family_id, now);
          return { outcome: 'reused', familyId: row.family_id };
        }
        if (row.revoked_at !== null) return { outcome: 'revoked' };
        if (row.expires_at <= now) return { outcome: 'expired' };
        const user = (await client.query('SELECT id, email, name FROM users WHERE id = $1', [row.user_id])).rows[0];
        if (!user) return { outcome: 'unknown' };
        const inserted = await client.query(`INSERT INTO refresh_tokens (user_id, token_hash, family_id, created_at, expires_at)
                                             VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [row.user_id, newHash, row.family_id, now, expiresAt]);
        await client.query('UPDATE refresh_tokens SET revoked_at = $1, replaced_by = $2 WHERE id = $3',
          [now, inserted.rows[0].id, row.id]);
        return { outcome: 'rotated', user, familyId: row.family_id };
      }, { durable: true });
      if (result.outcome === 'reused') markRevoked(result.familyId);
      return result;
    },

    async isFamilyRevoked(familyId) {
      if (revoked.has(familyId)) return true;
      const seen = live.get(familyId);
      if (seen !== undefined && Date.now() - seen < revocationCacheMs) return false;
      const asked = Date.now();
      const found = (await query('SELECT 1 FROM revoked_families WHERE family_id = $1', [familyId])).rowCount > 0;
      if (found) {
        markRevoked(familyId);
      } else if (revocationCacheMs > 0) {
        live.delete(familyId);
        live.set(familyId, asked);
        if (live.size > LIVE_CACHE_MAX) live.delete(live.keys().next().value);
      }
      return found;
    },

    csrfBindingOf: async (tokenHash) =>
      (await query('SELECT family_id FROM csrf_bindings WHERE token_hash = $1', [tokenHash])).rows[0]?.family_id,
    async bindCsrfToken(tokenHash, familyId, expiresAt) {
      // ON CONFLICT … DO UPDATE that changes nothing returns the row either way,
      // so the answer is the binding that won, in one statement.
      const { rows } = await query(`INSERT INTO csrf_bindings (token_hash, family_id, expires_at) VALUES ($1, $2, $3)
                                    ON CONFLICT (token_hash) DO UPDATE SET token_hash = EXCLUDED.token_hash
                                    RETURNING family_id`, [tokenHash, familyId, expiresAt]);
      return rows[0].family_id;
    },
    purgeCsrfBindings: async (now) => (await query('DELETE FROM csrf_bindings WHERE expires_at <= $1', [now])).rowCount,

    // Login rate limits shared by every instance: the attempts of an account
    // and of an address are counted under transaction-scoped advisory locks
    // (taken in one order), so concurrent attempts on several instances
    // cannot overrun the limit.
    loginLimiter({ perAccount, perAddress, windowMs }) {
      const limits = {
        account: Number.isFinite(perAccount) && perAccount > 0 ? perAccount : Infinity,
        address: Number.isFinite(perAddress) && perAddress > 0 ? perAddress : Infinity,
      };
      return {
        async begin(account, address, now) {
          const keys = [['account', account], ['address', address]].filter(([kind]) => limits[kind] !== Infinity);
          if (!keys.length) return 0;
          return transaction(async (client) => {
            const locks = keys.map(([kind, key]) => lockKey(`login:${kind}:${key}`)).sort();
            for (const k of locks) await client.query('SELECT pg_advisory_xact_lock($1)', [k]);
            let wait = 0;
            for (const [kind, key] of keys) {
              const { rows } = await client.query(
                'SELECT at FROM login_attempts WHERE kind = $1 AND key = $2 AND at > $3 ORDER BY at',
                [kind, key, now - windowMs]);
              wait = Math.max(wait, retryAfterSec(rows.map((r) => r.at), limits[kind], windowMs, now));
            }
            if (wait > 0) return wait;
            for (const [kind, key] of keys) {
              await client.query('INSERT INTO login_attempts (kind, key, at) VALUES ($1, $2, $3)', [kind, key, now]);
            }
            return 0;
          });
        },
        async succeeded(account, address, at) {
          await query(`DELETE FROM login_attempts WHERE (kind = 'account' AND key = $1)
                       OR id = (SELECT id FROM login_attempts WHERE kind = 'address' AND key = $2 AND at = $3 LIMIT 1)`,
          [account, address, at]);
        },
        async sweep(now) {
          await query('DELETE FROM login_attempts WHERE at <= $1', [now - windowMs]);
        },
      };
    },

    async insertNote(userId, text) {
      const { rows } = await query('INSERT INTO notes (user_id, text, created_at) VALUES ($1, $2, $3) RETURNING id',
        [userId, text, Date.now()]);
      return rows[0].id;
    },
    listNotes: async (userId) =>
      (await query('SELECT id, text, user_id, created_at FROM notes WHERE user_id = $1 ORDER BY id', [userId])).rows,

    async close() {
      if (!open) return;
      open = false;
      await pool.end();
    },
    get open() {
      return open;
    },
  };
}

/**
 * One statement on a short-lived connection, for tools (test set-up, the
 * benchmark's audit), never for the server's own requests. `?` placeholders
 * are accepted as well as `$1…`, so the same SQL can run on SQLite.
 */
export async function queryOnce(databaseUrl, text, params = []) {
  let n = 0;
  const sql = text.includes('?') ? text.replace(/\?/g, () => `$${++n}`) : text;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS * 5, types });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

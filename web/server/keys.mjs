// The signing keys of the reference backend (JWT and CSRF HMAC keys), kept in
// a key file of their own, never in the database: a copy of the database (a
// backup, a world-readable file) must not be enough to forge a token. The file
// is JSON, {"version":1,"jwt_secret":"…","csrf_secret":"…"}, each key 32 random
// bytes in base64url, owner-only (0600). By default it sits beside the
// database as `<database>.keys`; an in-memory database gets keys that live as
// long as the process.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export const KEY_NAMES = ['jwt_secret', 'csrf_secret'];
// At least 32 bytes of key material in base64url (43 characters).
const KEY_PATTERN = /^[A-Za-z0-9_-]{43,}$/;

export class KeyFileError extends Error {
  constructor(message) {
    super(message);
    this.name = 'KeyFileError';
    this.code = 'CLEANSLATE_KEY_FILE';
  }
}

export const newKey = () => crypto.randomBytes(32).toString('base64url');

// `<database>.keys`, or null for an in-memory database (nothing persists).
export function defaultKeyFile(dbPath) {
  return dbPath === ':memory:' ? null : `${path.resolve(dbPath)}.keys`;
}

// Reads and checks the key file; null when it does not exist. Opened once and
// checked through the descriptor, so the mode checked is that of the bytes read.
function readKeyFile(keyFile) {
  let fd;
  try {
    fd = fs.openSync(keyFile, 'r');
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw new KeyFileError(`cannot open key file ${keyFile}: ${err.message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError(`key file ${keyFile} is not a regular file`);
    // POSIX modes only: Windows reports 0o666 for every writable file.
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new KeyFileError(`key file ${keyFile} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}); ` +
        `run "chmod 600 ${keyFile}" or remove it to have new keys made`);
    }
    let keys;
    try {
      keys = JSON.parse(fs.readFileSync(fd, 'utf8'));
    } catch {
      throw new KeyFileError(`key file ${keyFile} is not valid JSON`);
    }
    const bad = !keys || typeof keys !== 'object' ? KEY_NAMES
      : KEY_NAMES.filter((name) => typeof keys[name] !== 'string' || !KEY_PATTERN.test(keys[name]));
    if (bad.length) {
      throw new KeyFileError(`key file ${keyFile} is malformed: ${bad.join(', ')} must be base64url strings of at least 32 bytes`);
    }
    return Object.fromEntries(KEY_NAMES.map((name) => [name, keys[name]]));
  } finally {
    fs.closeSync(fd);
  }
}

// Writes keyFile in one step: the bytes go to a temporary file created 0600
// (O_EXCL, so it is never wider even for a moment), then take the final name.
// With replace=false the final name is taken by link(), which fails when the
// file already exists: two servers starting at once cannot overwrite each
// other's keys. Returns false when it existed.
function writeKeyFile(keyFile, keys, { replace }) {
  const text = `${JSON.stringify({ version: 1, ...keys }, null, 2)}\n`;
  const tmp = `${keyFile}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (replace) {
      fs.renameSync(tmp, keyFile);
    } else {
      try {
        fs.linkSync(tmp, keyFile);
      } catch (err) {
        if (err.code === 'EEXIST') return false;
        throw err;
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return true;
}

/**
 * The keys of keyFile, creating the file when it is missing: with the keys of
 * `legacy()` (those an older server kept in the database) when it has them,
 * else new random ones. keyFile null: keys in memory only.
 * Throws KeyFileError for a file that is group/world-accessible or malformed.
 */
export function loadOrCreateKeys(keyFile, legacy = () => null) {
  if (keyFile === null) return Object.fromEntries(KEY_NAMES.map((name) => [name, newKey()]));
  const existing = readKeyFile(keyFile);
  if (existing) return existing;
  const old = legacy();
  const keys = Object.fromEntries(KEY_NAMES.map((name) => [name, KEY_PATTERN.test(old?.[name] ?? '') ? old[name] : newKey()]));
  if (writeKeyFile(keyFile, keys, { replace: false })) return keys;
  return readKeyFile(keyFile); // another server made it first
}

/** Replaces the key file's content (a key rotation); no-op for keyFile null. */
export function saveKeys(keyFile, keys) {
  if (keyFile !== null) writeKeyFile(keyFile, keys, { replace: true });
}

// Credential primitives of the reference backend: HS256 access tokens (JWT),
// stateless signed CSRF tokens, scrypt password hashes and opaque refresh
// tokens (only their SHA-256 hash is ever stored).
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(crypto.scrypt);

// scrypt cost: N=2^14, r=8, p=1 uses 16 MiB and ~50 ms per hash, well inside
// node's default maxmem (32 MiB). N is the only cost a server may change
// (startServer's `scryptN` option, for tests and benchmarks only); every hash
// records its own N, r and p, so hashes of any cost keep verifying.
export const DEFAULT_SCRYPT_N = 16384;
const MIN_SCRYPT_N = 2;
const MAX_SCRYPT_N = 32768; // 128 * N * r = 32 MiB, node's default maxmem
const SCRYPT = { r: 8, p: 1, keyLen: 32 };

// Throws a TypeError unless n is a power of two in [MIN_SCRYPT_N, MAX_SCRYPT_N].
export function checkScryptN(n, name = 'scryptN') {
  if (!Number.isInteger(n) || n < MIN_SCRYPT_N || n > MAX_SCRYPT_N || (n & (n - 1)) !== 0) {
    throw new TypeError(`${name} must be a power of two from ${MIN_SCRYPT_N} to ${MAX_SCRYPT_N}, got ${n}`);
  }
  return n;
}

export function base64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

export function randomToken(bytes = 32) {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function sha256Hex(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(secret, data) {
  return crypto.createHmac('sha256', secret).update(data, 'utf8').digest();
}

// Constant-time comparison that also tolerates inputs of different length.
export function safeEqual(a, b) {
  const x = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
  const y = Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'utf8');
  if (x.length !== y.length) {
    // Still spend a comparison so the length mismatch is not a fast path.
    crypto.timingSafeEqual(x, x);
    return false;
  }
  return crypto.timingSafeEqual(x, y);
}

// ---- passwords -----------------------------------------------------------

// "scrypt$N$r$p$salt$key": the parameters travel with the hash.
export async function hashPassword(password, { N = DEFAULT_SCRYPT_N } = {}) {
  checkScryptN(N, 'hashPassword: N');
  const salt = crypto.randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keyLen, { N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', N, SCRYPT.r, SCRYPT.p, base64url(salt), base64url(key)].join('$');
}

// Verifies with the N, r and p stored in the hash, whatever cost the server
// now uses for new hashes.
export async function verifyPassword(password, stored) {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, keyText] = parts;
  const expected = Buffer.from(keyText, 'base64url');
  if (expected.length < 16) return false;
  try {
    const key = await scryptAsync(password, Buffer.from(saltText, 'base64url'), expected.length, {
      N: Number(n), r: Number(r), p: Number(p),
    });
    return crypto.timingSafeEqual(key, expected);
  } catch {
    return false; // unusable stored parameters
  }
}

// ---- access tokens (HS256 JWT) -------------------------------------------

const JWT_HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signJwt(payload, secret) {
  const body = base64url(JSON.stringify(payload));
  const signingInput = `${JWT_HEADER}.${body}`;
  return `${signingInput}.${base64url(hmac(secret, signingInput))}`;
}

function parseSegment(text) {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

// Returns { ok: true, payload } or { ok: false, reason: 'invalid'|'expired' }.
export function verifyJwt(token, secret, nowSec = Math.floor(Date.now() / 1000)) {
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'invalid' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    return { ok: false, reason: 'invalid' };
  }
  const header = parseSegment(parts[0]);
  // Only HS256 is accepted: an 'alg: none' or asymmetric header is refused outright.
  if (!header || header.alg !== 'HS256') return { ok: false, reason: 'invalid' };
  const expected = hmac(secret, `${parts[0]}.${parts[1]}`);
  if (!safeEqual(Buffer.from(parts[2], 'base64url'), expected)) return { ok: false, reason: 'invalid' };
  const payload = parseSegment(parts[1]);
  if (!payload || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
    return { ok: false, reason: 'invalid' };
  }
  if (payload.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}

// ---- CSRF tokens ---------------------------------------------------------
// Stateless: "<nonce>.<expirySec>.<hmac(nonce.expiry)>". Changing the secret
// invalidates every token issued before.

export function issueCsrfToken(secret, ttlSec, nowSec = Math.floor(Date.now() / 1000)) {
  const nonce = randomToken(18);
  const exp = nowSec + ttlSec;
  return `${nonce}.${exp}.${base64url(hmac(secret, `${nonce}.${exp}`))}`;
}

export function verifyCsrfToken(token, secret, nowSec = Math.floor(Date.now() / 1000)) {
  if (typeof token !== 'string' || token.length > 512) return false;
  const parts = token.split('.');
  if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[1])) return false;
  const [nonce, expText, sig] = parts;
  const ok = safeEqual(Buffer.from(sig, 'base64url'), hmac(secret, `${nonce}.${expText}`));
  return ok && Number(expText) > nowSec;
}

// The expiry (seconds since the epoch) written in a token that verifyCsrfToken accepted.
export function csrfTokenExpirySec(token) {
  return Number(token.split('.')[1]);
}

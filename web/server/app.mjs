// The reference backend: HTTP server for the /api/v1 contract (CSRF tokens
// bound to the token family they are first used with, login, refresh rotation
// with reuse detection, logout, profile, a few sample routes and file routes
// that take and give raw bytes; access tokens of a revoked family are
// refused), the demo controls (off unless asked for;
// same-origin JSON with CSRF when on), static files, CORS, login rate limiting
// and the test hooks (an opt-in request log that keeps no credentials,
// counters, injected faults, promises on requests, a clock tests can move).
// Storage is an embedded SQLite file (db.mjs) or, with databaseUrl, a
// PostgreSQL database shared by any number of instances (pg-store.mjs); both
// give the same promise-returning interface. A database that cannot be
// reached makes a request fail with 503, never hang.
import http from 'node:http';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from './db.mjs';
import { openPgStore, DEFAULT_REVOCATION_CACHE_MS } from './pg-store.mjs';
import {
  hashPassword, verifyPassword, signJwt, verifyJwt, issueCsrfToken, verifyCsrfToken,
  csrfTokenExpirySec, randomToken, sha256Hex, checkScryptN, DEFAULT_SCRYPT_N,
} from './tokens.mjs';
import { serveStatic, staticMounts } from './static.mjs';
import { defaultKeyFile, loadOrCreateKeys, newKey, saveKeys } from './keys.mjs';

const API_PREFIX = '/api/v1';
const BODY_LIMIT = 64 * 1024;
// A body past its limit by more than this is not drained any further: the socket is destroyed.
const DRAIN_LIMIT = 1024 * 1024;
// The file routes (/files) take bodies of any type up to this size, as raw
// bytes; every other route takes JSON up to BODY_LIMIT.
const FILE_BODY_LIMIT = 8 * 1024 * 1024;
const RAW_BODY_ROUTES = new Set(['/files']);
const CSRF_TTL_SEC = 2 * 60 * 60;
const REQUEST_LOG_CAP = 5000;
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FAULT_MODES = new Set(['hang', 'drop', 'delay', 'status', 'hold', 'flood']);
const FLOOD_CHUNK = Buffer.alloc(64 * 1024, 0x20);
const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-CSRF-Token, Cache-Control, Pragma, Expires';
const DEFAULT_RATE_LIMIT = { perAccount: 10, perAddress: 50, windowSec: 300 };
const DEFAULT_STATIC_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOGOUT_ROUTE = 'POST /auth/logout';
// Request headers whose values the request log never keeps (only whether they were sent).
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-csrf-token']);

class HttpError extends Error {
  constructor(status, body, headers = {}) {
    super(body.detail);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const json = (status, body, headers = {}) => ({ status, body, headers });
// A non-JSON answer: `bytes` (a Buffer) as they are.
const binary = (status, bytes, headers = {}) => ({ status, bytes, headers });

function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': payload.length,
    ...headers,
  });
  res.end(payload);
}

function sendBytes(res, status, bytes, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': bytes.length,
    ...headers,
  });
  res.end(bytes);
}

// Reads the whole body, up to `limit` bytes; { bytes, tooLarge } or null
// when the client went away.
function readBody(req, limit) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        if (size > limit + DRAIN_LIMIT) req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), tooLarge }));
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null)); // no-op when 'end' already resolved
  });
}

// The request target's path without query; null when it is not a usable path.
function requestPath(rawUrl) {
  const raw = rawUrl || '/';
  if (raw.startsWith('/')) return raw.split(/[?#]/, 1)[0];
  try {
    return new URL(raw).pathname; // absolute-form request target
  } catch {
    return null;
  }
}

// The parts of a multipart/form-data body (RFC 7578) as { name, filename,
// contentType, bytes }, or null when the body is not one with `boundary`.
// Part headers are read as UTF-8, as browsers send them; the preamble and
// epilogue are ignored.
function parseMultipart(buffer, boundary) {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const parts = [];
  let pos = buffer.indexOf(delimiter);
  if (pos < 0) return null;
  for (;;) {
    pos += delimiter.length;
    if (buffer[pos] === 0x2d && buffer[pos + 1] === 0x2d) return parts; // "--": the close delimiter
    while (buffer[pos] === 0x20 || buffer[pos] === 0x09) pos++; // transport padding
    if (buffer[pos] !== 0x0d || buffer[pos + 1] !== 0x0a) return null;
    // From the CRLF that ends the delimiter line, so a part without headers
    // (CRLF CRLF right away) is found too.
    const headerEnd = buffer.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) return null;
    const part = { name: null, filename: null, contentType: null, bytes: null };
    for (const line of buffer.subarray(pos + 2, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-type') part.contentType = value;
      if (name !== 'content-disposition') continue;
      part.name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? null;
      part.filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? null;
    }
    const end = buffer.indexOf(nextDelimiter, headerEnd + 4);
    if (end < 0) return null;
    part.bytes = buffer.subarray(headerEnd + 4, end);
    parts.push(part);
    pos = end + 2;
  }
}

// Bytes 0..n-1 of the sample file: every byte value in each run of 256 (so
// NULs and sequences that are not UTF-8), the order shifting from one run
// to the next so that a lost, doubled or moved byte shows.
function sampleBytes(n) {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i + (i >>> 8)) & 0xff;
  return bytes;
}

function bearerToken(req) {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(req.headers.authorization || '');
  return m ? m[1] : null;
}

// A request body as a JSON object: { value } or { error } (an empty body is {}).
function parseJsonObject(text) {
  if (text.trim() === '') return { value: {} };
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'Malformed JSON body' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'JSON body must be an object' };
  return { value };
}

function normaliseFault(spec) {
  if (!spec || !FAULT_MODES.has(spec.mode)) {
    throw new TypeError(`fault: mode must be one of ${[...FAULT_MODES].join(', ')}`);
  }
  const times = spec.times === undefined ? Infinity : Number(spec.times);
  return {
    mode: spec.mode,
    delayMs: Math.max(0, Number(spec.delayMs) || 0),
    status: Number.isInteger(spec.status) ? spec.status : 500,
    body: spec.body === undefined ? { detail: 'Injected fault' } : spec.body,
    headers: spec.headers || {},
    times: Number.isNaN(times) ? Infinity : times,
    // flood: a 200 JSON answer of `bytes` bytes (spaces after a `{`), with or without Content-Length.
    bytes: Math.max(0, Number(spec.bytes) || 0),
    contentLength: spec.contentLength !== false,
  };
}

function parseRouteKey(routeKey) {
  const m = /^([A-Za-z]+)\s+(\/\S*)$/.exec(String(routeKey).trim());
  if (!m) throw new TypeError(`fault: route key must look like 'POST /auth/logout', got ${routeKey}`);
  return `${m[1].toUpperCase()} ${m[2]}`;
}

// Starts the server on 127.0.0.1 and resolves to its handle once it listens.
// scryptN is the scrypt cost (N, a power of two up to 32768) of the password
// hashes this server creates: the seed users of a new database and the dummy
// hash compared against for unknown e-mails. It defaults to 16384 (2^14,
// ~50 ms per hash). Lower it only in tests and benchmarks, never for a real
// deployment: main.mjs does not expose it. Stored hashes carry their own N,
// so a database seeded at one cost keeps working under any other.
// staticDirs ({ '/': dir } or { '/app': dir }) serves more directories beside
// the demo and web/dist, on the API's origin; the longest matching prefix wins
// and a '/' mount takes every path outside /api/v1.
// clockOffsetMs (and advanceClock(ms) on the handle) moves the clock the
// token checks read: access/refresh/CSRF token issue and expiry. Tests use it
// to let tokens expire without waiting in real time; main.mjs does not expose it.
// keyFile is where the signing keys live (keys.mjs): default `<dbPath>.keys`,
// created 0600 when missing; a group/world-accessible or malformed one makes
// startServer reject. jwtSecret, for tests, replaces the file's JWT key.
// controls mounts the demo's fault controls under /api/v1/__demo/ (off by
// default: main.mjs turns them on only when asked).
// recordRequests keeps the last 5,000 API requests in `requests` for tests:
// method, path, url, status, time and headers, but never a body or a
// credential (see logEntry). Off by default, and then `requests` is null.
// databaseUrl (postgres://…) puts the data in PostgreSQL instead of the
// SQLite file at dbPath; keyFile is then required, since instances of one
// database must sign with the same keys. revocationCacheMs bounds how long a
// PostgreSQL-backed instance reuses a "family not revoked" answer (default
// 250 ms); the SQLite store is exact.
export async function startServer({
  port = 0,
  dbPath,
  databaseUrl,
  revocationCacheMs = DEFAULT_REVOCATION_CACHE_MS,
  keyFile,
  accessTtlSec = 900,
  refreshTtlSec = 604800,
  jwtSecret,
  controls = false,
  recordRequests = false,
  staticRoot = DEFAULT_STATIC_ROOT,
  staticDirs = {},
  corsOrigins = [],
  loginRateLimit = DEFAULT_RATE_LIMIT,
  log = false,
  scryptN = DEFAULT_SCRYPT_N,
  clockOffsetMs = 0,
} = {}) {
  if (databaseUrl !== undefined) {
    if (typeof databaseUrl !== 'string' || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new TypeError('startServer: databaseUrl must be a postgres:// or postgresql:// URL');
    }
    if (typeof keyFile !== 'string' || keyFile === '') {
      throw new TypeError('startServer: keyFile is required with databaseUrl (every instance must sign with the same keys)');
    }
  } else if (typeof dbPath !== 'string' || dbPath === '') {
    throw new TypeError('startServer: dbPath is required');
  }
  checkScryptN(scryptN, 'startServer: scryptN');
  const mounts = staticMounts(staticDirs);
  const rateLimit = { ...DEFAULT_RATE_LIMIT, ...(loginRateLimit || {}) };
  const windowMs = Math.max(1, Number(rateLimit.windowSec) || DEFAULT_RATE_LIMIT.windowSec) * 1000;
  const allowedOrigins = new Set(corsOrigins);

  const store = databaseUrl !== undefined
    ? await openPgStore(databaseUrl, {
      scryptN,
      revocationCacheMs,
      onPoolError: (err) => {
        if (log) process.stderr.write(`cleanslate: database connection lost (${String(err.message).split('\n')[0]}); reconnecting on demand\n`);
      },
    })
    : await openSqliteStore(dbPath, { scryptN });
  const loginLimiter = store.loginLimiter({ perAccount: rateLimit.perAccount, perAddress: rateLimit.perAddress, windowMs });
  const keyPath = keyFile ?? defaultKeyFile(dbPath);
  let keys;
  try {
    // Keys an older server kept in the database move to the key file, then leave the database.
    const legacy = await store.legacySecrets();
    keys = loadOrCreateKeys(keyPath, () => legacy);
    await store.deleteLegacySecrets();
  } catch (err) {
    await store.close();
    throw err;
  }
  const jwtKey = jwtSecret ?? keys.jwt_secret;
  let csrfKey = keys.csrf_secret;
  // Compared against when the e-mail is unknown, so both cases cost one scrypt.
  const dummyPasswordHash = await hashPassword(randomToken(16), { N: scryptN });

  const stats = { login: 0, loginFailed: 0, refresh: 0, refreshFailed: 0, logout: 0, csrf: 0, profile: 0 };
  const requests = recordRequests ? [] : null;
  const faults = new Map();
  const sockets = new Set();
  // Test hooks: 'hang-open' when the 'hang' fault holds a request and
  // 'hang-closed' when the client closes it; 'flood-end' ({ sent, bytes }) when a 'flood' answer stops.
  const events = new EventEmitter();
  const timers = new Set();
  // Test hooks: requests held by a 'hold' fault until release(), and tests
  // waiting for a request to arrive or to be answered.
  const held = [];
  const watchers = new Set();
  let closed = false;
  let closing = null;
  let ownOrigins = new Set(); // set once the server listens
  // The time every token, CSRF and refresh-expiry decision reads (rate limits
  // and logs keep the real clock). Tests move it forward (clockOffsetMs,
  // advanceClock) to expire tokens instead of waiting for them.
  let clockOffset = Number(clockOffsetMs) || 0;
  const nowMs = () => Date.now() + clockOffset;
  const nowSec = () => Math.floor(nowMs() / 1000);

  // Test hook: 'sweep' ({ csrfBindingsPurged }) after each sweep.
  // A sweep that cannot reach the database is skipped; the next one catches up.
  let sweeping = false;
  const sweepTimer = setInterval(async () => {
    if (sweeping || closed) return;
    sweeping = true;
    try {
      await loginLimiter.sweep(Date.now());
      // CSRF expiry is read on the token clock, so its bindings go by it too.
      const csrfBindingsPurged = await store.purgeCsrfBindings(nowMs());
      if (!closed) events.emit('sweep', { csrfBindingsPurged });
    } catch (err) {
      if (log) process.stderr.write(`cleanslate: sweep skipped: ${err && err.message ? err.message : err}\n`);
    } finally {
      sweeping = false;
    }
  }, Math.min(windowMs, 60_000));
  sweepTimer.unref();

  function sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  // ---- auth helpers ------------------------------------------------------

  // `fid` is the refresh-token family: revoking the family (logout, reuse
  // detection) revokes its access tokens too.
  function issueAccessToken(user, familyId) {
    const now = nowSec();
    return signJwt({
      sub: String(user.id), email: user.email, fid: familyId, iat: now, exp: now + accessTtlSec, jti: randomToken(16),
    }, jwtKey);
  }

  function newRefreshToken() {
    const token = randomToken(32);
    return { token, hash: sha256Hex(token), expiresAt: nowMs() + refreshTtlSec * 1000 };
  }

  async function requireUser(req) {
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    const token = bearerToken(req);
    if (!token) {
      throw new HttpError(401, { detail: 'Not authenticated', code: 'not_authenticated' }, challenge);
    }
    const result = verifyJwt(token, jwtKey, nowSec());
    if (!result.ok) {
      const body = result.reason === 'expired'
        ? { detail: 'Token expired', code: 'token_expired' }
        : { detail: 'Invalid token', code: 'token_invalid' };
      throw new HttpError(401, body, challenge);
    }
    const { fid } = result.payload;
    // A token without a family (issued before families were checked) cannot be revoked: refused.
    if (typeof fid !== 'string' || fid === '') {
      throw new HttpError(401, { detail: 'Invalid token', code: 'token_invalid' }, challenge);
    }
    if (await store.isFamilyRevoked(fid)) {
      throw new HttpError(401, { detail: 'Token revoked', code: 'token_revoked' }, challenge);
    }
    const user = /^\d+$/.test(result.payload.sub) ? await store.findUserById(Number(result.payload.sub)) : null;
    if (!user) throw new HttpError(401, { detail: 'Invalid token', code: 'token_invalid' }, challenge);
    return user;
  }

  // The family of the request's bearer token when that token is valid, else null.
  function bearerFamily(req) {
    const token = bearerToken(req);
    if (!token) return null;
    const result = verifyJwt(token, jwtKey, nowSec());
    return result.ok && typeof result.payload.fid === 'string' && result.payload.fid !== '' ? result.payload.fid : null;
  }

  // Whether an unsafe request's CSRF token is good. A token is bound, by its
  // hash, to the family of the first valid bearer token it comes with; from
  // then on it is good only for that family and only while the family is not
  // revoked. Before that (anonymous) it is good for any request: login, and
  // the logout notice the client sends with a fresh token and no bearer.
  async function csrfAccepted(req) {
    const token = req.headers['x-csrf-token'];
    if (!verifyCsrfToken(token, csrfKey, nowSec())) return false;
    const hash = sha256Hex(token);
    const family = bearerFamily(req);
    const bound = await store.csrfBindingOf(hash);
    if (bound !== undefined) return !(await store.isFamilyRevoked(bound)) && (family === null || family === bound);
    if (family === null || await store.isFamilyRevoked(family)) return true;
    return (await store.bindCsrfToken(hash, family, csrfTokenExpirySec(token) * 1000)) === family;
  }

  // ---- routes ------------------------------------------------------------
  // Each handler gets { req, body, raw, ip } (`body` the parsed JSON of an
  // unsafe request, `raw` its bytes) and returns json(status, body, headers)
  // or binary(status, bytes, headers).

  async function login({ body, ip }) {
    stats.login++;
    const { email, password } = body;
    if (typeof email !== 'string' || typeof password !== 'string' || !email.trim() || !password) {
      stats.loginFailed++;
      return json(400, { detail: 'email and password are required strings', code: 'bad_request' });
    }
    const account = email.trim().toLowerCase();
    const now = Date.now();
    // Counted (when allowed) before the slow hash so concurrent attempts cannot overrun the limit.
    const wait = await loginLimiter.begin(account, ip, now);
    if (wait > 0) {
      stats.loginFailed++;
      return json(429, {
        detail: 'Too many failed login attempts, try again later', code: 'rate_limited', retry_after: wait,
      }, { 'Retry-After': String(wait) });
    }
    const user = account.length <= 320 ? await store.findUserByEmail(email.trim()) : undefined;
    const ok = await verifyPassword(password, user ? user.password_hash : dummyPasswordHash);
    if (closed) return null;
    if (!user || !ok) {
      stats.loginFailed++;
      return json(401, { detail: 'Invalid credentials' });
    }
    await loginLimiter.succeeded(account, ip, now);
    const refresh = newRefreshToken();
    const familyId = crypto.randomUUID();
    await store.insertRefreshToken(user.id, refresh.hash, familyId, refresh.expiresAt);
    if (closed) return null;
    return json(200, {
      access_token: issueAccessToken(user, familyId),
      refresh_token: refresh.token,
      token_type: 'bearer',
      expires_in: accessTtlSec,
      user: { id: user.id, email: user.email, name: user.name },
    });
  }

  async function refreshRoute({ body }) {
    stats.refresh++;
    const presented = body.refresh_token;
    if (typeof presented !== 'string' || presented === '') {
      stats.refreshFailed++;
      return json(401, { detail: 'Refresh token missing', code: 'token_invalid' });
    }
    const next = newRefreshToken();
    const result = await store.consumeRefreshToken(sha256Hex(presented), next.hash, next.expiresAt, nowMs());
    if (result.outcome !== 'rotated') {
      stats.refreshFailed++;
      const failures = {
        unknown: { detail: 'Invalid refresh token', code: 'token_invalid' },
        revoked: { detail: 'Refresh token revoked', code: 'token_revoked' },
        expired: { detail: 'Refresh token expired', code: 'token_expired' },
        reused: { detail: 'Refresh token reuse detected; session revoked', code: 'token_reused' },
      };
      return json(401, failures[result.outcome]);
    }
    return json(200, {
      access_token: issueAccessToken(result.user, result.familyId),
      refresh_token: next.token,
      token_type: 'bearer',
      expires_in: accessTtlSec,
    });
  }

  async function logoutRoute({ body }) {
    stats.logout++;
    if (typeof body.refresh_token === 'string' && body.refresh_token !== '') {
      // Committed (SQLite synchronous=FULL, a PostgreSQL COMMIT) before the
      // answer is written; when the database is unreachable this throws and
      // the answer is 503, never a success.
      await store.revokeFamilyOf(sha256Hex(body.refresh_token));
    }
    return json(200, { message: 'Logout successful' });
  }

  // POST|PUT /files: { size, sha256, contentType } of the body as it
  // arrived and, for multipart/form-data, `parts` with each part's name,
  // filename, contentType, size and sha256.
  async function filesUpload({ req, raw }) {
    await requireUser(req);
    const contentType = req.headers['content-type'] ?? null;
    const answer = { size: raw.length, sha256: sha256Hex(raw), contentType };
    if (/^multipart\/form-data\s*;/i.test(contentType ?? '')) {
      const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
      const parts = boundary && parseMultipart(raw, boundary[1] ?? boundary[2]);
      if (!parts) return json(400, { detail: 'Malformed multipart/form-data body', code: 'bad_request' });
      answer.parts = parts.map(({ name, filename, contentType: type, bytes }) => ({
        name, filename, contentType: type, size: bytes.length, sha256: sha256Hex(bytes),
      }));
    }
    return json(200, answer);
  }

  const routes = new Map([
    ['/auth/csrf', {
      GET: () => {
        stats.csrf++;
        return json(200, { csrf_token: issueCsrfToken(csrfKey, CSRF_TTL_SEC, nowSec()) });
      },
    }],
    ['/auth/login', { POST: login }],
    ['/auth/refresh', { POST: refreshRoute }],
    ['/auth/logout', { POST: logoutRoute }],
    ['/user/profile', {
      GET: async ({ req }) => {
        stats.profile++;
        const user = await requireUser(req);
        return json(200, { id: user.id, email: user.email, name: user.name });
      },
    }],
    ['/user/items', {
      GET: async ({ req }) => {
        const user = await requireUser(req);
        const items = [1, 2, 3].map((n) => ({ id: n, owner: user.email, title: `${user.name} item ${n}` }));
        return json(200, { user_id: user.id, items });
      },
    }],
    ['/user/notes', {
      GET: async ({ req }) => {
        const user = await requireUser(req);
        return json(200, { user_id: user.id, notes: await store.listNotes(user.id) });
      },
      POST: async ({ req, body }) => {
        const user = await requireUser(req);
        if (typeof body.text !== 'string' || !body.text.trim() || body.text.length > 10_000) {
          return json(400, { detail: 'text must be a non-empty string of at most 10000 characters', code: 'bad_request' });
        }
        const id = await store.insertNote(user.id, body.text);
        return json(201, { id, text: body.text, user_id: user.id });
      },
    }],
    // Bytes in and out, for clients that send or fetch files: any content
    // type, up to FILE_BODY_LIMIT. The answer names what arrived.
    ['/files', { POST: filesUpload, PUT: filesUpload }],
    ['/files/sample', {
      GET: async ({ req }) => {
        await requireUser(req);
        const n = Number(new URL(req.url, 'http://x').searchParams.get('bytes') ?? 1024);
        if (!Number.isInteger(n) || n < 0 || n > FILE_BODY_LIMIT) {
          return json(400, { detail: `bytes must be an integer from 0 to ${FILE_BODY_LIMIT}`, code: 'bad_request' });
        }
        const bytes = sampleBytes(n);
        return binary(200, bytes, { 'Content-Type': 'application/octet-stream', 'X-Content-SHA256': sha256Hex(bytes) });
      },
    }],
    ['/public/ping', { GET: () => json(200, { ok: true, time: Date.now() }) }],
  ]);

  // Demo controls: only mounted when enabled, and then only for same-origin
  // JSON requests with a CSRF token (checked in handleApi).
  function describeLogoutFault() {
    const f = faults.get(LOGOUT_ROUTE);
    if (!f || f.times <= 0) return { mode: 'none' };
    const remaining = f.times === Infinity ? null : f.times;
    if (f.mode === 'delay') return { mode: 'slow', delayMs: f.delayMs, remaining };
    if (f.mode === 'status') return { mode: 'status', status: f.status, remaining };
    return { mode: f.mode, remaining };
  }

  const demoRoutes = new Map([
    ['/__demo/logout-fault', {
      POST: ({ body }) => {
        const { mode } = body;
        if (mode === 'none') faults.delete(LOGOUT_ROUTE);
        else if (mode === 'slow') {
          const d = Number(body.delayMs);
          const delayMs = Number.isFinite(d) && d >= 0 ? Math.min(d, 600_000) : 5000;
          faults.set(LOGOUT_ROUTE, normaliseFault({ mode: 'delay', delayMs, times: 1 }));
        } else if (mode === 'drop' || mode === 'hang') {
          faults.set(LOGOUT_ROUTE, normaliseFault({ mode, times: 1 }));
        } else {
          return json(400, { detail: "mode must be 'none', 'slow', 'drop' or 'hang'", code: 'bad_request' });
        }
        return json(200, { ok: true, logoutFault: describeLogoutFault() });
      },
    }],
    ['/__demo/state', {
      GET: () => json(200, { stats: { ...stats }, logoutFault: describeLogoutFault() }),
    }],
  ]);

  // ---- request pipeline --------------------------------------------------

  function applyCors(req, res) {
    const origin = req.headers.origin;
    if (allowedOrigins.size) res.setHeader('Vary', 'Origin');
    if (!origin || !(allowedOrigins.has(origin) || allowedOrigins.has('*'))) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Expose-Headers', 'Retry-After, WWW-Authenticate');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
  }

  function preflight(res) {
    res.writeHead(204, { 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
  }

  // Settles the waits of waitForRequest/waitForResponse that this request
  // matches; each wait is for one request, the first to match.
  function notifyWatchers(entry, res) {
    for (const w of watchers) {
      let match;
      try {
        match = w.predicate(entry);
      } catch (err) {
        watchers.delete(w);
        w.reject(err);
        continue;
      }
      if (!match) continue;
      watchers.delete(w);
      if (w.phase === 'received') {
        w.resolve(entry);
      } else {
        // 'close' follows 'finish', and also comes when the client or close() ends the connection.
        const answered = () => w.resolve({ ...entry, status: res.writableFinished ? res.statusCode : null });
        if (res.destroyed) answered();
        else res.once('close', answered);
      }
    }
  }

  function watch(phase, predicate) {
    if (typeof predicate !== 'function') throw new TypeError('predicate must be a function');
    if (closed) return Promise.reject(new Error('server closed'));
    return new Promise((resolve, reject) => watchers.add({ phase, predicate, resolve, reject }));
  }

  function releaseHeld(routeKey) {
    const key = routeKey === undefined ? undefined : parseRouteKey(routeKey);
    let released = 0;
    for (let i = held.length - 1; i >= 0; i--) {
      if (key !== undefined && held[i].key !== key) continue;
      held.splice(i, 1)[0].resolve();
      released++;
    }
    return released;
  }

  // Returns true when the fault fully handled (or swallowed) the request.
  async function applyFault(req, res, key) {
    const f = faults.get(key);
    if (!f || f.times <= 0) return false;
    f.times -= 1;
    if (f.times <= 0) faults.delete(key);
    switch (f.mode) {
      case 'hang':
        // Never answered; close() destroys the socket. The client giving up
        // on it closes the connection, which tests wait for.
        res.on('close', () => events.emit('hang-closed', { method: req.method, url: req.url }));
        events.emit('hang-open', { method: req.method, url: req.url });
        return true;
      case 'flood': {
        const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
        if (f.contentLength) headers['Content-Length'] = f.bytes;
        res.writeHead(200, headers);
        let sent = 0;
        res.on('close', () => events.emit('flood-end', { sent, bytes: f.bytes }));
        const pump = () => {
          while (sent < f.bytes && !res.destroyed) {
            const chunk = sent === 0 ? Buffer.concat([Buffer.from('{'), FLOOD_CHUNK.subarray(1)]) : FLOOD_CHUNK;
            const part = chunk.subarray(0, Math.min(chunk.length, f.bytes - sent));
            sent += part.length;
            if (!res.write(part)) return res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return true;
      }
      case 'drop':
        // A few bytes of a status line, then a reset: browsers retry a
        // request whose reused connection closed before any byte arrived,
        // but not one that got a broken response, so the client really sees
        // a network failure.
        req.socket.end('HTTP/1.1 5', () => req.socket.destroy());
        return true;
      case 'delay':
        await sleep(f.delayMs);
        return closed;
      case 'hold':
        // Answered normally once the test calls release(): the test, not a
        // timer, decides when the answer goes.
        await new Promise((resolve) => held.push({ key, resolve }));
        return closed;
      case 'status': {
        if (typeof f.body === 'string') {
          const payload = Buffer.from(f.body, 'utf8');
          res.writeHead(f.status, {
            'Content-Type': 'text/plain; charset=utf-8',
            'Cache-Control': 'no-store',
            'Content-Length': payload.length,
            ...f.headers,
          });
          res.end(payload);
        } else {
          sendJson(res, f.status, f.body, f.headers);
        }
        return true;
      }
      default:
        return false;
    }
  }

  // What the request log keeps of a request: never a body or a credential.
  // The values of SECRET_HEADERS become booleans; a refresh_token in the body
  // becomes its SHA-256 (tests match it against the token they hold).
  function logEntry(req, relPath, body) {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) if (!SECRET_HEADERS.has(name)) headers[name] = value;
    const entry = {
      method: req.method,
      path: relPath,
      url: req.url,
      headers,
      hasAuthorization: req.headers.authorization !== undefined,
      hasCsrf: req.headers['x-csrf-token'] !== undefined,
      at: Date.now(),
      status: null,
    };
    const refreshToken = UNSAFE_METHODS.has(req.method) ? body().value?.refresh_token : undefined;
    if (typeof refreshToken === 'string') entry.refreshTokenHash = sha256Hex(refreshToken);
    return entry;
  }

  // Why a request to the demo controls is refused, as [status, body], or null.
  // They change how the server answers everyone, so no other site may reach
  // them: the Origin must be the server's own (a request without one passes
  // only when it is not from a browser, which says Sec-Fetch-Site), and unsafe
  // requests must be JSON, which a cross-site form or text/plain beacon is not.
  function demoRefusal(req, unsafe) {
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    const sameOrigin = origin !== undefined
      ? ownOrigins.has(origin)
      : site === undefined || site === 'same-origin' || site === 'none';
    if (!sameOrigin) return [403, { detail: 'The demo controls take same-origin requests only', code: 'forbidden_origin' }];
    const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (unsafe && type !== 'application/json') {
      return [415, { detail: 'Content-Type must be application/json', code: 'unsupported_media_type' }];
    }
    return null;
  }

  async function handleApi(req, res, rawPath) {
    const relPath = rawPath.slice(API_PREFIX.length) || '/';
    const rawBody = RAW_BODY_ROUTES.has(relPath);
    const body = await readBody(req, rawBody ? FILE_BODY_LIMIT : BODY_LIMIT);
    if (!body || closed) return;
    let parsed;
    const jsonBody = () => (parsed ??= rawBody ? { value: {} } : parseJsonObject(body.bytes.toString('utf8')));
    if (requests || watchers.size) {
      const entry = logEntry(req, relPath, jsonBody);
      if (requests) {
        requests.push(entry);
        if (requests.length > REQUEST_LOG_CAP) requests.splice(0, requests.length - REQUEST_LOG_CAP);
        res.once('close', () => {
          entry.status = res.writableFinished ? res.statusCode : null;
        });
      }
      notifyWatchers(entry, res);
    }

    if (await applyFault(req, res, `${req.method} ${relPath}`)) return;
    if (req.method === 'OPTIONS') return preflight(res);
    if (body.tooLarge) return sendJson(res, 413, { detail: 'Request body too large', code: 'payload_too_large' });

    const isDemo = relPath.startsWith('/__demo/');
    if (isDemo && !controls) return sendJson(res, 404, { detail: 'Not found' });
    const unsafe = UNSAFE_METHODS.has(req.method);
    const refusal = isDemo ? demoRefusal(req, unsafe) : null;
    if (refusal) return sendJson(res, ...refusal);
    // Checked before routing: every unsafe request needs it.
    if (unsafe && !(await csrfAccepted(req))) {
      return sendJson(res, 403, { detail: 'CSRF token missing or invalid', code: 'csrf_invalid' });
    }
    const route = isDemo ? demoRoutes.get(relPath) : routes.get(relPath);
    if (!route) return sendJson(res, 404, { detail: 'Not found' });
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = route[method];
    if (!handler) {
      return sendJson(res, 405, { detail: 'Method not allowed' }, { Allow: Object.keys(route).join(', ') });
    }

    let args = {};
    if (unsafe && !rawBody) {
      const { value, error } = jsonBody();
      if (error) return sendJson(res, 400, { detail: error, code: 'bad_request' });
      args = value;
    }

    let result;
    try {
      result = await handler({ req, body: args, raw: body.bytes, ip: req.socket.remoteAddress || 'unknown' });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      result = json(err.status, err.body, err.headers);
    }
    if (!result || closed) return;
    if (result.bytes) sendBytes(res, result.status, result.bytes, result.headers);
    else sendJson(res, result.status, result.body, result.headers);
  }

  async function onRequest(req, res) {
    const started = Date.now();
    if (log) {
      res.on('close', () => {
        const status = res.writableFinished ? res.statusCode : 'aborted';
        process.stdout.write(`${new Date(started).toISOString()} ${req.method} ${String(req.url).slice(0, 200)} ${status} ${Date.now() - started}ms\n`);
      });
    }
    try {
      applyCors(req, res);
      const rawPath = requestPath(req.url);
      if (rawPath === null) return sendJson(res, 400, { detail: 'Bad request target', code: 'bad_request' });
      if (rawPath === API_PREFIX || rawPath.startsWith(API_PREFIX + '/')) {
        await handleApi(req, res, rawPath);
      } else if (req.method === 'OPTIONS') {
        preflight(res);
      } else {
        await serveStatic(req, res, staticRoot, rawPath, mounts);
      }
    } catch (err) {
      if (closed) {
        res.destroy();
        return;
      }
      if (err && err.code === 'storage_unavailable') {
        // The database is unreachable: a prompt, retryable refusal, never a
        // success that was not committed.
        if (log) process.stderr.write(`cleanslate: ${err.message}\n`);
        if (!res.headersSent) {
          sendJson(res, 503, { detail: 'Service temporarily unavailable', code: 'unavailable' }, { 'Retry-After': '1' });
        } else {
          res.destroy();
        }
        return;
      }
      if (log) process.stderr.write(`cleanslate server error: ${err && err.stack ? err.stack : err}\n`);
      if (!res.headersSent) sendJson(res, 500, { detail: 'Internal server error' });
      else res.destroy();
    }
  }

  // ---- server lifecycle --------------------------------------------------

  const server = http.createServer(onRequest);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(sweepTimer);
    await store.close();
    throw err;
  }

  const boundPort = server.address().port;
  const url = `http://127.0.0.1:${boundPort}`;
  // The origins the demo page is served from: the bound address, and its
  // loopback name (not rebindable by another site, unlike an arbitrary Host).
  ownOrigins = new Set([url, `http://localhost:${boundPort}`]);

  return {
    url,
    apiBase: url + API_PREFIX,
    port: boundPort,
    stats,
    requests,
    events,
    fault(routeKey, spec) {
      faults.set(parseRouteKey(routeKey), normaliseFault(spec));
    },
    clearFaults() {
      faults.clear();
      releaseHeld();
    },
    // Lets requests held by a 'hold' fault go on (those of routeKey, or all);
    // returns how many were waiting.
    release(routeKey) {
      return releaseHeld(routeKey);
    },
    // The next API request received from now on for which predicate(entry)
    // is true, as its request-log entry (whether or not recordRequests keeps
    // a log). Register before causing the request.
    waitForRequest(predicate) {
      return watch('received', predicate);
    },
    // The same request once its answer is written (or its connection is
    // gone): the log entry plus `status` (null when nothing was answered).
    waitForResponse(predicate) {
      return watch('answered', predicate);
    },
    // Moves the server's clock (token issue and expiry, CSRF expiry, refresh
    // expiry) forward by ms; returns the server's time in ms.
    advanceClock(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError('advanceClock: ms must be a finite number >= 0');
      clockOffset += ms;
      return nowMs();
    },
    // A new CSRF key, written to the key file: every CSRF token issued before is refused.
    rotateCsrfSecret() {
      const next = { ...keys, csrf_secret: newKey() };
      saveKeys(keyPath, next);
      keys = next;
      csrfKey = next.csrf_secret;
    },
    close() {
      if (!closing) {
        closing = (async () => {
          closed = true;
          clearInterval(sweepTimer);
          for (const t of timers) clearTimeout(t);
          timers.clear();
          releaseHeld(); // they see `closed` and give up
          for (const w of watchers) w.reject(new Error('server closed'));
          watchers.clear();
          const stopped = new Promise((resolve) => server.close(() => resolve()));
          for (const socket of sockets) socket.destroy();
          await stopped;
          await store.close();
        })();
      }
      return closing;
    },
  };
}

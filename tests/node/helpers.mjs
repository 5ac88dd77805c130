// Shared test harness: a reference backend on 127.0.0.1 with its own SQLite
// file (and its request log on), jsdom globals on globalThis (XMLHttpRequest,
// storage, events), recorders of the console and of the headers the client
// sends, and the ways a test waits: on auth:* events and on the
// server's hooks (waitForRequest, waitForResponse, advanceClock), each with a
// generous bound, never on a sleep. Each test file loads the built module once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after, beforeEach, afterEach } from 'node:test';
import { installDom, removeDom } from './jsdom-globals.mjs';
import { createSession } from '../../web/dist/cleanslate.mjs';
import { startServer } from '../../web/server/app.mjs';

export { createSession, SessionError } from '../../web/dist/cleanslate.mjs';
export { installDom, removeDom };

/** Starts the reference backend on an ephemeral port with a fresh database and its request log on. */
export async function startBackend(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cleanslate-test-'));
  const server = await startServer({ port: 0, dbPath: join(dir, 'test.sqlite'), recordRequests: true, ...options });
  const close = server.close.bind(server);
  server.dbPath = join(dir, 'test.sqlite');
  server.close = async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  };
  server.closeKeepingDb = close;
  return server;
}

/**
 * Registers the usual hooks of a test file: one backend for the file, a fresh
 * jsdom window (on the backend's origin) and no faults for each test, and the
 * sessions it made disposed after it. `suite.server` is set once the file starts.
 */
export function useBackend(backendOptions = {}, sessionDefaults = { logLevel: 'silent' }) {
  const suite = {
    server: null,
    sessions: [],
    async newSession(options = {}) {
      const session = await createSession({ apiBase: suite.server.apiBase, ...sessionDefaults, ...options });
      suite.sessions.push(session);
      return session;
    },
  };
  before(async () => {
    suite.server = await startBackend(backendOptions);
  });
  after(async () => {
    await suite.server.close();
  });
  beforeEach(() => {
    installDom(`${suite.server.url}/`);
    suite.server.clearFaults();
  });
  afterEach(() => {
    while (suite.sessions.length) suite.sessions.pop().dispose();
    removeDom();
  });
  return suite;
}

/** Records console output (log/info/warn/error/debug) until restore(). */
export function recordConsole() {
  const lines = [];
  const original = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    original[level] = console[level];
    console[level] = (...args) => lines.push({ level, text: args.map(String).join(' ') });
  }
  return {
    lines,
    texts: () => lines.map((l) => l.text),
    restore: () => Object.assign(console, original),
  };
}

/**
 * Records what the client hands the current window's XMLHttpRequest: one
 * { method, url, headers } per request (header names lower-case) until
 * restore(). For tests that must know which token a request carried: the
 * server's request log keeps no credentials.
 */
export function recordSentHeaders() {
  const proto = globalThis.XMLHttpRequest.prototype;
  const { open, setRequestHeader } = proto;
  const sent = [];
  const byRequest = new WeakMap();
  proto.open = function (method, url, ...rest) {
    const request = { method: String(method).toUpperCase(), url: String(url), headers: {} };
    sent.push(request);
    byRequest.set(this, request);
    return open.call(this, method, url, ...rest);
  };
  proto.setRequestHeader = function (name, value) {
    const request = byRequest.get(this);
    if (request) request.headers[String(name).toLowerCase()] = String(value);
    return setRequestHeader.call(this, name, value);
  };
  return {
    sent,
    restore: () => Object.assign(proto, { open, setRequestHeader }),
  };
}

/** Collects auth:* events fired on globalThis. */
export function recordEvents() {
  const events = [];
  const handler = (event) => events.push({ type: event.type, detail: event.detail, at: Date.now() });
  for (const type of ['auth:login', 'auth:logout', 'auth:refresh']) globalThis.addEventListener(type, handler);
  return events;
}

// Long enough for anything a test waits on to happen with every core busy;
// only a test that is broken ever waits this long.
export const WAIT_BOUND_MS = 20_000;

/**
 * Bounds a wait: settles as `promise` does, or rejects naming `what` after
 * `ms`. The bound only turns a hang into a failure; it never orders anything.
 */
export function within(promise, what, ms = WAIT_BOUND_MS) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the next `count` events of `type` fired on globalThis from now
 * on whose detail passes `where` (as recordEvents() records them). Call it
 * before doing what fires them.
 */
export function waitForEvent(type, { where = () => true, count = 1, ms } = {}) {
  const seen = [];
  const target = globalThis.window;
  let handler;
  const done = new Promise((resolve) => {
    handler = (event) => {
      if (!where(event.detail)) return;
      seen.push({ type: event.type, detail: event.detail, at: Date.now() });
      if (seen.length === count) resolve(seen);
    };
    target.addEventListener(type, handler);
  });
  return within(done, `${count} ${type} event(s)`, ms).finally(() => target.removeEventListener(type, handler));
}

/** Logs in and asserts that it worked, so that no test builds on a failed login. */
export async function assertLogin(session, email = 'userA@test.com', password = 'password') {
  const result = await session.login(email, password);
  assert.equal(result.success, true, `login as ${email}: ${JSON.stringify(result)}`);
  assert.equal(result.user.email, email);
  return result;
}

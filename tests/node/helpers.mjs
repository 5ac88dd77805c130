// Shared test harness: a reference backend on 127.0.0.1 with its own SQLite
// file, jsdom globals on globalThis (XMLHttpRequest, storage, events), and a
// console recorder. Each test file loads the built module once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after, beforeEach, afterEach } from 'node:test';
import { installDom, removeDom } from './jsdom-globals.mjs';
import { createSession } from '../../web/dist/cleanslate.mjs';
import { startServer } from '../../web/server/app.mjs';

export { createSession, SessionError } from '../../web/dist/cleanslate.mjs';
export { installDom, removeDom };

/** Starts the reference backend on an ephemeral port with a fresh database. */
export async function startBackend(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cleanslate-test-'));
  const server = await startServer({ port: 0, dbPath: join(dir, 'test.sqlite'), ...options });
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

/** Collects auth:* events fired on globalThis. */
export function recordEvents() {
  const events = [];
  const handler = (event) => events.push({ type: event.type, detail: event.detail, at: Date.now() });
  for (const type of ['auth:login', 'auth:logout', 'auth:refresh']) globalThis.addEventListener(type, handler);
  return events;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

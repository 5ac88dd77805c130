// A module that cannot be loaded makes createSession() reject with a
// SessionError('load_failed') that says why, never leaves it pending, and a
// later createSession() tries again. Each case imports its own copy of the
// built entry beside the wasm bytes under test (the entry caches its module
// per copy). No backend: loading needs none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installDom, removeDom } from './jsdom-globals.mjs';
import { within } from './helpers.mjs';

const dist = new URL('../../web/dist/', import.meta.url);
const realWasm = readFileSync(new URL('cleanslate.wasm', dist));
const OPTIONS = { apiBase: 'http://127.0.0.1:9/api/v1', logLevel: 'silent' };

let root;
let copies = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'cleanslate-load-'));
  installDom('http://127.0.0.1:9/');
});
after(() => {
  removeDom();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh copy of the entry with `wasm` beside it (none when null). */
async function entryWith(wasm) {
  const dir = join(root, String(++copies));
  mkdirSync(dir);
  copyFileSync(new URL('cleanslate.mjs', dist), join(dir, 'cleanslate.mjs'));
  if (wasm) writeFileSync(join(dir, 'cleanslate.wasm'), wasm);
  return { dir, entry: await import(pathToFileURL(join(dir, 'cleanslate.mjs')).href) };
}

async function assertLoadFails(entry, what) {
  const error = await within(entry.createSession(OPTIONS).then(() => null, (e) => e), `createSession with ${what}`);
  assert.ok(error instanceof entry.SessionError, `${what}: rejects with a SessionError (got ${error})`);
  assert.equal(error.code, 'load_failed', what);
  assert.match(error.message, /^The cleanslate module could not be loaded: \S/, what);
  return error;
}

test('corrupt wasm bytes reject createSession() with load_failed', async () => {
  const garbage = Buffer.from(realWasm);
  garbage.fill(0xa5, 8, 64); // a valid header, then nonsense
  const { entry } = await entryWith(garbage);
  await assertLoadFails(entry, 'corrupt bytes');
});

test('a truncated wasm rejects createSession() with load_failed', async () => {
  const { entry } = await entryWith(realWasm.subarray(0, realWasm.length >> 1));
  await assertLoadFails(entry, 'a truncated file');
});

test('a well-formed wasm that is not the core rejects createSession() with load_failed', async () => {
  // An empty module: it compiles and instantiates, but exports nothing.
  const { entry } = await entryWith(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  await assertLoadFails(entry, 'an empty module');
});

test('a missing wasm rejects createSession() with load_failed, and a later call tries again', async () => {
  const { dir, entry } = await entryWith(null);
  await assertLoadFails(entry, 'no file');
  writeFileSync(join(dir, 'cleanslate.wasm'), realWasm);
  const session = await within(entry.createSession(OPTIONS), 'createSession once the wasm is there');
  assert.equal(session.isAuthenticated(), false);
  session.dispose();
});
